import type { Context } from "aws-lambda";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createIronicDriver } from "../../lib/ironic/index.ts";
import { logger, logInvocation } from "../../lib/log.ts";
import { publishFigures } from "../../lib/metrics.ts";
import { RedfishTransport } from "../../lib/redfish/transport.ts";
import { fakeFetch, ironicFault, ironicRoot } from "../support/openstack.ts";

/** Lines written to stdout and stderr while `fn` runs, parsed. */
async function linesOf(fn: () => unknown | Promise<unknown>): Promise<Array<Record<string, unknown>>> {
  const written: string[] = [];
  const out = process.stdout.write;
  const err = process.stderr.write;
  const capture = ((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = capture;
  process.stderr.write = capture;
  try {
    await fn();
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  return written
    .join("")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const lambdaContext = (requestId: string): Context => ({
  callbackWaitsForEmptyEventLoop: false,
  functionName: "valence-register-node",
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:valence-register-node",
  memoryLimitInMB: "512",
  awsRequestId: requestId,
  logGroupName: "/aws/lambda/valence-register-node",
  logStreamName: "stream",
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});

const PASSWORD = "Hunter2-Pa55w0rd";

describe("logger", () => {
  beforeEach(() => {
    logger.setLogLevel("INFO");
    logInvocation(undefined, "test");
  });
  afterEach(() => logger.setLogLevel("WARN"));

  it("writes one JSON line with Powertools' keys, the correlation id and the Lambda context", async () => {
    const [line] = await linesOf(() => {
      logInvocation(lambdaContext("lambda-req-1"), "api-req-1", { route: "POST /v1/nodes/{name}/register" });
      logger.info("request done", { status: 200 });
    });
    expect(line).toMatchObject({
      level: "INFO",
      message: "request done",
      service: "valence",
      correlation_id: "api-req-1",
      function_name: "valence-register-node",
      function_request_id: "lambda-req-1",
      route: "POST /v1/nodes/{name}/register",
      status: 200,
    });
    expect(typeof line?.cold_start).toBe("boolean");
    expect(typeof line?.timestamp).toBe("string");
  });

  it("starts each invocation without the keys of the one before", async () => {
    const [line] = await linesOf(() => {
      logInvocation(undefined, "op-1", { child: "workflow" });
      logInvocation(undefined, "op-2");
      logger.info("step done");
    });
    expect(line).toMatchObject({ correlation_id: "op-2" });
    expect(line).not.toHaveProperty("child");
  });

  it("masks a password in a logged error's message, stack and cause", async () => {
    const error = new Error(`connect to http://admin:${PASSWORD}@10.0.0.1 failed`, {
      cause: new Error(`password=${PASSWORD}`),
    });
    const lines = await linesOf(() => logger.error("unexpected error", { error }));
    const text = JSON.stringify(lines);
    expect(text).not.toContain(PASSWORD);
    expect(lines[0]).toMatchObject({
      level: "ERROR",
      error: {
        name: "Error",
        message: "connect to http://***:***@10.0.0.1 failed",
        cause: { message: "password=***" },
      },
    });
  });

  it("masks a field whose name says it holds a secret", async () => {
    const lines = await linesOf(() =>
      logger.warn("odd request", {
        redfish_password: PASSWORD,
        nested: { client_secret: PASSWORD },
        user: "admin",
      }),
    );
    expect(JSON.stringify(lines)).not.toContain(PASSWORD);
    expect(lines[0]).toMatchObject({
      redfish_password: "***",
      nested: { client_secret: "***" },
      user: "admin",
    });
  });

  it("keeps an SDK error's request metadata out of the line", async () => {
    const error = Object.assign(new Error("throttled"), {
      $metadata: { httpStatusCode: 400, requestId: "sdk-req" },
      $response: { headers: { authorization: `AWS4-HMAC-SHA256 Credential=${PASSWORD}` } },
    });
    const [line] = await linesOf(() => logger.error("dynamodb failed", { error }));
    expect(line?.error).toEqual({ name: "Error", message: "throttled", stack: expect.any(String) });
  });

  it("masks the BMC password an Ironic fault echoes, in the logged error", async () => {
    const fetch = fakeFetch((request) =>
      request.url.pathname === "/"
        ? ironicRoot()
        : ironicFault(
            400,
            `Invalid driver_info {'redfish_password': '${PASSWORD}', 'ipmi_password': 'Other-Pw-77'}`,
          ),
    );
    const driver = createIronicDriver({ url: "http://ironic.test:6385", auth: { type: "none" }, fetch });
    const error = await driver
      .createNode({ driver: "redfish", name: "r1", driver_info: { redfish_password: PASSWORD } })
      .catch((caught: unknown) => caught);
    const lines = await linesOf(() => logger.error("request failed", { error }));
    const text = JSON.stringify(lines);
    expect(text).toContain("Invalid driver_info");
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain("Other-Pw-77");
  });

  it("masks the password and Basic credentials a pod manager's transport error echoes, in the logged error", async () => {
    const basic = Buffer.from(`admin:${PASSWORD}`).toString("base64");
    const transport = new RedfishTransport({
      url: "https://podm.test",
      username: "admin",
      password: PASSWORD,
      verifyCa: true,
      fetch: (async () => {
        throw new Error(`proxy refused Authorization: Basic ${basic} for admin/${PASSWORD}; token=abc123xyz`);
      }) as typeof fetch,
    });
    const error = await transport.get("/redfish/v1/Systems").catch((caught: unknown) => caught);
    const lines = await linesOf(() => logger.error("request failed", { error }));
    const text = JSON.stringify(lines);
    expect(text).toContain("proxy refused");
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(basic);
    expect(text).not.toContain("abc123xyz");
  });
});

describe("log level", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it("comes from POWERTOOLS_LOG_LEVEL, and Lambda's advanced logging controls win over it", async () => {
    vi.stubEnv("POWERTOOLS_LOG_LEVEL", "DEBUG");
    vi.stubEnv("AWS_LAMBDA_LOG_LEVEL", "");
    vi.resetModules();
    expect((await import("../../lib/log.ts")).logger.getLevelName()).toBe("DEBUG");

    vi.stubEnv("AWS_LAMBDA_LOG_LEVEL", "WARN");
    vi.resetModules();
    expect((await import("../../lib/log.ts")).logger.getLevelName()).toBe("WARN");
  });

  it("falls back to LOG_LEVEL, then INFO", async () => {
    vi.stubEnv("POWERTOOLS_LOG_LEVEL", "");
    vi.stubEnv("AWS_LAMBDA_LOG_LEVEL", "");
    vi.stubEnv("LOG_LEVEL", "ERROR");
    vi.resetModules();
    expect((await import("../../lib/log.ts")).logger.getLevelName()).toBe("ERROR");

    vi.stubEnv("LOG_LEVEL", "");
    vi.resetModules();
    expect((await import("../../lib/log.ts")).logger.getLevelName()).toBe("INFO");
  });
});

describe("publishFigures", () => {
  it("writes one EMF line: namespace Valence, the service dimension, durations in milliseconds", async () => {
    const [line] = await linesOf(() => publishFigures({ checked: 12, pass_ms: 840 }));
    expect(line).toMatchObject({
      _aws: {
        Timestamp: expect.any(Number),
        CloudWatchMetrics: [
          {
            Namespace: "Valence",
            Dimensions: [["service"]],
            Metrics: [
              { Name: "checked", Unit: "Count" },
              { Name: "pass_ms", Unit: "Milliseconds" },
            ],
          },
        ],
      },
      service: "valence",
      checked: 12,
      pass_ms: 840,
    });
  });
});
