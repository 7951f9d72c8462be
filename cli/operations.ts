import type { OperationView } from "../lib/operations/model.ts";
import { type ApiResponse, apiErrorOf, retryAfterMs, type ValenceClient } from "./client.ts";
import { UnreachableError } from "./errors.ts";
import { columns, formatDetail, formatList } from "./output.ts";

export type { OperationView };

type Step = OperationView["steps"][number];

/** States an operation ends in (the API's `FINAL_OPERATION_STATES`). */
const FINAL_STATES: ReadonlySet<string> = new Set(["succeeded", "failed", "cancelled"]);

export function isFinished(operation: Pick<OperationView, "state">): boolean {
  return FINAL_STATES.has(operation.state);
}

/** How often the CLI looks at an operation it follows. */
export const FOLLOW_POLICY = {
  /** The first look after the answer: fast transitions (a verify) show at once. */
  firstDelayMs: 250,
  /**
   * The longest gap between looks, whatever `Retry-After` says: each step then shows within this of the
   * workflow recording it.
   */
  maxDelayMs: 2_000,
  /** Looks that fail in a row (5xx, 429, unreachable) before the CLI gives up following. */
  maxFailures: 5,
  /** A 429/503 `Retry-After` is honoured up to this. */
  maxBackoffMs: 60_000,
} as const;

/**
 * The delay before look number `attempt` (0-based): doubling from `firstDelayMs`, never past the API's
 * `Retry-After` hint nor past `maxDelayMs`, so progress shows while the operation runs.
 */
export function followDelayMs(attempt: number, retryAfter: number | undefined): number {
  const backoff = FOLLOW_POLICY.firstDelayMs * 2 ** Math.min(attempt, 10);
  return Math.max(
    FOLLOW_POLICY.firstDelayMs,
    Math.min(backoff, retryAfter ?? Number.POSITIVE_INFINITY, FOLLOW_POLICY.maxDelayMs),
  );
}

/** `verifying → manageable`, `clean wait → available`, `manageable`; empty before Ironic was looked at. */
function ironicOf(step: Step): string {
  if (!step.provision_state) return "";
  return step.target_provision_state
    ? `${step.provision_state} → ${step.target_provision_state}`
    : step.provision_state;
}

/** One line for a step as it stands: its state, Ironic's provision state, and Ironic's error when it has one. */
export function describeStep(step: Step): string {
  const ironic = ironicOf(step);
  return [
    `${step.name}: ${step.state}`,
    ironic ? ` (Ironic: ${ironic})` : "",
    step.last_error ? ` last_error: ${step.last_error}` : "",
    step.detail ? ` — ${step.detail}` : "",
  ].join("");
}

const stepKey = (step: Step | undefined) =>
  step
    ? JSON.stringify([
        step.state,
        step.provision_state,
        step.target_provision_state,
        step.last_error,
        step.detail,
      ])
    : "";

/**
 * What changed from `before` to `now`, one line per change: each step whose state, Ironic state or error
 * changed (a step still pending is not news), and the operation entering `cancelling`. Pure.
 */
export function progressLines(before: OperationView | undefined, now: OperationView): string[] {
  const lines: string[] = [];
  if (now.state === "cancelling" && before?.state !== "cancelling")
    lines.push("cancelling: the operation stops at Ironic's next abortable state or step boundary");
  for (const step of now.steps) {
    const previous = before?.steps.find((each) => each.name === step.name);
    if (!previous && step.state === "pending") continue;
    if (stepKey(previous) !== stepKey(step)) lines.push(describeStep(step));
  }
  return lines;
}

/** `Operation <id> succeeded: ...` — the sentence that ends a followed operation. */
export function outcomeLine(operation: OperationView): string {
  const outcome = operation.outcome;
  if (!outcome) return `Operation ${operation.id} is ${operation.state}.`;
  const code = operation.state === "succeeded" || outcome.code === "Cancelled" ? "" : ` (${outcome.code})`;
  return `Operation ${operation.id} ${operation.state}${code}: ${outcome.detail}`;
}

/** What to tell someone who stopped following an operation that goes on. */
export function followHint(operationId: string): string {
  return (
    `Operation ${operationId} goes on. Follow it: valence operation-show ${operationId} --wait; ` +
    `cancel it: valence operation-cancel ${operationId}`
  );
}

