import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { functionNeeds } from "../infra/catalog.ts";
import { parseValenceConfig } from "../infra/config.ts";
import {
  functionTimeoutSeconds,
  INTEGRATION_TIMEOUT_SECONDS,
  ROUTES,
  type RouteDefinition,
  routeKey,
  SCHEDULED_FUNCTIONS,
} from "../lib/api/routes.ts";
import { MethodNotAllowedError, RouteNotFoundError, ValidationError } from "../lib/errors.ts";
import { toErrorBody } from "../lib/http/errors.ts";
import { type HttpEvent, LOCAL_API_ID } from "../lib/http/route.ts";
import { logger, logInvocation } from "../lib/log.ts";
import { recordRequestTiming, SLOW_REQUEST_MESSAGE } from "./request-timings.ts";

export type LambdaHttpHandler = (
  event: HttpEvent,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

export interface ApiServerOptions {
  port?: number;
  host?: string;
  routes?: readonly RouteDefinition[];
  /** Loads `functions/<name>.ts`; overridable for tests of the server itself. */
  loadHandler?: (name: string) => Promise<LambdaHttpHandler>;
  /**
   * How long API Gateway waits for a function before it answers 503 while the function goes on.
   * @default INTEGRATION_TIMEOUT_SECONDS, the value the CDK stack gives every integration
   */
  integrationTimeoutMs?: number;
  /**
   * Each function's Lambda timeout, by handler name: what `getRemainingTimeInMillis` counts down from, and
   * when the invocation ends as Lambda ends one that timed out.
   * @default functionTimeoutsMs(routes): the timeouts the CDK stack gives the deployed functions
   */
  lambdaTimeoutMs?: (handler: string) => number;
  /** Requests that take this long or longer are logged as errors (`SLOW_REQUEST_MESSAGE`). @default 29_000 */
  slowRequestMs?: number;
}

/** What `cdk deploy` reads: the repository's `cdk.json` context. */
const CDK_JSON = new URL("../cdk.json", import.meta.url);

/** The deployment's `ironicTimeoutSeconds` as the stack reads it: `cdk.json`'s context, else its default. */
function deployedIronicTimeoutSeconds(): number {
  const { context = {} } = JSON.parse(readFileSync(CDK_JSON, "utf8")) as {
    context?: Record<string, unknown>;
  };
  return parseValenceConfig(
    context.ironicTimeoutSeconds === undefined ? {} : { ironicTimeoutSeconds: context.ironicTimeoutSeconds },
  ).ironicTimeoutSeconds;
}

/**
 * Each handler's Lambda timeout in milliseconds, decided as the CDK stack decides it: the needs of every route
 * and schedule it serves (`functionNeeds`), through `functionTimeoutSeconds`, with the deployment's
 * `ironicTimeoutSeconds`.
 */
export function functionTimeoutsMs(
  routes: readonly RouteDefinition[] = ROUTES,
  ironicTimeoutSeconds: number = deployedIronicTimeoutSeconds(),
): Map<string, number> {
  const needs = functionNeeds([...routes, ...SCHEDULED_FUNCTIONS]);
  return new Map(
    [...needs.values()].map((need) => [
      need.handler,
      functionTimeoutSeconds(need, ironicTimeoutSeconds) * 1000,
    ]),
  );
}

/** What API Gateway (HTTP API) answers when the integration outlasts its timeout. */
const INTEGRATION_TIMEOUT_ANSWER = { statusCode: 503, message: "Service Unavailable" } as const;
/** What API Gateway (HTTP API) answers when the Lambda function fails, a timeout included. */
const FUNCTION_ERROR_ANSWER = { statusCode: 500, message: "Internal Server Error" } as const;

/** An answer API Gateway makes itself: `{"message": ...}`, not the function's body. */
function sendGatewayAnswer(
  response: ServerResponse,
  answer: { statusCode: number; message: string },
  requestId: string,
): void {
  send(response, {
    statusCode: answer.statusCode,
    headers: { "content-type": "application/json", "apigw-requestid": requestId },
    body: JSON.stringify({ message: answer.message }),
  });
}

type FunctionEnd =
  | { kind: "result"; result: APIGatewayProxyStructuredResultV2 }
  | { kind: "error"; error: unknown }
  | { kind: "lambda-timeout" };

/**
 * Runs one invocation as Lambda and API Gateway would: the function has its Lambda timeout, past which the
 * invocation ends as failed (500); API Gateway waits at most its integration timeout, past which the caller
 * gets a 503 while the function goes on. Here nothing can stop the handler's promise: whatever it does after
 * either limit is logged and its answer dropped.
 */
async function invoke(
  response: ServerResponse,
  invocation: { name: string; requestId: string; lambdaTimeoutMs: number; integrationTimeoutMs: number },
  run: (context: Context) => Promise<APIGatewayProxyStructuredResultV2>,
): Promise<void> {
  const { name, requestId, lambdaTimeoutMs, integrationTimeoutMs } = invocation;
  const started = Date.now();
  const elapsed = () => Date.now() - started;
  const settled: Promise<FunctionEnd> = Promise.resolve()
    .then(() => run(lambdaContext(name, requestId, lambdaTimeoutMs)))
    .then(
      (result) => ({ kind: "result", result }),
      (error: unknown) => ({ kind: "error", error }),
    );
  // Timers never keep the process up: a hung handler must not hold a finished test run.
  let lambdaTimer: NodeJS.Timeout | undefined;
  const lambdaTimedOut = new Promise<FunctionEnd>((resolve) => {
    lambdaTimer = setTimeout(() => resolve({ kind: "lambda-timeout" }), lambdaTimeoutMs).unref();
  });
  const functionEnd = Promise.race([settled, lambdaTimedOut]);
  void functionEnd.then((end) => {
    clearTimeout(lambdaTimer);
    if (end.kind !== "lambda-timeout") return;
    // Lambda's own log line for it.
    logger.error(`Task timed out after ${(lambdaTimeoutMs / 1000).toFixed(2)} seconds`, {
      function: name,
      request_id: requestId,
    });
    void settled.then((late) =>
      logger.error("function finished after its Lambda timeout: Lambda would have stopped it", {
        function: name,
        request_id: requestId,
        after_ms: elapsed(),
        ...describeEnd(late),
      }),
    );
  });

  let integrationTimer: NodeJS.Timeout | undefined;
  const integrationTimedOut = new Promise<"integration-timeout">((resolve) => {
    integrationTimer = setTimeout(() => resolve("integration-timeout"), integrationTimeoutMs).unref();
  });
  const first = await Promise.race([functionEnd, integrationTimedOut]);
  clearTimeout(integrationTimer);

  if (first === "integration-timeout") {
    logger.error("integration timed out: answered 503 as API Gateway does, the function goes on", {
      function: name,
      request_id: requestId,
      integration_timeout_ms: integrationTimeoutMs,
    });
    sendGatewayAnswer(response, INTEGRATION_TIMEOUT_ANSWER, requestId);
    void functionEnd.then((end) => {
      if (end.kind === "lambda-timeout") return; // logged above
      logger.error("function finished after the integration timeout: its answer was dropped", {
        function: name,
        request_id: requestId,
        after_ms: elapsed(),
        ...describeEnd(end),
      });
    });
    return;
  }
  if (first.kind === "lambda-timeout") {
    sendGatewayAnswer(response, FUNCTION_ERROR_ANSWER, requestId);
    return;
  }
  if (first.kind === "error") throw first.error;
  send(response, first.result);
}

function describeEnd(end: FunctionEnd): Record<string, unknown> {
  if (end.kind === "result") return { status: end.result.statusCode ?? 200 };
  if (end.kind === "error") return { error: (end.error as Error)?.message ?? String(end.error) };
  return {};
}

interface CompiledRoute {
  route: RouteDefinition;
  pattern: RegExp;
  names: string[];
}

function compile(route: RouteDefinition): CompiledRoute {
  const names: string[] = [];
  const source = route.path
    .replace(/[.*+?^$()|[\]\\]/g, "\\$&")
    .replace(/\{(\w+)\}/g, (_match, name: string) => {
      names.push(name);
      return "([^/]+)";
    });
  return { route, pattern: new RegExp(`^${source}$`), names };
}

const TEXT_TYPES = /^(application\/(.+\+)?json|text\/|application\/x-www-form-urlencoded)/i;

async function defaultLoader(name: string): Promise<LambdaHttpHandler> {
  const module = (await import(`../functions/${name}.ts`)) as { handler: LambdaHttpHandler };
  return module.handler;
}

/** A malformed escape (`%`, `%zz`, a cut UTF-8 sequence) is the caller's mistake: 400, never a 500. */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch (error) {
    throw new ValidationError(`path: ${segment.slice(0, 100)} is not valid percent-encoding`, {
      cause: error,
    });
  }
}

