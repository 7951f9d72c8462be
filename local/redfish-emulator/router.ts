/**
 * A small router for the emulator: each resource is one route, a path pattern under `/redfish/v1` with a handler
 * per HTTP method. `:name` captures one segment, a final `*name` the rest (possibly none). Routes are tried in the
 * order they were added, so a literal (`Systems/Capabilities`) goes before the pattern it would also match
 * (`Systems/:id`).
 */

export type Params = Readonly<Record<string, string>>;

export interface RouteRequest {
  method: string;
  segments: string[];
  body: unknown;
}

export type RouteHandler<R> = (params: Params, request: RouteRequest) => R;

export interface Route<R> {
  /** e.g. `Systems/:id/Actions/:action`; `""` is the service root. */
  readonly pattern: string;
  /** Whether the route serves at all (the emulator's mode): otherwise its paths are 404. @default always */
  readonly enabled?: () => boolean;
  /** Whether the resource exists (a composed system, say): a 404 before any method is considered. */
  readonly exists?: (params: Params) => boolean;
  readonly GET?: RouteHandler<R>;
  readonly POST?: RouteHandler<R>;
  readonly PATCH?: RouteHandler<R>;
  readonly DELETE?: RouteHandler<R>;
}

const METHODS = ["GET", "POST", "PATCH", "DELETE"] as const;
type Method = (typeof METHODS)[number];

/** The captures of `pattern` in `segments`, or `undefined` when it does not match. */
export function matchPattern(pattern: string, segments: readonly string[]): Params | undefined {
  const parts = pattern.split("/").filter(Boolean);
  const params: Record<string, string> = {};
  for (const [index, part] of parts.entries()) {
    if (part.startsWith("*")) {
      params[part.slice(1)] = segments.slice(index).join("/");
      return params;
    }
    const segment = segments[index];
    if (segment === undefined) return undefined;
    if (part.startsWith(":")) params[part.slice(1)] = segment;
    else if (part !== segment) return undefined;
  }
  return segments.length === parts.length ? params : undefined;
}

export interface RouteOutcomes<R> {
  notFound(request: RouteRequest): R;
  notAllowed(request: RouteRequest): R;
}

export class Router<R> {
  private readonly routes: Route<R>[] = [];

  constructor(private readonly outcomes: RouteOutcomes<R>) {}

  add(...routes: Route<R>[]): this {
    this.routes.push(...routes);
    return this;
  }

  /** The first enabled route matching the path answers; 404 when none does, 405 for a method it lacks. */
  handle(request: RouteRequest): R {
    for (const route of this.routes) {
      if (route.enabled && !route.enabled()) continue;
      const params = matchPattern(route.pattern, request.segments);
      if (!params) continue;
      if (route.exists && !route.exists(params)) return this.outcomes.notFound(request);
      const handler = METHODS.includes(request.method as Method)
        ? route[request.method as Method]
        : undefined;
      return handler ? handler(params, request) : this.outcomes.notAllowed(request);
    }
    return this.outcomes.notFound(request);
  }
}
