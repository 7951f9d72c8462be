/**
 * The API's routes: one source for the local server, the CDK stack and the API reference.
 * Each route is served by its own Lambda, `functions/<handler>.ts`.
 */
export type TableAccess = "none" | "read" | "write";

export interface RouteDefinition {
  readonly method: "GET" | "POST" | "PATCH" | "DELETE";
  /** API Gateway path template; `{name}` segments become `pathParameters`. */
  readonly path: string;
  /** File name under `functions/` (without `.ts`), also the Lambda's logical name. */
  readonly handler: string;
  readonly summary: string;
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

export const ROUTES: readonly RouteDefinition[] = [
  { method: "GET", path: "/", handler: "get-root", summary: "API versions", table: "none" },
  { method: "GET", path: "/v1", handler: "get-v1", summary: "The v1 API and its resources", table: "none" },
  {
    method: "POST",
    path: "/v1/pod_managers",
    handler: "create-pod-manager",
    summary: "Add a pod manager",
    table: "write",
    writesSecrets: true,
    // Checks the pod manager's placement fields against what Ironic offers.
    ironic: true,
  },
  {
    method: "GET",
    path: "/v1/pod_managers",
    handler: "list-pod-managers",
    summary: "List pod managers",
    table: "read",
  },
  {
    method: "GET",
    path: "/v1/pod_managers/{id}",
    handler: "get-pod-manager",
    summary: "Show a pod manager (and probe it)",
    table: "write",
    readsSecrets: true,
  },
  {
    method: "PATCH",
    path: "/v1/pod_managers/{id}",
    handler: "update-pod-manager",
    summary: "Update a pod manager (202 and a resync operation when its Ironic nodes must follow)",
    table: "write",
    writesSecrets: true,
    startsOperations: true,
    ironic: true,
  },
  {
    method: "GET",
    path: "/v1/pod_managers/{id}/operations",
    handler: "list-pod-manager-operations",
    summary: "A pod manager's operations (its resyncs), newest first",
    table: "read",
  },
  {
    method: "DELETE",
    path: "/v1/pod_managers/{id}",
    handler: "delete-pod-manager",
    summary: "Remove a pod manager",
    table: "write",
    writesSecrets: true,
  },
  { method: "GET", path: "/v1/nodes", handler: "list-nodes", summary: "List nodes", table: "read" },
  {
    method: "GET",
    path: "/v1/nodes/{id}",
    handler: "get-node",
    summary: "Show a node (uuid or name); ?refresh=true adds Ironic's live state",
    table: "read",
    ironic: true,
  },
  {
    method: "POST",
    path: "/v1/nodes/register",
    handler: "register-nodes",
    summary:
      "Enroll many nodes (a list, or a pod manager's): 202 and an enroll operation, one per node inside",
    // Finds the nodes and starts the workflow, which registers them: no Ironic or pod manager on this path.
    table: "write",
    startsOperations: true,
  },
  {
    method: "POST",
    path: "/v1/nodes/{id}/register",
    handler: "register-node",
    summary: "Register a node in Ironic (202 and an operation when it includes manage, inspect or provide)",
    table: "write",
    readsSecrets: true,
    ironic: true,
    publishesEvents: true,
    startsOperations: true,
  },
  ...(["manage", "provide", "inspect", "clean"] as const).map(
    (action): RouteDefinition => ({
      method: "POST",
      path: `/v1/nodes/{id}/${action}`,
      handler: "start-node-operation",
      summary: `Start Ironic's ${action} on a registered node: 202 and an operation`,
      table: "write",
      ironic: true,
      startsOperations: true,
    }),
  ),
  {
    method: "GET",
    path: "/v1/nodes/{id}/operations",
    handler: "list-node-operations",
    summary: "A node's operations, newest first",
    table: "read",
  },
  {
    method: "GET",
    path: "/v1/operations/{id}",
    handler: "get-operation",
    summary: "Show an operation: its steps, Ironic's progress, its outcome",
    table: "read",
  },
  {
    method: "POST",
    path: "/v1/operations/{id}/cancel",
    handler: "cancel-operation",
    summary: "Cancel an operation (Ironic aborts in clean wait or inspect wait)",
    table: "write",
  },
  {
    method: "POST",
    path: "/v1/nodes/{id}/unregister",
    handler: "unregister-node",
    summary: "Remove a node from Ironic (202 and an operation while Ironic still moves it)",
    table: "write",
    ironic: true,
    publishesEvents: true,
    startsOperations: true,
  },
  {
    method: "GET",
    path: "/v1/nodes/{id}/history",
    handler: "get-node-history",
    summary: "A node's history: registers, unregisters and what the reconciler settled, newest first",
    table: "read",
  },
  {
    method: "POST",
    path: "/v1/reconcile",
    handler: "run-reconcile",
    summary: "Run one reconcile pass now (local stack only)",
    table: "write",
    readsSecrets: true,
    ironic: true,
    localOnly: true,
    publishesEvents: true,
  },
  {
    method: "POST",
    path: "/v1/nodes",
    handler: "compose-node",
    summary: "Compose a node on a pod manager",
    table: "write",
    readsSecrets: true,
  },
  {
    method: "POST",
    path: "/v1/nodes/manage",
    handler: "manage-node",
    summary: "Manage an already composed system",
    table: "write",
    readsSecrets: true,
  },
  {
    method: "DELETE",
    path: "/v1/nodes/{id}",
    handler: "delete-node",
    summary: "Decompose a node and forget it",
    table: "write",
    readsSecrets: true,
  },
  {
    method: "POST",
    path: "/v1/nodes/{id}/action",
    handler: "node-action",
    summary: "Reset or set the boot override of a node",
    table: "read",
    readsSecrets: true,
  },
  {
    method: "GET",
    path: "/v1/openapi.json",
    handler: "get-openapi",
    summary: "This API's reference as an OpenAPI 3.1 document",
    table: "none",
  },
];

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
