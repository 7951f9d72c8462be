import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { CfnResource } from "aws-cdk-lib";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROTATION_FUNCTION } from "../../infra/catalog.ts";
import type { ValenceFunction } from "../../infra/constructs/valence-function.ts";
import { ensureTable, type LocalDynamo, startDynalite } from "../../local/dynalite.ts";
import { logicalIdOf, type Synthesized, synthesize } from "./support.ts";

/**
 * Runs code in a fresh Node process, as Lambda's runtime would: Node's own ESM loader (Vitest transforms what
 * it imports), only the environment we pass, `--enable-source-maps` as the stack sets it. The child reports on
 * file descriptor 3, so the functions' JSON logs on stdout cannot get in the way.
 */
function runInNode(code: string, args: string[], env: Record<string, string>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--enable-source-maps", "--input-type=module", "-e", code, ...args],
      {
        env: { PATH: process.env.PATH ?? "", ...env },
        stdio: ["ignore", "pipe", "pipe", "pipe"],
      },
    );
    let report = "";
    let stderr = "";
    child.stdio[3]?.on("data", (chunk: Buffer) => {
      report += chunk.toString("utf8");
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    child.stdout?.resume();
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0 && report) resolve(JSON.parse(report));
      else reject(new Error(`node exited with ${code}: ${stderr}`));
    });
  });
}

/** Imports every bundle and reports what it exports. */
const IMPORT_ALL = `
import { writeSync } from "node:fs";
const report = {};
for (const url of process.argv.slice(1)) {
  const module = await import(url);
  report[url] = Object.keys(module).map((name) => name + ":" + typeof module[name]);
}
writeSync(3, JSON.stringify(report));
`;

/** Imports one bundle and calls its handler with one event. */
const INVOKE = `
import { writeSync } from "node:fs";
const [url, eventJson, name] = process.argv.slice(1);
const { handler } = await import(url);
const deadline = Date.now() + 30000;
const context = {
  functionName: name, functionVersion: "$LATEST", awsRequestId: crypto.randomUUID(),
  invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:" + name, memoryLimitInMB: "512",
  logGroupName: "/aws/lambda/" + name, logStreamName: "test", callbackWaitsForEmptyEventLoop: false,
  getRemainingTimeInMillis: () => deadline - Date.now(),
};
const result = await handler(JSON.parse(eventJson), context);
writeSync(3, JSON.stringify(result));
process.exit(0);
`;

/** Every bundled function but the workflow's (its own test): the API's, the scheduled ones, the secret rotation. */
function functionsOf(synth: Synthesized): Map<string, ValenceFunction> {
  const all = new Map(synth.stack.functions);
  const rotation = synth.stack.secretRotation;
  if (rotation) all.set(ROTATION_FUNCTION.handler, rotation.fn);
  return all;
}

/** The directory CDK staged a function's bundle in: `asset.<hash>`, named by the template's S3 key. */
function bundleDirectory(synth: Synthesized, handler: string): string {
  const fn = functionsOf(synth).get(handler);
  if (!fn) throw new Error(`no function for ${handler}`);
  const id = logicalIdOf(synth.stack, fn.function.node.defaultChild as CfnResource);
  const key = synth.json.Resources[id]?.Properties?.Code.S3Key as string;
  return join(synth.outdir, `asset.${key.replace(/\.zip$/, "")}`);
}

/** An API Gateway HTTP API (payload 2.0) event, as API Gateway sends it after IAM authorization. */
function httpEvent(
  method: string,
  routePath: string,
  path: string,
  options: { body?: string; pathParameters?: Record<string, string> } = {},
) {
  const requestId = randomUUID();
  return {
    version: "2.0",
    routeKey: `${method} ${routePath}`,
    rawPath: path,
    rawQueryString: "",
    headers: { host: "abc123.execute-api.eu-west-1.amazonaws.com", "content-type": "application/json" },
    ...(options.pathParameters ? { pathParameters: options.pathParameters } : {}),
    requestContext: {
      accountId: "123456789012",
      apiId: "abc123",
      authorizer: { iam: { userArn: "arn:aws:iam::123456789012:user/operator", userId: "AIDAEXAMPLE" } },
      domainName: "abc123.execute-api.eu-west-1.amazonaws.com",
      domainPrefix: "abc123",
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "192.0.2.1", userAgent: "vitest" },
      requestId,
      routeKey: `${method} ${routePath}`,
      stage: "$default",
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    ...(options.body === undefined ? {} : { body: options.body }),
    isBase64Encoded: false,
  };
}

