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

/**
 * A request would have left the pod manager's origin (scheme, host, port): a link such as `//other-host/...` in an
 * `@odata.id` or a `Location` header. Nothing was sent; credentials and session tokens go to one origin only.
 */
export class PodManagerOriginRefusedError extends UpstreamError {
  override readonly code = "PodManagerOriginRefused";
  constructor(podManager: string, refusedOrigin: string, request: string) {
    super(
      `pod manager ${podManager}: refused ${request}: it leads to ${refusedOrigin}, not the pod manager's origin`,
    );
  }
}

/**
 * The deployment's address policy refused the connection: the URL's scheme, or an address its host resolved to
 * (loopback, link-local, metadata, outside the allowed networks). Nothing was sent.
 */
export class PodManagerAddressRefusedError extends UpstreamError {
  override readonly code = "PodManagerAddressRefused";
  constructor(podManager: string, reason: string) {
    super(`pod manager ${podManager}: connection refused by the address policy: ${reason}`);
  }
}

/** The pod manager's answer was larger than Valence reads; reading stopped at the cap. */
export class PodManagerResponseTooLargeError extends UpstreamError {
  override readonly code = "PodManagerResponseTooLarge";
  constructor(podManager: string, request: string, maxBytes: number) {
    super(`pod manager ${podManager}: ${request} answered more than ${maxBytes} bytes`);
  }
}
