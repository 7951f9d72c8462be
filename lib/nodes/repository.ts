import type { ManagedBy, NewNode, Node, NodeChanges } from "./model.ts";

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
}

/** Where nodes live. Every state change is one conditional single-item update. */
export interface NodeRepository {
  /** Throws `NodeNameConflictError` when the name is taken. */
  create(node: NewNode): Promise<Node>;
  get(uuid: string): Promise<Node | undefined>;
  findByName(name: string): Promise<Node | undefined>;
  list(query: NodeListQuery): Promise<NodePage>;
  /** Throws `VersionConflictError` when the guard no longer holds. Returns the node as written. */
  update(uuid: string, guard: UpdateGuard, changes: NodeChanges): Promise<Node>;
  /** Throws `VersionConflictError` when the guard no longer holds. */
  delete(uuid: string, guard: UpdateGuard): Promise<void>;
  countByPodManager(podmId: string): Promise<number>;
}