const parse = (result: APIGatewayProxyStructuredResultV2) => ({
  status: result.statusCode,
  headers: result.headers ?? {},
  body: result.body === undefined ? undefined : JSON.parse(result.body),
});

describe("the bundled functions, loaded as Lambda loads them", () => {
  let synth: Synthesized;
  let dynamo: LocalDynamo;
  let secretsFile: string;
  let env: Record<string, string>;
  const sizes = new Map<string, number>();
  const bundleUrl = (handler: string) =>
    pathToFileURL(join(bundleDirectory(synth, handler), "index.mjs")).href;

  const call = async (handler: string, event: ReturnType<typeof httpEvent>) =>
    parse(
      (await runInNode(
        INVOKE,
        [bundleUrl(handler), JSON.stringify(event), handler],
        env,
      )) as APIGatewayProxyStructuredResultV2,
    );

  beforeAll(async () => {
    synth = synthesize({ stackName: "ValenceBundleTest", bundle: true, nag: false });
    dynamo = await startDynalite();
    const tableName = `valence-${randomUUID().slice(0, 8)}`;
    await ensureTable(dynamo.endpoint, tableName);
    secretsFile = join(mkdtempSync(join(tmpdir(), "valence-secrets-")), "secrets.json");
    // What the stack's environment would say, pointed at dynalite and a local secret file.
    env = {
      AWS_REGION: "us-east-1",
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      VALENCE_TABLE_NAME: tableName,
      VALENCE_SECRET_STORE: "file",
      VALENCE_SECRETS_FILE: secretsFile,
      VALENCE_PODM_TIMEOUT_MS: "2000",
      VALENCE_PODM_ALLOW_HTTP: "true",
      VALENCE_PODM_ALLOW_LOOPBACK: "true",
      POWERTOOLS_SERVICE_NAME: "valence",
      POWERTOOLS_LOG_LEVEL: "WARN",
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    };
    for (const handler of functionsOf(synth).keys()) {
      sizes.set(handler, statSync(join(bundleDirectory(synth, handler), "index.mjs")).size);
    }
    const report = Object.fromEntries([...sizes].map(([handler, bytes]) => [handler, bytes]));
    mkdirSync(".test-results", { recursive: true });
    writeFileSync(".test-results/bundle-sizes.json", `${JSON.stringify(report, null, 2)}\n`);
    console.info(
      [...sizes]
        .map(([handler, bytes]) => `${handler.padEnd(22)} ${(bytes / 1024).toFixed(0).padStart(6)} KB`)
        .join("\n"),
    );
  });

  afterAll(async () => {
    await dynamo?.close();
  });

  it("loads every bundle in plain Node, each exporting one function: handler", async () => {
    const handlers = [...functionsOf(synth).keys()];
    expect(handlers).toContain(ROTATION_FUNCTION.handler);
    const exports = (await runInNode(IMPORT_ALL, handlers.map(bundleUrl), env)) as Record<string, string[]>;
    for (const handler of handlers)
      expect(exports[bundleUrl(handler)], handler).toEqual(["handler:function"]);
  });

  it("stages one minified ESM bundle with a source map per function", () => {
    for (const handler of functionsOf(synth).keys()) {
      const directory = bundleDirectory(synth, handler);
      expect(existsSync(join(directory, "index.mjs.map")), `${handler} source map`).toBe(true);
      const code = readFileSync(join(directory, "index.mjs"), "utf8");
      expect(code.startsWith("import { createRequire } from 'module';"), `${handler} banner`).toBe(true);
      // Minified: long lines (only multi-line string literals keep their newlines).
      const lines = code.split("\n").length;
      expect(code.length / lines, `${handler} minified`).toBeGreaterThan(1000);
    }
  });

  /**
   * 400 KB per function, Powertools' logger in each. The rotation function alone carries the Secrets Manager
   * client (the others reach Secrets Manager by signed requests, `lib/secrets/secrets-manager.ts`).
   */
  const BUDGET_KB = 400;

  it("keeps every API function within the budget, 400 KB (the durable SDK stays in the workflow's bundle)", () => {
    const over = [...sizes]
      .filter(([, bytes]) => bytes > BUDGET_KB * 1024)
      .map(([handler, bytes]) => `${handler} ${bytes}`);
    expect(over).toEqual([]);
    expect(sizes.size).toBeGreaterThan(10);
  });

  it("keeps the Secrets Manager SDK client in the rotation function only", () => {
    for (const handler of functionsOf(synth).keys()) {
      const code = readFileSync(join(bundleDirectory(synth, handler), "index.mjs"), "utf8");
      expect(code.includes("GetRandomPassword"), handler).toBe(handler === ROTATION_FUNCTION.handler);
    }
  });

  it("bundles the AWS SDK instead of relying on the runtime's copy", () => {
    const code = readFileSync(join(bundleDirectory(synth, "list-nodes"), "index.mjs"), "utf8");
    expect(code).not.toMatch(/from\s*["']@aws-sdk\//);
    expect(code).toContain("DynamoDB");
  });

  it("answers GET / with the API versions", async () => {
    const response = await call("get-root", httpEvent("GET", "/", "/"));
    expect(response.status).toBe(200);
    expect(response.body.versions[0]).toMatchObject({ id: "v1", status: "CURRENT" });
    expect(response.headers["x-request-id"]).toBeTruthy();
  });

  it("answers GET /v1/nodes from DynamoDB with an empty list", async () => {
    const response = await call("list-nodes", httpEvent("GET", "/v1/nodes", "/v1/nodes"));
    expect(response).toMatchObject({ status: 200, body: [] });
  });

  it("creates a pod manager with POST /v1/pod_managers: secret stored, password masked, listed and shown", async () => {
    const password = `pw-${randomUUID()}`;
    const created = await call(
      "create-pod-manager",
      httpEvent("POST", "/v1/pod_managers", "/v1/pod_managers", {
        body: JSON.stringify({
          name: `podm-${randomUUID().slice(0, 8)}`,
          // Nothing listens there: the probe fails fast and the pod manager is simply not online.
          url: "http://127.0.0.1:9",
          authentication: [{ type: "basic", auth_items: { username: "admin", password } }],
        }),
      }),
    );
    expect(created.status).toBe(201);
    expect(created.body.authentication[0].auth_items).toEqual({ username: "admin", password: "***" });
    expect(JSON.stringify(created.body)).not.toContain(password);
    expect(readFileSync(secretsFile, "utf8")).toContain(password);

    const listed = await call("list-pod-managers", httpEvent("GET", "/v1/pod_managers", "/v1/pod_managers"));
    expect(listed.status).toBe(200);
    expect(listed.body.map((podm: { uuid: string }) => podm.uuid)).toContain(created.body.uuid);

    const shown = await call(
      "get-pod-manager",
      httpEvent("GET", "/v1/pod_managers/{id}", `/v1/pod_managers/${created.body.uuid}`, {
        pathParameters: { id: created.body.uuid },
      }),
    );
    expect(shown.status).toBe(200);
    expect(shown.body.uuid).toBe(created.body.uuid);
  });

  it("maps bad JSON to a 400 and an unknown node to a 404, in the API's error shape", async () => {
    const badJson = await call(
      "create-pod-manager",
      httpEvent("POST", "/v1/pod_managers", "/v1/pod_managers", { body: "{not json" }),
    );
    expect(badJson.status).toBe(400);
    expect(badJson.body).toMatchObject({ status: 400, request_id: expect.any(String) });

    const id = randomUUID();
    const missing = await call(
      "get-node",
      httpEvent("GET", "/v1/nodes/{id}", `/v1/nodes/${id}`, { pathParameters: { id } }),
    );
    expect(missing.status).toBe(404);
  });
});
