import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parseConfig } from "../../lib/config.ts";
import { ironicDriverFor } from "../../lib/runtime/ironic.ts";
import { secretStoreFor } from "../../lib/runtime/secrets.ts";
import { SecretsManagerStore, secretsManagerApi } from "../../lib/secrets/secrets-manager.ts";
import { ironicNode, ironicRoot } from "../support/openstack.ts";
import { refusal, type SecretsManagerHandler, secretsManagerFetch } from "../support/secrets-manager-wire.ts";

const credentials = { username: "admin", password: "s3cret" };
const ARN = "arn:aws:secretsmanager:eu-west-1:1:secret:valence/podm/1-abc";
const ROTATION = { lambdaArn: "arn:aws:lambda:eu-west-1:1:function:rotate", days: 30 };
const KEYS = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };

function apiAnswering(handler: SecretsManagerHandler) {
  const wire = secretsManagerFetch(handler);
  return { api: secretsManagerApi({ region: "eu-west-1", credentials: KEYS, fetch: wire.fetch }), ...wire };
}

const actions = (requests: Array<{ action: string }>) => requests.map((request) => request.action);

describe("SecretsManagerStore with rotation on", () => {
  it("turns rotation on for a secret it creates, first rotation on the schedule", async () => {
    const { api, requests } = apiAnswering(() => ({ ARN }));
    const store = new SecretsManagerStore(api, "valence/", ROTATION);

    expect(await store.put("podm/1", credentials)).toBe(ARN);

    expect(
      requests.filter((request) => request.action === "RotateSecret").map((request) => request.input),
    ).toEqual([
      {
        SecretId: ARN,
        RotationLambdaARN: ROTATION.lambdaArn,
        RotationRules: { AutomaticallyAfterDays: 30 },
        RotateImmediately: false,
      },
    ]);
  });

  it("deletes the secret it created when rotation cannot be turned on, and says why", async () => {
    const { api, requests } = apiAnswering((action) => {
      if (action === "RotateSecret") throw refusal("AccessDeniedException", "secretsmanager:RotateSecret");
      return { ARN };
    });
    const store = new SecretsManagerStore(api, "valence/", ROTATION);

    await expect(store.put("podm/1", credentials)).rejects.toThrow(/RotateSecret/);
    expect(actions(requests)).toEqual(["CreateSecret", "RotateSecret", "DeleteSecret"]);
    expect(requests[2]?.input).toMatchObject({ SecretId: ARN });
  });

  it("leaves rotation alone when it only puts a new value, or when rotation is off", async () => {
    const existing = apiAnswering((action) => {
      if (action === "CreateSecret") throw refusal("ResourceExistsException");
      return { ARN };
    });
    await new SecretsManagerStore(existing.api, "valence/", ROTATION).put("podm/1", credentials);
    expect(actions(existing.requests)).toEqual(["CreateSecret", "PutSecretValue"]);

    const off = apiAnswering(() => ({ ARN }));
    await new SecretsManagerStore(off.api, "valence/").put("podm/2", credentials);
    expect(actions(off.requests)).toEqual(["CreateSecret"]);
  });
});

describe("secretStoreFor", () => {
  beforeEach(() => {
    vi.stubEnv("AWS_ACCESS_KEY_ID", KEYS.accessKeyId);
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", KEYS.secretAccessKey);
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.unstubAllEnvs();
  });

  it("turns rotation on when the deployment names the rotation function and its schedule, and only then", async () => {
    const wire = secretsManagerFetch(() => ({ ARN }));
    vi.stubGlobal("fetch", wire.fetch);

    await secretStoreFor(parseConfig({ VALENCE_SECRET_ROTATION_LAMBDA_ARN: ROTATION.lambdaArn })).put(
      "podm/1",
      credentials,
    );
    expect(actions(wire.requests)).toEqual(["CreateSecret"]);

    await secretStoreFor(
      parseConfig({
        VALENCE_SECRET_ROTATION_LAMBDA_ARN: ROTATION.lambdaArn,
        VALENCE_SECRET_ROTATION_DAYS: "7",
      }),
    ).put("podm/2", credentials);
    expect(wire.requests.find((request) => request.action === "RotateSecret")?.input).toMatchObject({
      RotationLambdaARN: ROTATION.lambdaArn,
      RotationRules: { AutomaticallyAfterDays: 7 },
    });
  });

  it("reaches Secrets Manager at SECRETS_MANAGER_ENDPOINT when set, else at the region's endpoint", async () => {
    const wire = secretsManagerFetch(() => ({ SecretString: JSON.stringify(credentials) }));
    vi.stubGlobal("fetch", wire.fetch);

    await secretStoreFor(parseConfig({ AWS_REGION: "eu-central-1" })).get("arn:x");
    await secretStoreFor(parseConfig({ SECRETS_MANAGER_ENDPOINT: "http://127.0.0.1:4566" })).get("arn:x");

    expect(wire.requests.map((request) => request.url)).toEqual([
      "https://secretsmanager.eu-central-1.amazonaws.com/",
      "http://127.0.0.1:4566/",
    ]);
  });
});

describe("ironicDriverFor with IRONIC_SECRET_ARN", () => {
  beforeEach(() => {
    vi.stubEnv("AWS_ACCESS_KEY_ID", KEYS.accessKeyId);
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", KEYS.secretAccessKey);
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.unstubAllEnvs();
  });

  it("reads Ironic's credentials from the secret by a signed GetSecretValue and sends them to Ironic", async () => {
    const secretArn = "arn:aws:secretsmanager:eu-west-1:1:secret:ironic/valence-AbCdEf";
    const secrets = secretsManagerFetch(() => ({
      SecretString: JSON.stringify({ username: "valence", password: "Ironic-Pw-51" }),
    }));
    const ironicAuth: Array<string | null> = [];
    vi.stubGlobal("fetch", async (url: URL | string, init?: RequestInit) => {
      if (String(url).startsWith("https://secretsmanager.")) return secrets.fetch(url, init);
      ironicAuth.push(new Headers(init?.headers).get("authorization"));
      return new URL(String(url)).pathname === "/" ? ironicRoot() : Response.json(ironicNode({ name: "n1" }));
    });

    const driver = await ironicDriverFor(
      parseConfig({
        AWS_REGION: "eu-west-1",
        IRONIC_URL: "http://ironic.test:6385",
        IRONIC_AUTH_TYPE: "http_basic",
        IRONIC_SECRET_ARN: secretArn,
      }),
    );
    await driver.getNode("n1");

    expect(secrets.requests).toMatchObject([{ action: "GetSecretValue", input: { SecretId: secretArn } }]);
    expect(ironicAuth.at(-1)).toBe(`Basic ${Buffer.from("valence:Ironic-Pw-51").toString("base64")}`);
  });
});
