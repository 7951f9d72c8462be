import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { addressPolicy } from "../../lib/net/address-policy.ts";
import type { PodManager } from "../../lib/podmanagers/model.ts";
import {
  EXCLUDED_PASSWORD_CHARACTERS,
  PodManagerSecretRotation,
  type RotationStep,
  redfishPodManagerAccounts,
} from "../../lib/podmanagers/rotation.ts";
import { SecretsManagerRotatingSecrets } from "../../lib/secrets/rotation.ts";
import { type RedfishEmulator, startRedfishEmulator } from "../../local/redfish-emulator/index.ts";
import { type FakeRotatingSecret, fakeRotatingSecret } from "../support/rotating-secret.ts";

/**
 * A rotation of a pod manager's secret against the emulator over HTTP, its steps called as Secrets Manager calls
 * them, Secrets Manager itself behind aws-sdk-client-mock (versions and staging labels kept as the service does).
 */

const PODM_UUID = "2b0f8f4e-3d7c-4a61-9a59-0c7c4d1e9f10";
const SECRET_NAME = `valence/podm/${PODM_UUID}`;
const CALLER = { requestId: "req-1", principal: "arn:aws:lambda:eu-west-1:123456789012:function:rotate" };
const STEPS: RotationStep[] = ["createSecret", "setSecret", "testSecret", "finishSecret"];

