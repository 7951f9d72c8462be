import type { Deadline } from "./retry.ts";
import type {
  IronicConductor,
  IronicDriverInfo,
  IronicNode,
  IronicNodeField,
  IronicPort,
  JsonPatchOperation,
  NewIronicNode,
  NewIronicPort,
  NodeValidation,
  ProvisionTarget,
} from "./schemas.ts";

/** Per-call context: which request this work belongs to and how long it may take. */
export interface IronicCallContext {
  /** Sent as `X-OpenStack-Request-ID` (`req-<uuid>`), so Ironic's logs can be joined with ours. */
  requestId?: string;
  /** Retries, polls and timeouts never run past it. */
  deadline?: Deadline;
}

export interface ListNodesQuery<F extends IronicNodeField = IronicNodeField> {
  /** Page size, 1..1000 (Ironic's `max_limit`); the iterator still goes through every page. */
  limit?: number;
  /** Start after this node UUID. */
  marker?: string;
  /** Only these fields (plus whatever Ironic adds); all the typed fields when unset. */
  fields?: readonly F[];
  provision_state?: string;
  maintenance?: boolean;
  associated?: boolean;
  driver?: string;
  resource_class?: string;
  conductor_group?: string;
  fault?: string;
  sort_key?: string;
  sort_dir?: "asc" | "desc";
}

export interface NodePage<F extends IronicNodeField = IronicNodeField> {
  nodes: Pick<IronicNode, F>[];
  /** Pass as `marker` to get the following page; undefined on the last page. */
  nextMarker?: string;
}

export interface WaitForProvisionStateOptions {
  /** The provision *state* to reach (`manageable`, `available`, `active`, ...), not the verb. */
  target: string;
  /** States that end the wait with an error. @default every `... failed` state and `error` */
  failureStates?: readonly string[];
  /** @default 300_000 */
  timeoutMs?: number;
  /**
   * Delay before the second GET (the first is immediate); later delays grow by `pollFactor` up to `maxPollMs`,
   * so a fast transition is seen within tens of milliseconds and a long one costs few GETs.
   * @default 50
   */
  pollMs?: number;
  /** Growth of the delay from one GET to the next; 1 polls every `pollMs`. @default 1.5 */
  pollFactor?: number;
  /** Cap of the delay between GETs. @default 3_000 */
  maxPollMs?: number;
  /** Each delay is shortened at random by up to this fraction (0..1), never lengthened. @default 0.2 */
  pollJitter?: number;
}

/**
 * Everything Valence may ask of Ironic. `createIronicDriver` gives the HTTP adapter. The node services depend on
 * a narrower port, `IronicNodesPort` in `lib/nodes/ironic-port.ts`, which this interface satisfies; tests pass
 * the in-memory adapter of that port (`test/support/memory-ironic.ts`).
 */
export interface IronicDriver {
  /** A view of this driver that sends `context.requestId` and honours `context.deadline`; caches are shared. */
  withContext(context: IronicCallContext): IronicDriver;
  withRequestId(requestId: string): IronicDriver;

  /** The API version in use, negotiated with Ironic on first use. */
  apiVersion(): Promise<string>;

  /**
   * A hardware type (`redfish`) with the interfaces Ironic has enabled for it (API ≥ 1.30). Throws
   * `IronicRequestError` when Ironic has no such hardware type enabled.
   */
  getDriver(name: string): Promise<IronicDriverInfo>;
  /** Every conductor Ironic has registered, alive or not, with its group and hardware types (API ≥ 1.49). */
  listConductors(): Promise<IronicConductor[]>;

  getNode(ident: string): Promise<IronicNode>;
  getNode<F extends IronicNodeField>(ident: string, fields: readonly F[]): Promise<Pick<IronicNode, F>>;
  /** One page of nodes. */
  listNodesPage<F extends IronicNodeField = IronicNodeField>(query?: ListNodesQuery<F>): Promise<NodePage<F>>;
  /** Every node matching `query`, page after page. */
  listNodes<F extends IronicNodeField = IronicNodeField>(
    query?: ListNodesQuery<F>,
  ): AsyncIterable<Pick<IronicNode, F>>;
  /** `listNodes` gathered in an array. */
  findNodes<F extends IronicNodeField = IronicNodeField>(
    query?: ListNodesQuery<F>,
  ): Promise<Pick<IronicNode, F>[]>;
  createNode(node: NewIronicNode): Promise<IronicNode>;
  updateNode(ident: string, patch: readonly JsonPatchOperation[]): Promise<IronicNode>;
  /**
   * Ironic's own validation of the node's interfaces (`GET /v1/nodes/{id}/validate`): each interface's `result`
   * and, when false, Ironic's `reason`. Passwords Ironic may quote in a reason are scrubbed.
   */
  validateNode(ident: string): Promise<NodeValidation>;
  /** The node's traits (API ≥ 1.37). */
  getTraits(ident: string): Promise<string[]>;
  /** Replaces every trait of the node with `traits` (API ≥ 1.37; Ironic takes at most 50). */
  setTraits(ident: string, traits: readonly string[]): Promise<void>;
  /** Throws `IronicNodeNotFoundError` when already gone; callers deleting may treat that as success. */
  deleteNode(ident: string): Promise<void>;

  listPorts(filter?: { node_uuid?: string; address?: string; limit?: number }): Promise<IronicPort[]>;
  getPortByAddress(address: string): Promise<IronicPort | undefined>;
  createPort(port: NewIronicPort): Promise<IronicPort>;
  deletePort(uuid: string): Promise<void>;

  /** Starts a transition (202); follow it with `waitForProvisionState`. */
  setProvisionState(ident: string, target: ProvisionTarget, extra?: Record<string, unknown>): Promise<void>;
  setMaintenance(ident: string, reason?: string): Promise<void>;
  clearMaintenance(ident: string): Promise<void>;
  /**
   * Polls until the node rests in `target`. Fails with `IronicProvisionFailedError` on a failure state or when
   * the transition ends elsewhere with `last_error` (a failed `manage` falls back to `enroll`), and with
   * `IronicProvisionTimeoutError` when time runs out.
   */
  waitForProvisionState(ident: string, options: WaitForProvisionStateOptions): Promise<IronicNode>;
}
