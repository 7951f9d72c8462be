import type { NewOperation, Operation } from "./model.ts";
import type { OperationTransition } from "./transitions.ts";

export interface OperationListQuery {
  limit: number;
  /** id of the last operation of the previous page. */
  marker?: string | undefined;
}

export interface OperationPage {
  items: Operation[];
  /** id to pass as `marker` for the next page; absent on the last page. */
  next?: string;
}

/** Conditions an update must meet. */
export interface OperationUpdateGuard {
  /** The record must still carry this version (optimistic locking). */
  version: number;
}

/** Where operations live. Every state change is one conditional single-item update. */
export interface OperationRepository {
  /**
   * Stores a new operation, `pending` with every step pending, version 1. Its deadline is the input's, or the
   * store's default after now. Throws `VersionConflictError` when an operation with this id exists.
   */
  create(operation: NewOperation): Promise<Operation>;
  get(id: string): Promise<Operation | undefined>;
  /** A node's operations, newest first. Throws `ValidationError` for a marker that is no operation of the node. */
  listByNode(nodeUuid: string, query: OperationListQuery): Promise<OperationPage>;
  /**
   * Operations still `pending`, `running` or `cancelling`, oldest first: what a restart must resume or fail.
   * Throws `ValidationError` for a marker that is no operation (one that ended since is fine).
   */
  listActive(query: OperationListQuery): Promise<OperationPage>;
  /**
   * Writes one transition (see `transitions.ts`) and bumps `version`. Throws `OperationNotFoundError` when there
   * is no such operation and `VersionConflictError` when its version is no longer the guard's. Returns the
   * operation as written.
   */
  update(id: string, guard: OperationUpdateGuard, transition: OperationTransition): Promise<Operation>;
}
