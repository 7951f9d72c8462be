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
