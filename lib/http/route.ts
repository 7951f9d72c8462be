import middy from "@middy/core";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import type * as z from "zod/mini";
import type { RequestSchemas } from "../api/route-definition.ts";
import { ValidationError } from "../errors.ts";
import { logger, logInvocation } from "../log.ts";
import { nameFields, parseOrThrow } from "../validation.ts";
import { toErrorBody } from "./errors.ts";

export type HttpEvent = APIGatewayProxyEventV2 & {
  requestContext: APIGatewayProxyEventV2["requestContext"] & {
    authorizer?: { iam?: { userArn?: string; userId?: string } };
  };
};

export interface HttpResult {
  statusCode: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** What a route's function receives: validated input plus the caller's context. */
export interface RouteRequest<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  requestId: string;
  /** The caller's IAM principal when API Gateway authorized the call; `anonymous` locally. */
  principal: string;
  /** The request's path, for building links. */
  path: string;
  /** The API's own origin (scheme and host), for absolute links; never taken from the caller's headers. */
  baseUrl: string;
  /** Milliseconds left before the Lambda times out. */
  remainingMs: () => number;
}

type Out<S> = S extends z.ZodMiniType ? z.infer<S> : undefined;

const JSON_HEADERS = { "content-type": "application/json" };

function requestIdOf(event: HttpEvent): string {
  return event.requestContext?.requestId ?? "unknown";
}

/**
 * `requestContext.apiId` of events from the local API server (`local/api-server.ts`), which serves plain HTTP on
 * its own host. No API Gateway API has this id.
 */
export const LOCAL_API_ID = "local";

/**
 * The API's own origin, for absolute links. Built from what API Gateway sets (`requestContext.domainName`: the
 * API's or its custom domain's name), never from the caller's `Host` or `X-Forwarded-Proto`, which anyone can
 * set to send the links, and the next page's request, elsewhere.
 */
function baseUrlOf(event: HttpEvent): string {
  const domain = event.requestContext?.domainName || "localhost";
  return `${event.requestContext?.apiId === LOCAL_API_ID ? "http" : "https"}://${domain}`;
}

/**
 * JSON body of the request; bad JSON is the caller's mistake (400), never ours. An empty body is `undefined`;
 * anything else must be a JSON object (`null`, arrays, strings and numbers are not options).
 */
function readBody(event: HttpEvent): Record<string, unknown> | undefined {
  if (event.body === undefined || event.body === null || event.body === "") return undefined;
  const text = event.isBase64Encoded ? Buffer.from(event.body, "base64").toString("utf8") : event.body;
  if (text.trim() === "") return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ValidationError("body: is not valid JSON", { cause: error });
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    const kind = parsed === null ? "null" : Array.isArray(parsed) ? "an array" : `a ${typeof parsed}`;
    throw new ValidationError(`body: must be a JSON object, received ${kind}`);
  }
  return parsed as Record<string, unknown>;
}

/**
 * A route that takes no body still accepts an empty one and `{}`, both meaning "no options": Valence's Python
 * client sends `{}` with its GET and DELETE calls, and so does `curl -d '{}'`.
 */
function refuseBodyFields(raw: Record<string, unknown> | undefined): void {
  const fields = Object.keys(raw ?? {});
  if (fields.length)
    throw new ValidationError(`body: unknown field(s) ${nameFields(fields)} (this request takes no body)`);
}

export function json(statusCode: number, body: unknown, headers?: Record<string, string>): HttpResult {
  return headers ? { statusCode, body, headers } : { statusCode, body };
}

export function noContent(): HttpResult {
  return { statusCode: 204 };
}

/**
 * Builds a Lambda handler for one route from its definition (`route` of `lib/api/routes/<function>.ts`): request
 * id and logging, input validation with the definition's zod schemas, and error mapping. The route function stays
 * a plain async function of validated input. The handler keeps the definition it was built from (`route`), so a
 * test can tell that each function validates with its own definition.
 */
export function httpRoute<
  PS extends z.ZodMiniType | undefined = undefined,
  QS extends z.ZodMiniType | undefined = undefined,
  BS extends z.ZodMiniType | undefined = undefined,
>(
  schemas: RequestSchemas<PS, QS, BS>,
  fn: (request: RouteRequest<Out<PS>, Out<QS>, Out<BS>>) => Promise<HttpResult>,
) {
  const inner = async (event: HttpEvent, context: Context): Promise<APIGatewayProxyStructuredResultV2> => {
    const requestId = requestIdOf(event);
    const raw = readBody(event);
    if (!schemas.body) refuseBodyFields(raw);
    const body = schemas.body ? parseOrThrow(schemas.body, raw ?? {}, "body") : undefined;
    const params = schemas.params
      ? parseOrThrow(schemas.params, event.pathParameters ?? {}, "path")
      : undefined;
    const query = schemas.query
      ? parseOrThrow(schemas.query, event.queryStringParameters ?? {}, "query")
      : undefined;
    const iam = event.requestContext?.authorizer?.iam;
    const result = await fn({
      params: params as Out<PS>,
      query: query as Out<QS>,
      body: body as Out<BS>,
      requestId,
      principal: iam?.userArn ?? iam?.userId ?? "anonymous",
      path: event.rawPath,
      baseUrl: baseUrlOf(event),
      remainingMs: () => context.getRemainingTimeInMillis?.() ?? 30_000,
    });
    return {
      statusCode: result.statusCode,
      headers: {
        ...(result.body === undefined ? {} : JSON_HEADERS),
        ...result.headers,
        "x-request-id": requestId,
      },
      ...(result.body === undefined ? {} : { body: JSON.stringify(result.body) }),
    };
  };

  const handler = middy<HttpEvent, APIGatewayProxyStructuredResultV2>()
    .use({
      before: (request) => {
        logInvocation(request.context, requestIdOf(request.event), { route: request.event.routeKey });
      },
      after: (request) => {
        logger.info("request done", { status: request.response?.statusCode });
      },
    })
    .use({
      // Error mapping is the last middleware: it sees every error, from validation to the route function.
      onError: (request) => {
        const requestId = requestIdOf(request.event);
        const errorBody = toErrorBody(request.error, requestId);
        request.response = {
          statusCode: errorBody.status,
          headers: { ...JSON_HEADERS, "x-request-id": requestId },
          body: JSON.stringify(errorBody),
        };
      },
    })
    .handler(inner);
  return Object.assign(handler, { route: schemas });
}

/**
 * 202 Accepted for work an operation carries on: `Location` is the operation, `Retry-After` when to look at it
 * again.
 */
export function accepted(
  body: unknown,
  operation: { id: string },
  baseUrl: string,
  retryAfterSeconds: number,
): HttpResult {
  return json(202, body, {
    location: `${baseUrl}/v1/operations/${operation.id}`,
    "retry-after": String(retryAfterSeconds),
  });
}