export interface FollowOptions {
  client: ValenceClient;
  /** Where the operation is read: the 202's `Location`, else `/v1/operations/{id}`. */
  url: URL;
  /** The operation as last seen (the 202's body). */
  initial: OperationView;
  /** The 202's `Retry-After`, in ms. */
  retryAfterMs?: number | undefined;
  sleep: (ms: number) => Promise<void>;
  /** Each change as a line (see `progressLines`). */
  progress?: (line: string) => void;
  /** The operation as each look found it (an enrollment's nodes, for a progress bar). */
  seen?: (operation: OperationView) => void | Promise<void>;
  /** Resolves when the caller wants to stop following (Ctrl-C). */
  interrupted?: Promise<void>;
}

export type FollowResult =
  | { ended: true; operation: OperationView }
  /** Stopped by `interrupted`; the operation goes on. */
  | { ended: false; operation: OperationView };

const INTERRUPTED: unique symbol = Symbol("interrupted");

/** An error status worth another look: the service's failure, or throttling. */
const transientStatus = (status: number) => status >= 500 || status === 429;

/**
 * Follows an operation until it ends: reads it again and again (see `followDelayMs`), reporting each change.
 * A look that fails transiently (5xx, 429, no answer) is tried again — a 429/503 after its `Retry-After` — up
 * to `FOLLOW_POLICY.maxFailures` in a row; any other failure ends the follow by throwing. Never cancels anything.
 */
export async function followOperation(options: FollowOptions): Promise<FollowResult> {
  const { client, url, sleep } = options;
  let operation = options.initial;
  let hint = options.retryAfterMs;
  let failures = 0;
  /** Extra wait asked by a throttled look. */
  let backoff = 0;
  const stop: Promise<typeof INTERRUPTED> | undefined = options.interrupted?.then(() => INTERRUPTED);
  const orStop = <T>(promise: Promise<T>): Promise<T | typeof INTERRUPTED> =>
    stop ? Promise.race([promise, stop]) : promise;

  for (const line of progressLines(undefined, operation)) options.progress?.(line);
  for (let attempt = 0; !isFinished(operation); attempt++) {
    const delay = Math.max(followDelayMs(attempt, hint), backoff);
    if ((await orStop(sleep(delay))) === INTERRUPTED) return { ended: false, operation };
    let answered: ApiResponse<OperationView> | typeof INTERRUPTED;
    try {
      answered = await orStop(client.send<OperationView>("GET", url));
    } catch (error) {
      if (!(error instanceof UnreachableError) || ++failures >= FOLLOW_POLICY.maxFailures) throw error;
      backoff = 1_000 * failures;
      continue;
    }
    if (answered === INTERRUPTED) return { ended: false, operation };
    if (answered.status >= 400) {
      if (!transientStatus(answered.status) || ++failures >= FOLLOW_POLICY.maxFailures)
        throw apiErrorOf(answered);
      const asked = retryAfterMs(answered.headers.get("retry-after"));
      backoff = Math.min(asked ?? 1_000 * failures, FOLLOW_POLICY.maxBackoffMs);
      continue;
    }
    failures = 0;
    backoff = 0;
    hint = retryAfterMs(answered.headers.get("retry-after")) ?? hint;
    for (const line of progressLines(operation, answered.body)) options.progress?.(line);
    operation = answered.body;
    await options.seen?.(operation);
  }
  return { ended: true, operation };
}

export const OPERATION_COLUMNS = columns(
  "ID=id, Kind=kind, State=state, Steps=steps_summary, Outcome=outcome.code, Created=created_at",
);

/** `manage=succeeded, provide=running`: a list row's view of the steps. */
function stepsSummary(operation: OperationView): string {
  return operation.steps.map((step) => `${step.name}=${step.state}`).join(", ");
}

export function formatOperationList(operations: readonly OperationView[]): string {
  return formatList(
    operations.map((operation) => ({ ...operation, steps_summary: stepsSummary(operation) })),
    OPERATION_COLUMNS,
  );
}

const STEP_COLUMNS = columns(
  "Step=name, State=state, Provision State=provision_state, Target=target_provision_state, Started=started_at, Finished=finished_at, Last Error=last_error",
);

/** One operation: its fields as Field | Value, then its steps as a table. */
export function formatOperation(operation: OperationView): string {
  const { steps, ...fields } = operation;
  return `${formatDetail(fields)}${formatList(steps, STEP_COLUMNS)}`;
}
