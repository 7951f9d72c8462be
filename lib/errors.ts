/**
 * The one error tree of Valence. Every error a caller can see is a `ValenceError` with a stable `code`; errors know
 * nothing of HTTP. One table at the edge (`lib/http/statuses.ts`) maps each code to a status, and
 * `lib/http/errors.ts` turns the error into Valence's error body. Anything else is a 500 with a generic message.
 */
export abstract class ValenceError extends Error {
  /** Stable machine-readable code, part of the API contract; `lib/http/statuses.ts` gives its HTTP status. */
  abstract readonly code: string;

  constructor(detail: string, options?: { cause?: unknown }) {
    super(detail, options);
    this.name = new.target.name;
  }
}

export class ValidationError extends ValenceError {
  readonly code: string = "ValidationError";
}

/** An enrollment whose selector selects no node (every node of the pod manager is registered already). */
export class NothingToEnrollError extends ValidationError {
  override readonly code = "NothingToEnroll";
}

/**
 * A pod-manager URL the deployment's address policy refuses (http://, loopback, link-local, metadata, outside
 * the allowed networks). Refused before anything is stored or sent, so the answer reveals nothing about the host.
 */
export class PodManagerUrlRefusedError extends ValidationError {
  override readonly code = "PodManagerUrlRefused";
  constructor(rule: string, reason: string) {
    super(`body.url: refused (${rule}): ${reason}`);
  }
}

/**
 * New pod-manager credentials or a new address that do not log in (the pod manager refused them, or could not be
 * reached at the new address): the caller's request is what is wrong, and nothing was written. The detail names
 * the pod manager's answer (its 401, a refused connection), never the credentials.
 */
export class PodManagerLoginFailedError extends ValidationError {
  override readonly code = "PodManagerLoginFailed";
  constructor(detail: string, options?: { cause?: unknown }) {
    super(
      `body.authentication: the pod manager did not accept the new credentials or address: ${detail}; nothing was changed`,
      options,
    );
  }
}

export abstract class NotFoundError extends ValenceError {}

export class RouteNotFoundError extends NotFoundError {
  readonly code = "RouteNotFound";
}

/** A record of Valence's, asked for by id, that does not exist: `<record> <id> not found`. */
function recordNotFound<Code extends string>(record: string, code: Code) {
  abstract class RecordNotFoundError extends NotFoundError {
    readonly code: Code = code;
    constructor(id: string, options?: { cause?: unknown }) {
      super(`${record} ${id} not found`, options);
    }
  }
  return RecordNotFoundError;
}

export class NodeNotFoundError extends recordNotFound("node", "NodeNotFound") {}

export class PodManagerNotFoundError extends recordNotFound("pod manager", "PodManagerNotFound") {}

export class MethodNotAllowedError extends ValenceError {
  readonly code = "MethodNotAllowed";
}

export class OperationNotFoundError extends recordNotFound("operation", "OperationNotFound") {}

export abstract class ConflictError extends ValenceError {}

/**
 * A move the operation's state does not allow (finishing a step of an operation that already ended, cancelling
 * one that is over). The detail names the operation, its state and the move refused.
 */
export class OperationStateError extends ConflictError {
  readonly code = "OperationState";
  constructor(id: string, detail: string) {
    super(`operation ${id}: ${detail}`);
  }
}

export class NodeNameConflictError extends ConflictError {
  readonly code = "NodeNameConflict";
  constructor(name: string) {
    super(`a node named ${name} already exists`);
  }
}

export class PodManagerConflictError extends ConflictError {
  readonly code = "PodManagerConflict";
  constructor(field: "name" | "url", value: string) {
    super(`a pod manager with ${field} ${value} already exists`);
  }
}

/** Another writer changed the record since we read it (optimistic locking). */
export class VersionConflictError extends ConflictError {
  readonly code = "VersionConflict";
  constructor(what: string) {
    super(`${what} was changed concurrently; retry the request`);
  }
}

export class PodManagerInUseError extends ConflictError {
  readonly code = "PodManagerInUse";
  constructor(id: string, nodes: number) {
    super(`pod manager ${id} still has ${nodes} node(s); delete or unregister them first`);
  }
}

/** An upstream service (pod manager, Ironic) failed or answered something we cannot use. */
export class UpstreamError extends ValenceError {
  readonly code: string = "UpstreamError";
}

export class ServiceUnavailableError extends ValenceError {
  readonly code = "ServiceUnavailable";
}

