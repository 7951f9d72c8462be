import {
  ConflictError,
  NotFoundError,
  type TimedOut,
  UpstreamError,
  type ValenceError,
  ValidationError,
} from "../errors.ts";

/** What we know about the Ironic exchange behind an error. `faultstring` is always scrubbed of secrets. */
export interface IronicErrorDetails {
  /** HTTP status Ironic (or Keystone) answered, if it answered at all. */
  status?: number;
  /** Ironic's own message, scrubbed. */
  faultstring?: string;
  /** `OpenStack-Request-ID` of the failed exchange, to find it in Ironic's logs. */
  ironicRequestId?: string;
  method?: string;
  path?: string;
  cause?: unknown;
}

type ValenceErrorClass = abstract new (detail: string, options?: { cause?: unknown }) => ValenceError;

/**
 * `base` (a not-found, a conflict, an upstream or a validation error: what decides the HTTP status) carrying
 * the {@link IronicErrorDetails} of the exchange behind it, given as `new (message, details)`.
 */
function withIronicDetails<Base extends ValenceErrorClass>(base: Base) {
  const parent: ValenceErrorClass = base;
  abstract class IronicDetailedError extends parent {
    readonly details: IronicErrorDetails;
    constructor(message: string, details: IronicErrorDetails = {}) {
      super(message, { cause: details.cause });
      this.details = details;
    }
  }
  return IronicDetailedError as unknown as abstract new (
    message: string,
    details?: IronicErrorDetails,
  ) => InstanceType<Base> & IronicDetailedError;
}

export class IronicNodeNotFoundError extends withIronicDetails(NotFoundError) {
  readonly code = "IronicNodeNotFound";
}

export class IronicPortNotFoundError extends withIronicDetails(NotFoundError) {
  readonly code = "IronicPortNotFound";
}

/** Any other 409 from Ironic. */
export class IronicConflictError extends withIronicDetails(ConflictError) {
  readonly code: string = "IronicConflict";
}

export class IronicDuplicateNameError extends IronicConflictError {
  override readonly code: string = "IronicDuplicateName";
}

export class IronicMacAlreadyExistsError extends IronicConflictError {
  override readonly code: string = "IronicMacAlreadyExists";
}

/** Another conductor task holds the node; the driver retries these itself before giving up. */
export class IronicNodeLockedError extends IronicConflictError {
  override readonly code: string = "IronicNodeLocked";
}

/** The node is in a provision state (or maintenance) that does not allow the request. */
export class IronicInvalidStateError extends IronicConflictError {
  override readonly code: string = "IronicInvalidState";
}

/** The node has an instance (a workload) on it. */
export class IronicNodeAssociatedError extends IronicConflictError {
  override readonly code: string = "IronicNodeAssociated";
}

/** Ironic did not answer, answered 503, or timed out. */
export class IronicUnavailableError extends withIronicDetails(UpstreamError) {
  override readonly code: string = "IronicUnavailable";
  /**
   * `unavailable`: a 503; `connect`: the connection was never made (safe to repeat any request);
   * `timeout` and `network`: the request may or may not have reached Ironic.
   */
  readonly reason: "unavailable" | "connect" | "timeout" | "network" | "deadline";
  constructor(message: string, reason: IronicUnavailableError["reason"], details: IronicErrorDetails = {}) {
    super(message, details);
    this.reason = reason;
  }
}

/** Ironic or Keystone refused our credentials (401/403): a deployment problem, not the caller's. */
export class IronicAuthError extends withIronicDetails(UpstreamError) {
  override readonly code: string = "IronicAuthFailed";
}

/** Ironic refused a request as malformed (a 4xx we did not expect): a bug on our side, not the caller's. */
export class IronicRequestError extends withIronicDetails(UpstreamError) {
  override readonly code: string = "IronicRequestRejected";
}

/** Ironic failed on its side (5xx other than 503). */
export class IronicServerError extends IronicRequestError {
  override readonly code: string = "IronicServerError";
}

/** Ironic answered a shape we cannot use (a missing or mistyped field). */
export class IronicBadResponseError extends IronicRequestError {
  override readonly code: string = "IronicBadResponse";
}

/** Ironic's API version range does not meet ours (we need at least 1.11 so nodes are born in `enroll`). */
export class IronicVersionError extends IronicRequestError {
  override readonly code: string = "IronicUnsupportedVersion";
}

/** No usable Ironic endpoint: none configured, or none in the Keystone catalog for the interface/region. */
export class IronicEndpointError extends IronicRequestError {
  override readonly code: string = "IronicEndpointNotFound";
}

/** A provision-state transition ended in a failure state or with `last_error`. */
export class IronicProvisionFailedError extends IronicRequestError {
  override readonly code: string = "IronicProvisionFailed";
  readonly node: { uuid: string; provisionState: string; lastError: string | null };
  constructor(message: string, node: IronicProvisionFailedError["node"], details: IronicErrorDetails = {}) {
    super(message, details);
    this.node = node;
  }
}

/** A provision-state transition did not finish within its time budget. */
export class IronicProvisionTimeoutError extends IronicRequestError implements TimedOut {
  override readonly code: string = "IronicProvisionTimeout";
  readonly timedOut = true;
}

/** A name Ironic would refuse; checked before calling Ironic. The code stays `ValidationError`: the caller's to fix. */
export class IronicNameInvalidError extends withIronicDetails(ValidationError) {}

/**
 * clouds.yaml / `OS_*` / IRONIC_* settings are incomplete or contradictory: the service is misconfigured, which
 * is not the caller's fault; the detail names what is missing.
 */
export class IronicConfigError extends UpstreamError {
  override readonly code: string = "IronicNotConfigured";
}
