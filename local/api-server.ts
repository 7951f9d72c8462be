import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { ROUTES, type RouteDefinition, routeKey } from "../lib/api/routes.ts";
import { MethodNotAllowedError, RouteNotFoundError, ValidationError } from "../lib/errors.ts";
import { toErrorBody } from "../lib/http/errors.ts";
import { type HttpEvent, LOCAL_API_ID } from "../lib/http/route.ts";
import { logger } from "../lib/log.ts";

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
  /** What each invocation gets as its Lambda timeout. */
  timeoutMs?: number;
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
  logger.resetKeys();
  logger.appendKeys({ request_id: requestId });
  const body = toErrorBody(error, requestId);
  send(response, {
    statusCode: body.status,
    headers: { "content-type": "application/json", "x-request-id": requestId },
    body: JSON.stringify(body),
  });
}

/**
 * Serves the Lambda handlers over HTTP as API Gateway (HTTP API, payload 2.0) would: each request becomes an
 * event for the very `handler` that Lambda runs. Unknown routes answer 404 and known paths with another method
 * 405, both in Valence's error body — no route exists here that the deployed API lacks.
 */
export async function startApiServer(options: ApiServerOptions = {}) {
  const routes = (options.routes ?? ROUTES).map(compile);
  const load = options.loadHandler ?? defaultLoader;
  const timeoutMs = options.timeoutMs ?? 300_000;
  const loaded = new Map<string, Promise<LambdaHttpHandler>>();
  /** `host:port` this server listens on, set once it does. */
  let domainName = "localhost";

  const server = createServer(async (request, response) => {
    const requestId = randomUUID();
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
        send(response, await handler(event, lambdaContext(name, requestId, timeoutMs)));
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
