import { ValenceError } from "../errors.ts";
import { logger } from "../log.ts";
import { maskCredentials } from "../scrub.ts";

/** Valence's error body. */
export interface ErrorBody {
  request_id: string;
  code: string;
  status: number;
  title: string;
  detail: string;
}

/**
 * The one place where errors become responses. A `ValenceError` carries its own status and detail; anything
 * else is a bug or an unexpected upstream failure: logged with its stack, answered with a generic 500 so that no
 * upstream text (which may echo credentials) reaches the caller.
 */
export function toErrorBody(error: unknown, requestId: string): ErrorBody {
  if (error instanceof ValenceError) {
    if (error.statusCode >= 500) logger.error("request failed upstream", { error: describeError(error) });
    else logger.info("request refused", { code: error.code, status: error.statusCode });
    return {
      request_id: requestId,
      code: error.code,
      status: error.statusCode,
      title: error.title,
      detail: error.message,
    };
  }
  logger.error("unexpected error", { error: describeError(error) });
  return {
    request_id: requestId,
    code: "InternalError",
    status: 500,
    title: "Internal Server Error",
    detail: "An unexpected error occurred; the request id identifies it in the logs.",
  };
}

/** Credentials that can hide in error text: URL user-info and `password=...`/`"password": "..."` pairs. */
export function scrubSecrets(text: string): string {
  // The scanner shared with Ironic's scrubbing: linear, where regular expressions over word runs were quadratic.
  return maskCredentials(text, { maskUrlUser: true });
}

/** Name, message and stack only: SDK errors carry request metadata we do not want in every log line. */
export function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { value: scrubSecrets(String(error)) };
  const described: Record<string, unknown> = {
    name: error.name,
    message: scrubSecrets(error.message),
    stack: error.stack === undefined ? undefined : scrubSecrets(error.stack),
  };
  if (error.cause !== undefined && error.cause !== error) described.cause = describeError(error.cause);
  return described;
}
