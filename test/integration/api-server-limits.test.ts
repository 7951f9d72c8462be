import type { APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { afterEach, describe, expect, it } from "vitest";
import { ROUTES, type RouteDefinition } from "../../lib/api/routes.ts";
import { type LambdaHttpHandler, startApiServer } from "../../local/api-server.ts";
import { SLOW_REQUEST_MESSAGE } from "../../local/request-timings.ts";
import { assertRequestsWithin, slowRequestLines } from "../support/request-limits.ts";

const SLOW_ROUTE: RouteDefinition = {
  method: "POST",
  path: "/v1/slow",
  handler: "slow-thing",
  summary: "A handler the test holds",
  table: "none",
};

/** A promise the test settles when it wants, and a way to wait for a condition without timing it. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

const OK: APIGatewayProxyStructuredResultV2 = { statusCode: 200, body: '{"done":true}' };

/** Everything written to stdout and stderr (the logger's lines) while a test runs. */
function captureOutput() {
  const lines: string[] = [];
  const streams = [process.stdout, process.stderr] as const;
  const writes = streams.map((stream) => stream.write);
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array) => {
      lines.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
      return true;
    }) as typeof stream.write;
  }
  return {
    text: () => lines.join(""),
    restore: () => {
      streams.forEach((stream, i) => {
        stream.write = writes[i] as typeof stream.write;
      });
    },
  };
}

describe("local API server: API Gateway's and Lambda's time limits", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function serve(handler: LambdaHttpHandler, options: Parameters<typeof startApiServer>[0] = {}) {
    const logs = captureOutput();
    cleanups.push(logs.restore);
    const server = await startApiServer({
      routes: [SLOW_ROUTE],
      loadHandler: async () => handler,
      ...options,
    });
    cleanups.push(server.close);
    return { server, logs };
  }

  it("answers 503 as API Gateway does past the integration timeout while the function goes on", async () => {
    const release = deferred();
    let started = false;
    let finished = false;
    const { server, logs } = await serve(
      async () => {
        started = true;
        await release.promise;
        finished = true;
        return OK;
      },
      { integrationTimeoutMs: 50, lambdaTimeoutMs: () => 60_000 },
    );

    const response = await fetch(`${server.url}/v1/slow`, { method: "POST" });

    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ message: "Service Unavailable" });
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(started).toBe(true);
    expect(finished).toBe(false);
    release.resolve();
    await until(() => logs.text().includes("its answer was dropped"));
    expect(finished).toBe(true);
    expect(logs.text()).toContain("integration timed out");
  });

  it("ends an invocation past its Lambda timeout with API Gateway's 500, and logs it as Lambda does", async () => {
    const release = deferred();
    let remainingAtStart = -1;
    const { server, logs } = await serve(
      async (_event, context) => {
        remainingAtStart = context.getRemainingTimeInMillis();
        await release.promise;
        return OK;
      },
      { integrationTimeoutMs: 60_000, lambdaTimeoutMs: () => 80 },
    );

    const response = await fetch(`${server.url}/v1/slow`, { method: "POST" });

    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ message: "Internal Server Error" });
    expect(remainingAtStart).toBeGreaterThan(0);
    expect(remainingAtStart).toBeLessThanOrEqual(80);
    expect(logs.text()).toContain("Task timed out after 0.08 seconds");
    release.resolve();
    await until(() => logs.text().includes("finished after its Lambda timeout"));
  });

  it("answers what the function returns within both limits", async () => {
    const { server } = await serve(async () => OK, {
      integrationTimeoutMs: 60_000,
      lambdaTimeoutMs: () => 60_000,
    });
    const response = await fetch(`${server.url}/v1/slow`, { method: "POST" });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ done: true });
  });

  it("gives each invocation its function's configured Lambda timeout", async () => {
    const remaining = new Map<string, number>();
    const logs = captureOutput();
    cleanups.push(logs.restore);
    const server = await startApiServer({
      loadHandler: async (name) => async (_event, context: Context) => {
        remaining.set(name, context.getRemainingTimeInMillis());
        return OK;
      },
    });
    cleanups.push(server.close);
    const register = ROUTES.find((route) => route.handler === "register-node") as RouteDefinition;
    expect(register.ironic).toBe(true);

    await fetch(`${server.url}/`);
    await fetch(`${server.url}/v1/nodes/some-node/register`, { method: "POST" });

    // get-root talks to nobody (30 s); register-node waits for Ironic (cdk.json's ironicTimeoutSeconds, 300 s).
    expect(remaining.get("get-root")).toBeGreaterThan(25_000);
    expect(remaining.get("get-root")).toBeLessThanOrEqual(30_000);
    expect(remaining.get("register-node")).toBeGreaterThan(295_000);
    expect(remaining.get("register-node")).toBeLessThanOrEqual(300_000);
  });
});

describe("the suite's guard: no request may come near API Gateway's limit", () => {
  it("fails when a request took as long as the limit or longer", async () => {
    const logs = captureOutput();
    const server = await startApiServer({
      routes: [SLOW_ROUTE],
      slowRequestMs: 10,
      loadHandler: async () => async () => {
        await new Promise((resolve) => setTimeout(resolve, 30));
        return OK;
      },
    });
    try {
      await fetch(`${server.url}/v1/slow`, { method: "POST" });
    } finally {
      await server.close();
      logs.restore();
    }

    expect(() => assertRequestsWithin(10)).toThrow(/POST \/v1\/slow took \d+ ms \(answered/);
    expect(() => assertRequestsWithin(60_000)).not.toThrow();
    // A server in another process (npm start) says it in its log, which the guard reads.
    expect(logs.text()).toContain(SLOW_REQUEST_MESSAGE);
    expect(slowRequestLines(logs.text())).toHaveLength(1);
    expect(slowRequestLines('{"message":"something else"}\n')).toEqual([]);
  });
});