describe("PodManagerSecretRotation against the Redfish emulator", () => {
  let emulator: RedfishEmulator;
  let secret: FakeRotatingSecret;
  let resynced: string[];
  let podm: PodManager;
  let rotation: PodManagerSecretRotation;
  let timeoutMs: number | undefined;

  beforeAll(async () => {
    emulator = await startRedfishEmulator();
  });
  afterAll(async () => {
    await emulator.close();
  });
  beforeEach(() => {
    emulator.reset();
    secret = fakeRotatingSecret({ name: SECRET_NAME, value: { username: "admin", password: "admin" } });
    resynced = [];
    timeoutMs = undefined;
    podm = {
      uuid: PODM_UUID,
      name: "pod-1",
      url: emulator.url,
      driver: "redfish",
      verify_ca: true,
      status: "online",
      username: "admin",
      credentials_ref: secret.arn,
      created_at: "2026-01-01T00:00:00.000Z",
      updated_at: "2026-01-01T00:00:00.000Z",
      version: 1,
    };
    const policy = addressPolicy({ allowHttp: true, allowLoopback: true });
    rotation = new PodManagerSecretRotation({
      secrets: new SecretsManagerRotatingSecrets(secret.client),
      podManagers: { get: async (uuid) => (uuid === podm.uuid ? podm : undefined) },
      accounts: {
        // A getter so a test can shorten the pod-manager timeout for one step.
        accepts: (p, c) => redfishPodManagerAccounts({ addressPolicy: policy, timeoutMs }).accepts(p, c),
        changePassword: (p, c, n) =>
          redfishPodManagerAccounts({ addressPolicy: policy, timeoutMs }).changePassword(p, c, n),
      },
      resync: async (uuid, caller) => {
        expect(caller).toEqual(CALLER);
        resynced.push(uuid);
      },
      secretPrefix: "valence/",
    });
  });
  afterEach(() => {
    secret.restore();
  });

  const step = (name: RotationStep, token: string) =>
    rotation.run({ step: name, secretId: secret.arn, token, caller: CALLER });

  /** Whether the emulator opens a session for admin with this password. */
  async function logsIn(password: string): Promise<boolean> {
    const response = await fetch(`${emulator.url}/redfish/v1/SessionService/Sessions`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ UserName: "admin", Password: password }),
    });
    return response.status === 201;
  }

  const patches = () =>
    emulator.requests.filter((request) => request.method === "PATCH" && request.path.includes("/Accounts/"));

  it("rotates: the pod manager takes only the new password, AWSCURRENT holds it, the nodes are re-synced", async () => {
    const token = secret.startRotation();
    for (const name of STEPS) await step(name, token);

    const rotated = secret.current();
    expect(rotated.username).toBe("admin");
    expect(rotated.password).not.toBe("admin");
    expect(secret.stagesOf(token)).toContain("AWSCURRENT");
    expect(await logsIn(rotated.password)).toBe(true);
    expect(await logsIn("admin")).toBe(false);
    expect(patches()).toHaveLength(1);
    expect(resynced).toEqual([PODM_UUID]);
    expect(secret.passwordRequests).toEqual([
      expect.objectContaining({ ExcludeCharacters: EXCLUDED_PASSWORD_CHARACTERS, PasswordLength: 20 }),
    ]);
  });

  it("rotates on a pod manager that refuses sessions: Basic with the old password is refused afterwards", async () => {
    emulator.switches.sessionsEnabled = false;
    const token = secret.startRotation();
    for (const name of STEPS) await step(name, token);

    const basic = (password: string) =>
      fetch(`${emulator.url}/redfish/v1/Systems`, {
        headers: { Authorization: `Basic ${Buffer.from(`admin:${password}`).toString("base64")}` },
      }).then((response) => response.status);
    expect(await basic(secret.current().password)).toBe(200);
    expect(await basic("admin")).toBe(401);
    expect(emulator.requests.filter((request) => request.auth === "session")).toEqual([]);
  });

  it("repeats any step harmlessly: one password generated, one change on the pod manager", async () => {
    const token = secret.startRotation();
    for (const name of STEPS) {
      await step(name, token);
      await step(name, token);
    }

    expect(secret.passwordRequests).toHaveLength(1);
    expect(patches()).toHaveLength(1);
    expect(await logsIn(secret.current().password)).toBe(true);
    expect(await logsIn("admin")).toBe(false);
  });

  it("keeps the old password on the pod manager and in AWSCURRENT when the pod manager refuses the change", async () => {
    emulator.switches.refusePasswordChange = true;
    const token = secret.startRotation();
    await step("createSecret", token);

    await expect(step("setSecret", token)).rejects.toThrow(/Accounts\/1 \(Password\) answered 400/);

    expect(secret.current().password).toBe("admin");
    expect(secret.stagesOf(token)).toEqual(["AWSPENDING"]);
    expect(await logsIn("admin")).toBe(true);
    expect(resynced).toEqual([]);
  });

  it("recovers from a failure after setSecret: a retry changes nothing more and completes the rotation", async () => {
    const token = secret.startRotation();
    await step("createSecret", token);
    await step("setSecret", token);
    const pending = "Rotated-1-Zq9x!";
    expect(await logsIn(pending)).toBe(true);

    // testSecret cannot reach the pod manager: the rotation stops with the new password set but not promoted.
    emulator.switches.latencyMs = 3_000;
    timeoutMs = 300;
    await expect(step("testSecret", token)).rejects.toThrow(/timed out/);
    expect(secret.current().password).toBe("admin");
    expect(resynced).toEqual([]);

    // Secrets Manager retries the rotation with the same token.
    emulator.switches.latencyMs = 0;
    timeoutMs = undefined;
    for (const name of STEPS) await step(name, token);

    expect(patches()).toHaveLength(1);
    expect(secret.current().password).toBe(pending);
    expect(await logsIn(pending)).toBe(true);
    expect(await logsIn("admin")).toBe(false);
    expect(resynced).toEqual([PODM_UUID]);
  });

  it("fails testSecret, promoting nothing, when the pod manager still takes only the old password", async () => {
    const token = secret.startRotation();
    await step("createSecret", token);
    // setSecret skipped: as if the pod manager had answered the PATCH without applying it.

    await expect(step("testSecret", token)).rejects.toThrow(
      /refuses the new password and still takes the current/,
    );

    expect(secret.current().password).toBe("admin");
    expect(await logsIn("admin")).toBe(true);
  });

  it("re-syncs again when finishSecret is retried after the version became current", async () => {
    const token = secret.startRotation();
    for (const name of STEPS) await step(name, token);
    await step("finishSecret", token);
    expect(resynced).toEqual([PODM_UUID, PODM_UUID]);
  });

  it("promotes even when the re-sync fails, and fails the step so the failure is seen", async () => {
    const token = secret.startRotation();
    for (const name of STEPS.slice(0, 3)) await step(name, token);
    const failing = new PodManagerSecretRotation({
      secrets: new SecretsManagerRotatingSecrets(secret.client),
      podManagers: { get: async () => podm },
      accounts: redfishPodManagerAccounts({
        addressPolicy: addressPolicy({ allowHttp: true, allowLoopback: true }),
      }),
      resync: async () => {
        throw new Error("Ironic unavailable");
      },
      secretPrefix: "valence/",
    });

    await expect(
      failing.run({ step: "finishSecret", secretId: secret.arn, token, caller: CALLER }),
    ).rejects.toThrow("Ironic unavailable");
    expect(secret.stagesOf(token)).toContain("AWSCURRENT");
  });

  it("tests the configuration with the current password when Secrets Manager runs testSecret alone", async () => {
    const token = secret.startRotation();
    await expect(step("testSecret", token)).resolves.toBeUndefined();

    const basic = `Basic ${Buffer.from("admin:admin").toString("base64")}`;
    await fetch(`${emulator.url}/redfish/v1/AccountService/Accounts/1`, {
      method: "PATCH",
      headers: { Authorization: basic, "Content-Type": "application/json" },
      body: JSON.stringify({ Password: "changed-by-hand" }),
    });
    await expect(step("testSecret", token)).rejects.toThrow(/refuses the current password/);
    expect(secret.current().password).toBe("admin");
  });

  it("refuses a secret without rotation, a version not pending, and a secret of no pod manager", async () => {
    const token = secret.startRotation();
    await expect(step("createSecret", "no-such-version")).rejects.toThrow(/has no version no-such-version/);

    secret.rotationEnabled = false;
    await expect(step("createSecret", token)).rejects.toThrow(/does not have rotation enabled/);
    secret.rotationEnabled = true;

    podm = { ...podm, credentials_ref: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:other" };
    await expect(step("createSecret", token)).rejects.toThrow(/keeps its credentials in another secret/);

    const foreign = fakeRotatingSecret({ name: "other/thing", value: { username: "a", password: "b" } });
    const foreignRotation = new PodManagerSecretRotation({
      secrets: new SecretsManagerRotatingSecrets(foreign.client),
      podManagers: { get: async () => podm },
      accounts: redfishPodManagerAccounts({}),
      resync: async () => undefined,
      secretPrefix: "valence/",
    });
    await expect(
      foreignRotation.run({
        step: "createSecret",
        secretId: foreign.arn,
        token: foreign.startRotation(),
        caller: CALLER,
      }),
    ).rejects.toThrow(/is not a pod-manager secret/);
    foreign.restore();
    expect(emulator.requests).toEqual([]);
  });
});
