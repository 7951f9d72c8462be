import { randomUUID } from "node:crypto";
import type { Context } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { handler } from "../../functions/rotate-pod-manager-secret.ts";
import { config, useConfig } from "../../lib/config.ts";
import { createIronicDriver, type IronicDriver } from "../../lib/ironic/index.ts";
import type { OperationView } from "../../lib/operations/model.ts";
import { podManagerRepository } from "../../lib/runtime/store.ts";
import { type RedfishEmulator, startRedfishEmulator } from "../../local/redfish-emulator/index.ts";
import { powers } from "../support/ironic-power.ts";
import { composeNode, startTestApi, type TestApi } from "../support/local-api.ts";
import { followOperation } from "../support/operations.ts";
import { type FakeRotatingSecret, fakeRotatingSecret } from "../support/rotating-secret.ts";

const FIRST = { username: "admin", password: "Before-rotation-9d2c" };
const NODES = ["rotated-a", "rotated-b"];
const PREFIX = "valence/Rotation/";

const context = (): Context =>
  ({
    awsRequestId: randomUUID(),
    invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:rotate-pod-manager-secret",
    functionName: "rotate-pod-manager-secret",
    getRemainingTimeInMillis: () => 60_000,
  }) as unknown as Context;

/**
 * A whole rotation of a pod manager's password, as Secrets Manager runs it (the rotation function's handler, one
 * event per step; Secrets Manager behind aws-sdk-client-mock, for the API's secret store as for the rotation),
 * against the real Ironic, the emulator over HTTP and dynalite: at the end the pod manager, the secret and Ironic
 * agree on the new password — Ironic powers every registered node with it.
 */
describe("a rotated pod-manager password reaches Ironic (real Ironic, emulator, dynalite)", () => {
  let api: TestApi;
  let ironic: IronicDriver;
  let emulator: RedfishEmulator;
  let secret: FakeRotatingSecret;
  let podmId: string;
  const ironicNodes: string[] = [];

  const login = async (password: string) => {
    const response = await fetch(`${emulator.url}/redfish/v1/SessionService/Sessions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ UserName: FIRST.username, Password: password }),
    });
    await response.body?.cancel();
    return response.status;
  };

  const ironicPowers = (ironicNodeUuid: string, target: "power on" | "power off") =>
    powers(api.stack.ironicUrl as string, ironic, ironicNodeUuid, target);

  beforeAll(async () => {
    emulator = await startRedfishEmulator(FIRST);
    api = await startTestApi({ ironic: "start" });
    ironic = createIronicDriver({ url: api.stack.ironicUrl as string, auth: { type: "none" } });
    podmId = randomUUID();
    secret = fakeRotatingSecret({ name: `${PREFIX}podm/${podmId}`, value: FIRST, everyClient: true });
    // The deployment's secret store: Secrets Manager, where the rotation happens. The API and the workflow reach
    // it by signed requests (to the fake's HTTP face), the rotation function through the SDK (mocked).
    vi.stubEnv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    useConfig({
      ...config(),
      VALENCE_SECRET_STORE: "secretsmanager",
      VALENCE_SECRET_PREFIX: PREFIX,
      SECRETS_MANAGER_ENDPOINT: await secret.serve(),
    });
    await podManagerRepository().create({
      uuid: podmId,
      name: "rotated-podm",
      url: emulator.url,
      driver: "redfish",
      verify_ca: false,
      status: "online",
      username: FIRST.username,
      credentials_ref: secret.arn,
    });
    for (const name of NODES) {
      await composeNode(api, podmId, name);
      const registered = await api.call("POST", `/v1/nodes/${name}/register`, {});
      expect(registered.status, registered.text).toBe(200);
      ironicNodes.push(registered.body.ironic_node_uuid);
    }
  });

  afterAll(async () => {
    vi.unstubAllEnvs();
    secret?.restore();
    await api?.stop();
    await emulator?.close();
  });

  it("ends with the pod manager, the secret and every Ironic node on the new password", async () => {
    // Registering read the pod manager's credentials by signed requests, not through the SDK.
    expect(secret.servedActions).toContain("GetSecretValue");
    for (const node of ironicNodes) await ironicPowers(node, "power on");
    const token = secret.startRotation();
    for (const Step of ["createSecret", "setSecret", "testSecret", "finishSecret"]) {
      await handler({ Step, SecretId: secret.arn, ClientRequestToken: token }, context());
    }

    const rotated = secret.current().password;
    expect(rotated).not.toBe(FIRST.password);
    expect(secret.stagesOf(token)).toContain("AWSCURRENT");
    expect(await login(FIRST.password)).toBe(401);
    expect(await login(rotated)).toBe(201);

    // finishSecret started the pod manager's re-sync: it carried the new password into each node's driver_info.
    const operations = await api.call<OperationView[]>("GET", `/v1/pod_managers/${podmId}/operations`);
    expect(operations.status, operations.text).toBe(200);
    expect(operations.body.map((operation) => operation.kind)).toEqual(["resync"]);
    const resync = await followOperation(api.call, operations.body[0]?.id as string);
    expect(resync.state, JSON.stringify(resync)).toBe("succeeded");
    expect(resync.steps.map((step) => step.state)).toEqual(NODES.map(() => "succeeded"));

    // Ironic drives the nodes with what it holds: only the new password opens the pod manager now.
    for (const node of ironicNodes) await ironicPowers(node, "power off");
  });
});
