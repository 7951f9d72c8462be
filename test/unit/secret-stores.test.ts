import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FileSecretStore } from "../../lib/secrets/file-store.ts";
import { SecretsManagerStore, secretsManagerApi } from "../../lib/secrets/secrets-manager.ts";
import { refusal, type SecretsManagerHandler, secretsManagerFetch } from "../support/secrets-manager-wire.ts";

const credentials = { username: "admin", password: "s3cret" };
const KEYS = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };

/** A store whose requests reach `handler` as Secrets Manager's JSON protocol, signed. */
function storeAnswering(handler: SecretsManagerHandler) {
  const wire = secretsManagerFetch(handler);
  const api = secretsManagerApi({ region: "eu-west-1", credentials: KEYS, fetch: wire.fetch });
  return { store: new SecretsManagerStore(api, "valence/"), requests: wire.requests };
}

describe("SecretsManagerStore", () => {
  it("creates the secret under the prefix with a signed CreateSecret, and returns its ARN", async () => {
    const { store, requests } = storeAnswering(() => ({
      ARN: "arn:aws:secretsmanager:eu-west-1:1:secret:valence/podm/1-abc",
    }));

    const ref = await store.put("podm/1", credentials);

    expect(ref).toBe("arn:aws:secretsmanager:eu-west-1:1:secret:valence/podm/1-abc");
    expect(requests.map((request) => request.action)).toEqual(["CreateSecret"]);
    const [request] = requests;
    expect(request?.url).toBe("https://secretsmanager.eu-west-1.amazonaws.com/");
    expect(request?.headers["content-type"]).toBe("application/x-amz-json-1.1");
    expect(request?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/secretsmanager\/aws4_request, SignedHeaders=.*x-amz-target/,
    );
    expect(request?.input.Name).toBe("valence/podm/1");
    expect(JSON.parse(String(request?.input.SecretString))).toEqual(credentials);
  });

  it("puts a new value when the secret exists", async () => {
    const { store, requests } = storeAnswering((action) => {
      if (action === "CreateSecret") throw refusal("ResourceExistsException");
      return { ARN: "arn:x" };
    });

    expect(await store.put("podm/1", credentials)).toBe("arn:x");
    expect(requests.map((request) => [request.action, request.input.SecretId])).toEqual([
      ["CreateSecret", undefined],
      ["PutSecretValue", "valence/podm/1"],
    ]);
  });

  it("reads and validates a secret", async () => {
    let value = JSON.stringify(credentials);
    const { store, requests } = storeAnswering(() => ({ SecretString: value }));
    expect(await store.get("arn:x")).toEqual(credentials);
    expect(requests[0]).toMatchObject({ action: "GetSecretValue", input: { SecretId: "arn:x" } });

    value = '{"username": "admin"}';
    await expect(store.get("arn:x")).rejects.toThrow(/secret\.password/);
  });

  it("treats deleting a missing secret as done, and any other refusal as an error named by its type", async () => {
    const gone = storeAnswering(() => {
      throw refusal("ResourceNotFoundException", "gone");
    });
    await expect(gone.store.delete("arn:x")).resolves.toBeUndefined();
    expect(gone.requests[0]?.input).toEqual({ SecretId: "arn:x", ForceDeleteWithoutRecovery: true });

    const denied = storeAnswering(() => {
      throw refusal("AccessDeniedException");
    });
    await expect(denied.store.delete("arn:x")).rejects.toMatchObject({
      name: "AccessDeniedException",
      message: expect.stringContaining("DeleteSecret"),
    });
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
