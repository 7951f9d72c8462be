import { SLOW_REQUEST_MESSAGE, slowestRequest } from "../../local/request-timings.ts";

/**
 * No request may come near API Gateway's integration timeout (the stack gives 29 s; HTTP APIs allow 30 s): on
 * AWS the caller would get a 503 while the function goes on. Checked after every test file
 * (`request-limits.setup.ts`).
 */
export const REQUEST_LIMIT_MS = 29_000;

/** Output of local API servers running in child processes (`npm start`), which log their slow requests. */
const childOutputs: Array<{ name: string; output: () => string }> = [];

/** Has the check read this child's output too: the local server there logs each request past its limit. */
export function watchChildApi(name: string, output: () => string): void {
  childOutputs.push({ name, output });
}

/** The lines of a local API server's log that report a request past its limit. */
export function slowRequestLines(output: string): string[] {
  return output
    .split("\n")
    .filter((line) => line.includes(SLOW_REQUEST_MESSAGE))
    .map((line) => line.trim());
}

/**
 * Throws when a request answered by a local API server of this process took `limitMs` or longer, or when a
 * watched child's server logged one.
 */
export function assertRequestsWithin(limitMs: number = REQUEST_LIMIT_MS): void {
  const problems: string[] = [];
  const slowest = slowestRequest();
  if (slowest && slowest.durationMs >= limitMs) {
    problems.push(
      `${slowest.method} ${slowest.path} took ${slowest.durationMs} ms (answered ${slowest.status}, ` +
        `request ${slowest.requestId})`,
    );
  }
  for (const child of childOutputs) {
    for (const line of slowRequestLines(child.output())) problems.push(`${child.name}: ${line}`);
  }
  if (problems.length) {
    throw new Error(
      `a request took ${limitMs} ms or longer: API Gateway would have answered 503\n  ${problems.join("\n  ")}`,
    );
  }
}
