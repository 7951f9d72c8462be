/**
 * The API's route table: one entry per method and path, derived from the definition files
 * `lib/api/routes/<function>.ts` (`./route-definition.ts`), one per function. The local server, the CDK stack, the
 * CLI and the API reference read it; each function reads only its own definition.
 */
import type { HttpMethod, RouteAccess, RouteModule, TableAccess } from "./route-definition.ts";
import { pathsOf, summaryOf } from "./route-definition.ts";
import { ROUTE_MODULES } from "./routes/index.ts";

export type { TableAccess };

export interface RouteDefinition extends RouteAccess {
  readonly method: HttpMethod;
  /** API Gateway path template; `{name}` segments become `pathParameters`. */
  readonly path: string;
  /** File name under `functions/` (without `.ts`), also the Lambda's logical name; its definition's file name. */
  readonly handler: string;
  readonly summary: string;
}

/** One entry per path of each definition, named after its file (`lib/api/routes/<handler>.ts`). */
export function routesOf(modules: Readonly<Record<string, RouteModule>>): RouteDefinition[] {
  return Object.entries(modules).flatMap(([handler, { route }]) =>
    pathsOf(route).map(
      (path): RouteDefinition => ({
        method: route.method,
        path,
        handler,
        summary: summaryOf(route, path),
        table: route.table,
        ...(route.readsSecrets ? { readsSecrets: true } : {}),
        ...(route.writesSecrets ? { writesSecrets: true } : {}),
        ...(route.ironic ? { ironic: true } : {}),
        ...(route.localOnly ? { localOnly: true } : {}),
        ...(route.publishesEvents ? { publishesEvents: true } : {}),
        ...(route.startsOperations ? { startsOperations: true } : {}),
      }),
    ),
  );
}

export const ROUTES: readonly RouteDefinition[] = routesOf(ROUTE_MODULES);

/** Route key as API Gateway HTTP APIs write it: `GET /v1/nodes/{id}`. */
export function routeKey(route: Pick<RouteDefinition, "method" | "path">): string {
  return `${route.method} ${route.path}`;
}

/** A function run on a schedule (EventBridge) rather than by a route. */
export interface ScheduledFunction {
  readonly handler: string;
  readonly summary: string;
  readonly table: TableAccess;
  readonly readsSecrets?: boolean;
  readonly ironic?: boolean;
  readonly publishesEvents?: boolean;
}

export const SCHEDULED_FUNCTIONS: readonly ScheduledFunction[] = [
  {
    handler: "reconcile",
    summary:
      "Settle drift between the store, Ironic and the pod managers; finish or undo interrupted registers",
    table: "write",
    readsSecrets: true,
    ironic: true,
    publishesEvents: true,
  },
];

/**
 * The durable function that runs operations (`functions/operation-workflow.ts`): invoked asynchronously by the
 * functions whose routes start operations, through its alias, never by a route.
 */
export const WORKFLOW_FUNCTION = {
  handler: "operation-workflow",
  summary: "Run one operation durably (a node's manage, inspect, provide, clean; a pod manager's resync)",
  table: "write",
  /** A pod manager's re-sync reads its credentials to write them into the nodes' driver_info. */
  readsSecrets: true,
  ironic: true,
  publishesEvents: true,
  /** Alias the starters invoke (a durable function is invoked through a qualified ARN). */
  alias: "live",
  /** Each invocation's timeout; waits between invocations cost nothing. */
  invocationTimeoutSeconds: 900,
  /** How long one durable execution may run in all: above the longest operation deadline. */
  executionTimeoutSeconds: 7 * 24 * 60 * 60,
  /** Days Lambda keeps a finished execution's history. */
  retentionDays: 14,
} as const;

/**
 * Lambda timeouts, in seconds: the CDK stack gives them to each function and the local server enforces them,
 * both through `functionTimeoutSeconds`, so the two cannot drift.
 */
export const FUNCTION_TIMEOUT_SECONDS = {
  /** Functions that do not wait for Ironic. */
  api: 30,
  /** Functions that talk to Ironic: the default of the deployment's `ironicTimeoutSeconds`. */
  ironic: 300,
} as const;

/**
 * How long API Gateway waits for any function before it answers 503 (HTTP APIs allow 30 s; CDK validates at
 * most 29 s). The function goes on after that; its answer is dropped.
 */
export const INTEGRATION_TIMEOUT_SECONDS = 29;

/**
 * A function's Lambda timeout: Ironic functions get the deployment's `ironicTimeoutSeconds` (a register's rollback
 * may outlast API Gateway's answer; the long waits on Ironic are the operation workflow's), every other function
 * the API timeout.
 */
export function functionTimeoutSeconds(
  fn: { readonly ironic?: boolean },
  ironicTimeoutSeconds: number = FUNCTION_TIMEOUT_SECONDS.ironic,
): number {
  return fn.ironic ? ironicTimeoutSeconds : FUNCTION_TIMEOUT_SECONDS.api;
}
