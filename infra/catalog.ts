import {
  ROUTES,
  type RouteDefinition,
  SCHEDULED_FUNCTIONS,
  type ScheduledFunction,
  type TableAccess,
  WORKFLOW_FUNCTION,
} from "../lib/api/routes.ts";

/** A function run on a schedule rather than by a route (e.g. `reconcile`). */
export type ScheduledFunctionDefinition = ScheduledFunction & { readonly writesSecrets?: boolean };

/** What a function may touch: the union of what every route or schedule it serves needs. */
export interface FunctionNeeds {
  readonly handler: string;
  readonly summary: string;
  readonly table: TableAccess;
  readonly readsSecrets: boolean;
  readonly writesSecrets: boolean;
  readonly ironic: boolean;
  /** Publishes events: the event bus's name in its environment, `events:PutEvents` on that bus. */
  readonly publishesEvents: boolean;
  /**
   * Starts operations: the workflow alias's ARN in its environment (`VALENCE_WORKFLOW_FUNCTION`),
   * `lambda:InvokeFunction` on that alias alone.
   */
  readonly startsOperations: boolean;
}

/** The routes the stack deploys: every route of the route table except the local-only ones. */
export function deployedRoutes(all: readonly RouteDefinition[] = ROUTES): RouteDefinition[] {
  return all.filter((route) => !route.localOnly);
}

/** The scheduled functions of the route table (`lib/api/routes.ts`). */
export function defaultScheduledFunctions(): readonly ScheduledFunctionDefinition[] {
  return SCHEDULED_FUNCTIONS;
}

const TABLE_RANK: Record<TableAccess, number> = { none: 0, read: 1, write: 2 };

/**
 * One entry per handler. A handler serving several routes (or a route and a schedule) is one Lambda function,
 * so it gets the union of their needs.
 */
export function functionNeeds(
  sources: readonly (RouteDefinition | ScheduledFunctionDefinition)[],
): Map<string, FunctionNeeds> {
  const byHandler = new Map<string, FunctionNeeds>();
  for (const source of sources) {
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(source.handler)) {
      throw new Error(`handler "${source.handler}" must be a kebab-case file name under functions/`);
    }
    const seen = byHandler.get(source.handler);
    byHandler.set(source.handler, {
      handler: source.handler,
      summary: seen ? seen.summary : source.summary,
      table: seen && TABLE_RANK[seen.table] > TABLE_RANK[source.table] ? seen.table : source.table,
      readsSecrets: Boolean(seen?.readsSecrets || source.readsSecrets),
      writesSecrets: Boolean(seen?.writesSecrets || source.writesSecrets),
      ironic: Boolean(seen?.ironic || source.ironic),
      publishesEvents: Boolean(seen?.publishesEvents || source.publishesEvents),
      startsOperations: Boolean(
        seen?.startsOperations || ("startsOperations" in source && source.startsOperations),
      ),
    });
  }
  return byHandler;
}

/**
 * What the operation workflow (`WORKFLOW_FUNCTION`) may touch, decided by the same rules as every other function:
 * it is invoked by no route, only by the functions that start operations.
 */
export function workflowNeeds(): FunctionNeeds {
  const { handler, summary, table, readsSecrets, ironic, publishesEvents } = WORKFLOW_FUNCTION;
  return functionNeeds([{ handler, summary, table, readsSecrets, ironic, publishesEvents }]).get(
    handler,
  ) as FunctionNeeds;
}

/**
 * The Secrets Manager rotation function of pod-manager secrets (`functions/rotate-pod-manager-secret.ts`), invoked
 * by Secrets Manager alone, never by a route or a schedule of ours. It reads the pod manager's record and talks to
 * the pod manager; its last step starts the re-sync of the pod manager's Ironic nodes, an operation (records in
 * the table, the workflow started), as a PATCH of the pod manager's credentials does. Its Secrets Manager actions
 * are its own (`ROTATION_SECRET_ACTIONS`, infra/permissions.ts), not a reader's or a writer's.
 */
export const ROTATION_FUNCTION = {
  handler: "rotate-pod-manager-secret",
  summary: "Rotate a pod manager's password (Secrets Manager rotation steps), then re-sync its Ironic nodes",
  table: "write",
  ironic: false,
  startsOperations: true,
  /** Several pod-manager round trips per step (find the account, change its password), each up to its timeout. */
  timeoutSeconds: 120,
} as const;

/** The rotation function's needs, in the shape of every other function's (its secret actions aside). */
export function rotationNeeds(): FunctionNeeds {
  const { handler, summary, table, ironic, startsOperations } = ROTATION_FUNCTION;
  return {
    handler,
    summary,
    table,
    ironic,
    startsOperations,
    readsSecrets: false,
    writesSecrets: false,
    publishesEvents: false,
  };
}
