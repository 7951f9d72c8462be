import { ConflictError, NotFoundError, UpstreamError } from "../errors.ts";

/**
 * Errors of the pod-manager client. They extend the shared tree so that the HTTP layer maps them without knowing
 * Redfish. Every detail names the pod manager by its origin only (never its credentials) and, where it helps, the
 * Redfish path and field at fault.
 */

/** The pod manager could not be reached: connection refused, DNS, TLS, or a request timed out. */
export class PodManagerUnreachableError extends UpstreamError {
  override readonly code = "PodManagerUnreachable";
  constructor(podManager: string, reason: string, options?: { cause?: unknown }) {
    super(`pod manager ${podManager} unreachable: ${reason}`, options);
  }
}

/** The pod manager answered something we cannot use: an unexpected status, a non-JSON body, a missing field. */
export class PodManagerResponseError extends UpstreamError {
  override readonly code = "PodManagerResponse";
  constructor(podManager: string, detail: string, options?: { cause?: unknown }) {
    super(`pod manager ${podManager}: ${detail}`, options);
  }
}

/** The pod manager refused Valence's credentials (401 or 403): an upstream failure, the caller's own are fine. */
export class PodManagerAuthError extends UpstreamError {
  override readonly code = "PodManagerAuth";
  constructor(podManager: string, request: string, status: number) {
    super(`pod manager ${podManager} refused the credentials (${status} on ${request})`);
  }
}

/** The composition was accepted but failed on the pod manager (e.g. RSD assembly); anything allocated was released. */
export class CompositionFailedError extends UpstreamError {
  override readonly code = "CompositionFailed";
  constructor(podManager: string, detail: string, options?: { cause?: unknown }) {
    super(`pod manager ${podManager}: composition failed: ${detail}`, options);
  }
}

/** The pod manager refused to compose (409/400): not enough free resources, a block already in use, ... */
export class CompositionRefusedError extends ConflictError {
  readonly code = "CompositionRefused";
  constructor(podManager: string, reason: string, options?: { cause?: unknown }) {
    super(`pod manager ${podManager} refused the composition: ${reason}`, options);
  }
}

/** The pod manager does not offer the kind of composition the request needs (per its collection capabilities). */
export class CompositionUnsupportedError extends ConflictError {
  readonly code = "CompositionUnsupported";
  constructor(podManager: string, reason: string) {
    super(`pod manager ${podManager} cannot compose this request: ${reason}`);
  }
}

/** The composed system (DMTF System or RSD Node) does not exist on the pod manager. */
export class ComposedSystemNotFoundError extends NotFoundError {
  readonly code = "ComposedSystemNotFound";
  constructor(podManager: string, index: string, path: string) {
    super(`composed system ${index} not found on pod manager ${podManager} (${path})`);
  }
}
