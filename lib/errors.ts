/**
 * The one error tree of Valence. Every error a caller can see is a `ValenceError`; the HTTP layer maps it to
 * Valence's error body in one place (`lib/http/errors.ts`). Anything else is a 500 with a generic message.
 */
export abstract class ValenceError extends Error {
  abstract readonly statusCode: number;
  /** Stable machine-readable code, part of the API contract. */
  abstract readonly code: string;
  /** Short human title, as Valence's error body had it. */
  abstract readonly title: string;

  constructor(detail: string, options?: { cause?: unknown }) {
    super(detail, options);
    this.name = new.target.name;
  }
}

export class ValidationError extends ValenceError {
  readonly statusCode = 400;
  readonly code: string = "ValidationError";
  readonly title = "Bad Request";
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

export abstract class NotFoundError extends ValenceError {
  readonly statusCode = 404;
  readonly title = "Not Found";
}

export class RouteNotFoundError extends NotFoundError {
  readonly code = "RouteNotFound";
}

export class NodeNotFoundError extends NotFoundError {
  readonly code = "NodeNotFound";
  constructor(id: string, options?: { cause?: unknown }) {
    super(`node ${id} not found`, options);
  }
}

export class PodManagerNotFoundError extends NotFoundError {
  readonly code = "PodManagerNotFound";
  constructor(id: string, options?: { cause?: unknown }) {
    super(`pod manager ${id} not found`, options);
  }
}

export class MethodNotAllowedError extends ValenceError {
  readonly statusCode = 405;
  readonly code = "MethodNotAllowed";
  readonly title = "Method Not Allowed";
}

export abstract class ConflictError extends ValenceError {
  readonly statusCode = 409;
  readonly title = "Conflict";
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
  readonly statusCode: number = 502;
  readonly code: string = "UpstreamError";
  readonly title: string = "Bad Gateway";
}

export class ServiceUnavailableError extends ValenceError {
  readonly statusCode = 503;
  readonly code = "ServiceUnavailable";
  readonly title = "Service Unavailable";
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
 * A register or unregister failed part-way. The detail says at which step, why, and what was rolled back; the
 * status is the cause's when it has one (a 409 stays a 409), else 502.
 */
export class OperationFailedError extends ValenceError {
  readonly statusCode: number;
  readonly code: string;
  readonly title: string;
  constructor(code: string, detail: string, cause: unknown) {
    super(detail, { cause });
    this.code = code;
    this.statusCode = cause instanceof ValenceError ? cause.statusCode : 502;
    this.title = cause instanceof ValenceError ? cause.title : "Bad Gateway";
  }
}
