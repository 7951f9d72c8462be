import { scrubTruncated } from "../scrub.ts";
import {
  IronicAuthError,
  IronicConflictError,
  IronicDuplicateNameError,
  type IronicErrorDetails,
  IronicInvalidStateError,
  IronicMacAlreadyExistsError,
  IronicNameInvalidError,
  IronicNodeAssociatedError,
  IronicNodeLockedError,
  IronicNodeNotFoundError,
  IronicPortNotFoundError,
  IronicRequestError,
  IronicServerError,
  IronicUnavailableError,
} from "./errors.ts";

const MAX_FAULT_LENGTH = 500;

function textOf(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (value === null || typeof value !== "object") return undefined;
  const record = value as Record<string, unknown>;
  for (const key of ["faultstring", "description", "message", "title"]) {
    const found = record[key];
    if (typeof found === "string" && found.length > 0) return found;
  }
  // Keystone (and keystonemiddleware in front of Ironic): {"error": {"code", "title", "message"}}.
  if (record.error !== undefined) return textOf(record.error);
  return undefined;
}

/**
 * Ironic wraps its fault as `{"error_message": "<JSON string>"}` whose inner object carries `faultstring` (or
 * `description` for a 406); some paths send `error_message` as an object already. Anything else (a proxy's
 * HTML page) yields its first characters. The result is not yet scrubbed.
 */
export function extractFault(body: string): string | undefined {
  if (body.trim() === "") return undefined;
  let outer: unknown;
  try {
    outer = JSON.parse(body);
  } catch {
    return body.trim();
  }
  if (outer !== null && typeof outer === "object" && "error_message" in outer) {
    const inner = (outer as { error_message: unknown }).error_message;
    if (typeof inner === "string") {
      try {
        return textOf(JSON.parse(inner)) ?? inner;
      } catch {
        return inner;
      }
    }
    return textOf(inner);
  }
  return textOf(outer);
}

export interface FaultContext {
  method: string;
  path: string;
  ironicRequestId?: string;
  /** Secret values sent with this request or held by the driver; masked out of the message. */
  secrets?: Iterable<string>;
}

/** Turn a non-2xx Ironic answer into the typed error callers branch on. */
export function errorFromResponse(status: number, body: string, context: FaultContext): Error {
  const raw = extractFault(body);
  // Cut before scrubbing: an error body of any size costs what its first characters cost.
  const faultstring = raw === undefined ? undefined : scrubTruncated(raw, MAX_FAULT_LENGTH, context.secrets);
  const details: IronicErrorDetails = {
    status,
    faultstring,
    method: context.method,
    path: context.path,
    ironicRequestId: context.ironicRequestId,
  };
  const said = faultstring ?? `HTTP ${status}`;
  const where = `${context.method} ${context.path}`;

  if (status === 401 || status === 403) {
    return new IronicAuthError(`Ironic refused our credentials on ${where} (${status}): ${said}`, details);
  }
  if (status === 503)
    return new IronicUnavailableError(`Ironic is unavailable (503): ${said}`, "unavailable", details);
  if (status >= 500) return new IronicServerError(`Ironic failed on ${where} (${status}): ${said}`, details);

  const text = faultstring ?? "";
  if (status === 404 || /could not be found/i.test(text)) {
    if (/^port\b/i.test(text) || (!/^node\b/i.test(text) && context.path.startsWith("/v1/ports"))) {
      return new IronicPortNotFoundError(`Ironic: ${said}`, details);
    }
    if (/^node\b/i.test(text) || (status === 404 && context.path.startsWith("/v1/nodes"))) {
      return new IronicNodeNotFoundError(`Ironic: ${said}`, details);
    }
  }
  if (/is locked by host/i.test(text)) return new IronicNodeLockedError(`Ironic: ${said}`, details);
  if (/a node with name .* already exists/i.test(text))
    return new IronicDuplicateNameError(`Ironic: ${said}`, details);
  if (/mac address .* already exists/i.test(text))
    return new IronicMacAlreadyExistsError(`Ironic: ${said}`, details);
  if (/is associated with instance|is already associated/i.test(text)) {
    return new IronicNodeAssociatedError(`Ironic: ${said}`, details);
  }
  // 400 InvalidStateRequested / NodeInMaintenance and 409 InvalidState are all "not in this state": conflicts.
  if (
    /can ?not be performed on node|while it is in (provision )?state|in maintenance mode|provision state/i.test(
      text,
    )
  ) {
    return new IronicInvalidStateError(`Ironic: ${said}`, details);
  }
  if (/invalid name|is reserved and can ?not be used as a node name/i.test(text)) {
    return new IronicNameInvalidError(`name: ${said}`, details);
  }
  if (status === 409) return new IronicConflictError(`Ironic: ${said}`, details);
  return new IronicRequestError(`Ironic rejected ${where} (${status}): ${said}`, details);
}

const CONNECT_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EADDRNOTAVAIL",
  "UND_ERR_CONNECT_TIMEOUT",
]);

function errorCode(error: unknown): string | undefined {
  if (error === null || typeof error !== "object") return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") return code;
  const nested = (error as { errors?: unknown }).errors;
  if (Array.isArray(nested)) return errorCode(nested[0]);
  return errorCode((error as { cause?: unknown }).cause);
}

/** Classify what `fetch` threw: was the request never sent (`connect`), cut short (`timeout`), or unclear? */
export function errorFromNetwork(
  error: unknown,
  context: { service: string; method: string; path: string; timeoutMs: number },
): IronicUnavailableError {
  const where = `${context.method} ${context.path}`;
  const details = { method: context.method, path: context.path, cause: error };
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
    return new IronicUnavailableError(
      `${context.service} did not answer ${where} within ${context.timeoutMs} ms`,
      "timeout",
      details,
    );
  }
  const code = errorCode(error);
  if (code && CONNECT_CODES.has(code)) {
    return new IronicUnavailableError(`cannot connect to ${context.service} (${code})`, "connect", details);
  }
  return new IronicUnavailableError(
    `connection to ${context.service} failed during ${where}${code ? ` (${code})` : ""}`,
    "network",
    details,
  );
}
