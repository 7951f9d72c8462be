/**
 * What one route is, written once in `lib/api/routes/<function>.ts`: `route` (method, path, what its function may
 * touch, its request schemas) and `reference` (what the API reference says of it). Everything else is derived:
 * the handler validates with `route` (`httpRoute(route, ...)`), the route table (`lib/api/routes.ts`) that the CDK
 * stack, the local server and the CLI read lists every definition file, and the OpenAPI document
 * (`lib/api/openapi.ts`) joins both parts.
 *
 * A function imports only its own definition's `route`: `reference` is a function, so esbuild leaves it (and the
 * response schemas and prose it reaches) out of the bundle.
 */
import type * as z from "zod/mini";

export type TableAccess = "none" | "read" | "write";
export type HttpMethod = "GET" | "POST" | "PATCH" | "DELETE";

/** What a route's function may touch: the CDK stack grants exactly this, the local server enforces its timeout. */
export interface RouteAccess {
  /** Least privilege on the DynamoDB table. */
  readonly table: TableAccess;
  /** Needs to read pod-manager credentials. */
  readonly readsSecrets?: boolean;
  /** Creates, updates or deletes pod-manager credentials. */
  readonly writesSecrets?: boolean;
  /** Talks to Ironic (needs the Ironic credentials secret and the longest timeout). */
  readonly ironic?: boolean;
  /** Served by `npm start` only, never deployed. */
  readonly localOnly?: boolean;
  /** Publishes events (docs/events.md): gets the event bus's name and `events:PutEvents` on that bus only. */
  readonly publishesEvents?: boolean;
  /**
   * Starts operations: gets the qualified ARN of the operation workflow (`VALENCE_WORKFLOW_FUNCTION`) and
   * `lambda:InvokeFunction` on that alias only.
   */
  readonly startsOperations?: boolean;
}

/** One request schema of a route, or none. */
type Schema = z.ZodMiniType | undefined;

/** The request schemas of a route; each is validated by `httpRoute` before the function runs. */
export interface RequestSchemas<
  PS extends Schema = Schema,
  QS extends Schema = Schema,
  BS extends Schema = Schema,
> {
  /** Path `{...}` segments (`pathParameters`). */
  readonly params?: PS;
  /** The query string. Without it, the route takes none... of its own: API Gateway passes any through. */
  readonly query?: QS;
  /** The JSON body. Without it, only an empty body or `{}` is accepted. */
  readonly body?: BS;
}

/** One route, or one function serving several paths alike (`start-node-operation`). */
export interface RouteSpec<PS extends Schema = Schema, QS extends Schema = Schema, BS extends Schema = Schema>
  extends RouteAccess,
    RequestSchemas<PS, QS, BS> {
  readonly method: HttpMethod;
  /** API Gateway path template(s); `{name}` segments become `pathParameters`. */
  readonly path: string | readonly string[];
  /** One line; with several paths, a function of the path. */
  readonly summary: string | ((path: string) => string);
}

/** Typed identity: `route` of a definition file, so TypeScript infers the function's input from the schemas. */
export function defineRoute<
  PS extends Schema = undefined,
  QS extends Schema = undefined,
  BS extends Schema = undefined,
>(spec: RouteSpec<PS, QS, BS>): RouteSpec<PS, QS, BS> {
  return spec;
}

export type ApiTag = "versions" | "pod managers" | "nodes" | "operations";

export interface ResponseReference {
  readonly description: string;
  /** The JSON body (`lib/api/responses.ts`); omitted for responses without one (204). */
  readonly schema?: z.ZodMiniType;
  /** Response headers worth documenting besides `X-Request-Id` (which every response has). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** A request as the reference shows it in its curl example; also checked against the schemas by a unit test. */
export interface RequestExample {
  readonly params?: Readonly<Record<string, string>>;
  readonly query?: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

/** What the API reference says of a route, besides what `route` holds. */
export interface RouteReference {
  readonly tag: ApiTag;
  /** Longer than the route's summary: what an operator needs to know to call it. */
  readonly description: string;
  /** Descriptions of params, query and body fields by dotted path (`properties.cpus`, `authentication[].type`). */
  readonly fields?: Readonly<Record<string, string>>;
  /** Success responses by status. */
  readonly responses: Readonly<Record<number, ResponseReference>>;
  /**
   * Error responses (Valence's error body) by status, each with when it happens. 400 and 500 apply to every
   * route and are added by the document builder unless given here.
   */
  readonly errors: Readonly<Record<number, string>>;
  readonly example: RequestExample;
  /** For a definition with several paths: the example of a path whose request differs from `example`. */
  readonly routeExamples?: Readonly<Record<string, RequestExample>>;
}

/**
 * The reference of a route that takes no parameters, query or body, has no errors of its own and answers 200
 * with `ok`.
 */
export function answersOnly(tag: ApiTag, description: string, ok: ResponseReference): RouteReference {
  return { tag, description, responses: { 200: ok }, errors: {}, example: {} };
}

/** A definition file, `lib/api/routes/<function>.ts`, as the route table imports it. */
export interface RouteModule {
  readonly route: RouteSpec;
  /** Absent only on local-only routes, which the reference leaves out. */
  readonly reference?: () => RouteReference;
}

/** The paths of a definition, one or several. */
export function pathsOf(spec: Pick<RouteSpec, "path">): readonly string[] {
  return typeof spec.path === "string" ? [spec.path] : spec.path;
}

/** The summary of one of its paths. */
export function summaryOf(spec: Pick<RouteSpec, "summary">, path: string): string {
  return typeof spec.summary === "string" ? spec.summary : spec.summary(path);
}