export class NodeAlreadyManagedError extends ConflictError {
  readonly code = "NodeAlreadyManaged";
  constructor(podmId: string, index: string, nodeUuid: string) {
    super(`system ${index} of pod manager ${podmId} is already managed as node ${nodeUuid}`);
  }
}

/** The spec's rule: once Ironic manages a node, Valence does not touch it until it is unregistered. */
export class NodeManagedByIronicError extends ConflictError {
  readonly code = "NodeManagedByIronic";
  constructor(id: string) {
    super(`node ${id} is managed by Ironic; unregister it first`);
  }
}

/** A register, unregister or delete is already running on the node. */
export class NodeBusyError extends ConflictError {
  readonly code = "NodeBusy";
  constructor(id: string, op: string) {
    super(`node ${id} is busy: ${op} in progress`);
  }
}

/** The node has an operation (register's lifecycle, manage, provide, ...) still running: one at a time. */
export class OperationInProgressError extends ConflictError {
  readonly code = "OperationInProgress";
  constructor(
    id: string,
    readonly operationId: string,
    kind: string,
  ) {
    super(`node ${id} has operation ${operationId} (${kind}) in progress; see /v1/operations/${operationId}`);
  }
}

export class NodeNotRegisteredError extends ConflictError {
  readonly code = "NodeNotRegistered";
  constructor(id: string) {
    super(`node ${id} is not registered in Ironic`);
  }
}

export class NodeAlreadyRegisteredError extends ConflictError {
  readonly code = "NodeAlreadyRegistered";
  constructor(id: string, ironicNodeUuid: string | null) {
    super(`node ${id} is already registered in Ironic as ${ironicNodeUuid ?? "an unknown node"}`);
  }
}

/** Ironic already has a node or port for other hardware under our name or MAC. */
export class IronicResourceTakenError extends ConflictError {
  readonly code = "IronicResourceTaken";
}

/** The Ironic node is in a state that does not allow what was asked. */
export class IronicNodeStateError extends ConflictError {
  readonly code = "IronicNodeState";
}

/** Nothing to give Ironic as a port: no NIC of the system is enabled. */
export class NodeHasNoEnabledNicError extends ConflictError {
  readonly code = "NodeHasNoEnabledNic";
  constructor(id: string) {
    super(`node ${id} has no enabled network interface to register as an Ironic port`);
  }
}

/**
 * The service itself is misconfigured (a bad environment variable, a missing setting): not the caller's fault, so
 * never a 4xx. The detail names the setting for the logs; the caller gets a generic message.
 */
export class ConfigurationError extends ValenceError {
  readonly code = "ServerMisconfigured";
}

/**
 * A register or unregister failed part-way. The detail says at which step, why, and what was rolled back. Its code
 * is its own (`RegistrationFailed`: an upstream failure, whatever the upstream answered, so Ironic's 404 for a node
 * deleted under us never becomes ours), with two deliberate exceptions that keep what the cause means to the
 * caller: a conflict met part-way (a MAC another node holds, a node Ironic keeps locked) is `RegistrationConflict`,
 * and a wait that ran out of time (`wait_timeout`) is `RegistrationTimeout`.
 */
/** An operation was recorded but its workflow could not be started; it is failed, nothing was left running. */
export class OperationNotStartedError extends ValenceError {
  readonly code = "OperationNotStarted";
}

export class OperationFailedError extends ValenceError {
  readonly code: string;
  constructor(code: string, detail: string, cause: unknown) {
    super(detail, { cause });
    this.code = operationFailureCode(code, cause);
  }
}

/** Set on errors that mean an upstream did not finish in time (e.g. a provision-state wait that ran out). */
export interface TimedOut {
  readonly timedOut: true;
}

function isTimedOut(error: unknown): error is TimedOut {
  return typeof error === "object" && error !== null && (error as Partial<TimedOut>).timedOut === true;
}

const FAILED = /Failed$/;

/** The code of an operation failure raised with `code` because of `cause`. */
export function operationFailureCode(code: string, cause: unknown): string {
  if (cause instanceof ConflictError) return code.replace(FAILED, "Conflict");
  if (isTimedOut(cause)) return code.replace(FAILED, "Timeout");
  return code;
}

/** Every code an operation failure raised with `code` may carry, for the status table's test. */
export function operationFailureCodes(code: string): string[] {
  return [...new Set([code, code.replace(FAILED, "Conflict"), code.replace(FAILED, "Timeout")])];
}
