/**
 * How long the local API servers of this process took to answer, kept so a test suite can check that no request
 * came near API Gateway's integration timeout (`test/support/request-limits.ts`). No imports: the check runs
 * after every test file, including those that never start a server.
 */
export interface RequestTiming {
  method: string;
  path: string;
  status: number;
  requestId: string;
  /** From the request's arrival to the end of its answer. */
  durationMs: number;
}

let slowest: RequestTiming | undefined;

export function recordRequestTiming(timing: RequestTiming): void {
  if (!slowest || timing.durationMs > slowest.durationMs) slowest = timing;
}

/** The slowest request any local API server of this process answered so far. */
export function slowestRequest(): RequestTiming | undefined {
  return slowest;
}

/** The log message a local API server writes when a request outlasts its limit (`slowRequestMs`). */
export const SLOW_REQUEST_MESSAGE = "request slower than API Gateway allows";
