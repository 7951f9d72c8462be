import type { ManagedBy, NewNode, Node } from "./model.ts";
import type { Transition } from "./transitions.ts";

export interface NodeListQuery {
  managed_by?: ManagedBy | undefined;
  podm_id?: string | undefined;
  name?: string | undefined;
  limit: number;
  /** uuid of the last node of the previous page. */
  marker?: string | undefined;
}

export interface NodePage {
  items: Node[];
  /** uuid to pass as `marker` for the next page; absent on the last page. */
  next?: string;
}

/** Conditions an update must meet besides the expected version. */
export interface UpdateGuard {
  /** The record must still carry this version (optimistic locking). */
  version: number;
  managed_by?: ManagedBy;
  /** No register/unregister may be in flight. */
  noIntent?: boolean;
  /**
   * A write whose answer was lost (a cut connection, a 500 after the commit) is retried by the SDK, and the retry
   * then fails the version condition although the write stands. With this set, a failed update whose record
   * shows exactly this write (the next version, carrying every change) is taken as done. Only for writes no
   * other caller could make identically (a saga's final write).
   */
  acceptLanded?: boolean;
}

/** Where nodes live. Every state change is one conditional single-item update. */
export interface NodeRepository {
  /** Throws `NodeNameConflictError` when the name is taken. */
  create(node: NewNode): Promise<Node>;
  get(uuid: string): Promise<Node | undefined>;
  findByName(name: string): Promise<Node | undefined>;
  list(query: NodeListQuery): Promise<NodePage>;
  /**
   * Writes one transition (see `transitions.ts`) and bumps `version`. Throws `VersionConflictError` when the
   * guard no longer holds. Returns the node as written.
   */
  update(uuid: string, guard: UpdateGuard, transition: Transition): Promise<Node>;
  /** Throws `VersionConflictError` when the guard no longer holds. */
  delete(uuid: string, guard: UpdateGuard): Promise<void>;
  countByPodManager(podmId: string): Promise<number>;
}
