/**
 * What a node's history event records, in a module of its own: the API reference (`lib/api/responses.ts`) reads it
 * without the DynamoDB history store of `./history.ts`.
 */
export const HISTORY_ACTIONS = [
  "register",
  "unregister",
  "force-unregister",
  "adopt",
  "rollback",
  "drift",
  "finish-register",
  "finish-unregister",
  "missing",
  "found",
  /** The pod manager's composition changed under the node (a resource block added or removed). */
  "hardware_drift",
  /** Ironic's properties and Valence's ports followed a changed composition. */
  "hardware_sync",
] as const;
export type HistoryAction = (typeof HISTORY_ACTIONS)[number];
