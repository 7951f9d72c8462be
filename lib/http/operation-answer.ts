import { type Operation, toOperationView } from "../operations/model.ts";
import { OPERATION_RETRY_AFTER_SECONDS } from "../operations/schemas.ts";
import { accepted, type HttpResult, json } from "./route.ts";

/**
 * The answer of a request that may have started an operation: 200 with `view` when it did not, else 202 with `view`
 * and the operation, `Location` naming it and `Retry-After` saying when to look.
 */
export function answerWithOperation(
  view: Record<string, unknown>,
  operation: Operation | undefined,
  baseUrl: string,
): HttpResult {
  if (!operation) return json(200, view);
  return accepted(
    { ...view, operation: toOperationView(operation) },
    operation,
    baseUrl,
    OPERATION_RETRY_AFTER_SECONDS,
  );
}
