import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { FileSecretStore } from "../../lib/secrets/file-store.ts";
import { SecretsManagerStore } from "../../lib/secrets/secrets-manager.ts";

const credentials = { username: "admin", password: "s3cret" };

describe("SecretsManagerStore", () => {
  const sm = mockClient(SecretsManagerClient);
  afterEach(() => sm.reset());

  it("creates the secret under the prefix and returns its ARN", async () => {
    sm.on(CreateSecretCommand).resolves({
      ARN: "arn:aws:secretsmanager:eu-west-1:1:secret:valence/podm/1-abc",
    });
    const store = new SecretsManagerStore(new SecretsManagerClient({ region: "eu-west-1" }), "valence/");

    const ref = await store.put("podm/1", credentials);

    expect(ref).toBe("arn:aws:secretsmanager:eu-west-1:1:secret:valence/podm/1-abc");
    const input = sm.commandCalls(CreateSecretCommand)[0]?.args[0].input;
    expect(input?.Name).toBe("valence/podm/1");
    expect(JSON.parse(input?.SecretString ?? "")).toEqual(credentials);
  });

  it("puts a new value when the secret exists", async () => {
    sm.on(CreateSecretCommand).rejects(new ResourceExistsException({ message: "exists", $metadata: {} }));
    sm.on(PutSecretValueCommand).resolves({ ARN: "arn:x" });
    const store = new SecretsManagerStore(new SecretsManagerClient({}), "valence/");

    expect(await store.put("podm/1", credentials)).toBe("arn:x");
    expect(sm.commandCalls(PutSecretValueCommand)[0]?.args[0].input.SecretId).toBe("valence/podm/1");
  });

  it("reads and validates a secret", async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(credentials) });
    const store = new SecretsManagerStore(new SecretsManagerClient({}), "valence/");
    expect(await store.get("arn:x")).toEqual(credentials);

    sm.on(GetSecretValueCommand).resolves({ SecretString: '{"username": "admin"}' });
    await expect(store.get("arn:x")).rejects.toThrow(/secret\.password/);
  });

  it("treats deleting a missing secret as done", async () => {
    sm.on(DeleteSecretCommand).rejects(new ResourceNotFoundException({ message: "gone", $metadata: {} }));
    const store = new SecretsManagerStore(new SecretsManagerClient({}), "valence/");
    await expect(store.delete("arn:x")).resolves.toBeUndefined();
  });
});

describe("FileSecretStore", () => {
  let dir = "";
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("creates the folders it needs with mode 0700", async () => {
    dir = await mkdtemp(join(tmpdir(), "valence-secrets-"));
    const store = new FileSecretStore(join(dir, "data", "nested", "secrets.json"));
    await store.put("a", credentials);

    expect((await stat(join(dir, "data"))).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, "data", "nested"))).mode & 0o777).toBe(0o700);
  });

  it("keeps secrets in a 0600 file and survives a new instance", async () => {
    dir = await mkdtemp(join(tmpdir(), "valence-secrets-"));
    const path = join(dir, "nested", "secrets.json");
    const store = new FileSecretStore(path);
    await Promise.all([store.put("a", credentials), store.put("b", { username: "u", password: "p" })]);

    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const reopened = new FileSecretStore(path);
    expect(await reopened.get("a")).toEqual(credentials);
    expect(await reopened.get("b")).toEqual({ username: "u", password: "p" });

    await reopened.delete("a");
    await reopened.delete("a");
    await expect(reopened.get("a")).rejects.toThrow(/not found/);
    expect(JSON.parse(await readFile(path, "utf8"))).toEqual({ b: { username: "u", password: "p" } });
  });
});