function toEvent(
  request: IncomingMessage,
  body: Buffer,
  url: URL,
  match: CompiledRoute,
  values: string[],
  requestId: string,
  domainName: string,
): HttpEvent {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(",") : value;
  }
  headers["x-forwarded-proto"] ??= "http";
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams)
    query[name] = name in query ? `${query[name]},${value}` : value;
  const pathParameters: Record<string, string> = {};
  match.names.forEach((name, i) => {
    pathParameters[name] = decodePathSegment(values[i] ?? "");
  });
  const isText = body.length === 0 || TEXT_TYPES.test(headers["content-type"] ?? "application/json");
  const now = new Date();
  return {
    version: "2.0",
    routeKey: routeKey(match.route),
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    ...(match.names.length ? { pathParameters } : {}),
    requestContext: {
      accountId: "local",
      apiId: LOCAL_API_ID,
      // The server's own address, as API Gateway names its own domain: never the caller's Host header.
      domainName,
      domainPrefix: "local",
      http: {
        method: request.method ?? "GET",
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId,
      routeKey: routeKey(match.route),
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length ? { body: isText ? body.toString("utf8") : body.toString("base64") } : {}),
    isBase64Encoded: !isText,
  };
}

function lambdaContext(name: string, requestId: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${name}`,
    memoryLimitInMB: "1024",
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: "local",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function send(response: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  const body =
    result.body === undefined
      ? undefined
      : Buffer.from(result.body, result.isBase64Encoded ? "base64" : "utf8");
  response.writeHead(result.statusCode ?? 200, headers);
  response.end(body);
}

function sendError(response: ServerResponse, error: Error, requestId: string): void {
  logInvocation(undefined, requestId);
  const body = toErrorBody(error, requestId);
  send(response, {
    statusCode: body.status,
    headers: { "content-type": "application/json", "x-request-id": requestId },
    body: JSON.stringify(body),
  });
}

/** A lookup by handler name that refuses a handler the stack would not deploy as a function. */
function timeoutsOf(timeouts: Map<string, number>): (handler: string) => number {
  return (handler) => {
    const timeout = timeouts.get(handler);
    if (timeout === undefined) throw new Error(`no Lambda timeout known for handler ${handler}`);
    return timeout;
  };
}

/**
 * Serves the Lambda handlers over HTTP as API Gateway (HTTP API, payload 2.0) would: each request becomes an
 * event for the very `handler` that Lambda runs. Unknown routes answer 404 and known paths with another method
 * 405, both in Valence's error body — no route exists here that the deployed API lacks. It keeps AWS's time
 * limits: each function's Lambda timeout (the CDK stack's) and API Gateway's integration timeout, and logs every
 * request that takes `slowRequestMs` or longer.
 */
export async function startApiServer(options: ApiServerOptions = {}) {
  // As API Gateway matches: the most specific route first, a literal segment winning over a `{param}`.
  const routes = (options.routes ?? ROUTES).map(compile).sort((a, b) => a.names.length - b.names.length);
  const load = options.loadHandler ?? defaultLoader;
  const integrationTimeoutMs = options.integrationTimeoutMs ?? INTEGRATION_TIMEOUT_SECONDS * 1000;
  const slowRequestMs = options.slowRequestMs ?? 29_000;
  const lambdaTimeoutMs = options.lambdaTimeoutMs ?? timeoutsOf(functionTimeoutsMs(options.routes ?? ROUTES));
  const loaded = new Map<string, Promise<LambdaHttpHandler>>();
  /** `host:port` this server listens on, set once it does. */
  let domainName = "localhost";

  const server = createServer(async (request, response) => {
    const requestId = randomUUID();
    const arrived = Date.now();
    response.once("close", () => {
      const timing = {
        method: request.method ?? "GET",
        path: (request.url ?? "/").split("?")[0] ?? "/",
        status: response.statusCode,
        requestId,
        durationMs: Date.now() - arrived,
      };
      recordRequestTiming(timing);
      if (timing.durationMs >= slowRequestMs) {
        logger.error(SLOW_REQUEST_MESSAGE, {
          method: timing.method,
          path: timing.path,
          status: timing.status,
          request_id: requestId,
          duration_ms: timing.durationMs,
          limit_ms: slowRequestMs,
        });
      }
    });
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      // The request target as sent: in `//x/v1/nodes`, `//x` is an empty segment and a name, not a host to
      // drop (which would serve it as `/v1/nodes`), so an origin-form target is never parsed as a relative URL.
      const target = request.url ?? "/";
      const url = new URL(target.startsWith("/") ? `http://local${target}` : target, "http://local");
      let pathMatched = false;
      for (const candidate of routes) {
        const values = candidate.pattern.exec(url.pathname);
        if (!values) continue;
        pathMatched = true;
        if (candidate.route.method !== request.method) continue;
        const name = candidate.route.handler;
        if (!loaded.has(name)) loaded.set(name, load(name));
        const handler = await (loaded.get(name) as Promise<LambdaHttpHandler>);
        const event = toEvent(request, body, url, candidate, values.slice(1), requestId, domainName);
        await invoke(
          response,
          { name, requestId, lambdaTimeoutMs: lambdaTimeoutMs(name), integrationTimeoutMs },
          (context) => handler(event, context),
        );
        return;
      }
      const error = pathMatched
        ? new MethodNotAllowedError(`${request.method} is not allowed on ${url.pathname}`)
        : new RouteNotFoundError(`no route ${request.method} ${url.pathname}`);
      sendError(response, error, requestId);
    } catch (error) {
      sendError(response, error as Error, requestId);
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  domainName = `${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`;
  return {
    url: `http://${domainName}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
