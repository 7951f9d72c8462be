import { ValenceError } from "../errors.ts";
import { logger } from "../log.ts";
import { STATUS_BY_CODE, titleOf } from "./statuses.ts";

/** Valence's error body. */
export interface ErrorBody {
  request_id: string;
  code: string;
  status: number;
  title: string;
  detail: string;
}

/**
 * The one place where errors become responses. A `ValenceError` carries a code and a detail; its status comes from
 * the code table (`./statuses.ts`). Anything else is a bug or an unexpected upstream failure: logged with its
 * stack (scrubbed, as every log entry: `lib/log.ts`), answered with a generic 500 so that no upstream text (which
 * may echo credentials) reaches the caller.
 */
export function toErrorBody(error: unknown, requestId: string): ErrorBody {
  if (error instanceof ValenceError) {
    const entry = STATUS_BY_CODE[error.code];
    if (!entry) {
      // A code the table lacks is our bug (the table's unit test should have caught it): a 500, never a guess.
      logger.error("error code without a status", { code: error.code, error });
      return internalError(requestId, error.code);
    }
    const { status } = entry;
    if (status >= 500) logger.error("request failed", { code: error.code, status, error });
    else logger.info("request refused", { code: error.code, status });
    return {
      request_id: requestId,
      code: error.code,
      status,
      title: titleOf(status),
      detail: entry.internal ? GENERIC_DETAIL : error.message,
    };
  }
  logger.error("unexpected error", { error });
  return internalError(requestId, "InternalError");
}

const GENERIC_DETAIL = "An unexpected error occurred; the request id identifies it in the logs.";

function internalError(requestId: string, code: string): ErrorBody {
  return { request_id: requestId, code, status: 500, title: titleOf(500), detail: GENERIC_DETAIL };
}
