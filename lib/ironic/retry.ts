/** Milliseconds left for the whole operation; Lambda's `context.getRemainingTimeInMillis` fits as is. */
export type Deadline = () => number;

/** A deadline at an absolute time (epoch milliseconds). */
export function deadlineAt(epochMs: number, now: () => number = Date.now): Deadline {
  return () => epochMs - now();
}

/** A deadline `ms` from now. */
export function deadlineIn(ms: number, now: () => number = Date.now): Deadline {
  return deadlineAt(now() + ms, now);
}

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** Cap of the first backoff; doubles per attempt. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 250, maxDelayMs: 5_000 };

/** Exponential backoff with full jitter: uniform in [0, min(max, base·2^retry)). `retry` counts from 0. */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return Math.floor(random() * cap);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/**
 * How to poll a resource that changes on its own time (an Ironic provision state): often at first, when a fast
 * transition is likely over, then less and less, so that a long one (cleaning, minutes) costs few requests.
 */
export interface PollPolicy {
  /** Delay before the second poll (the first one is immediate). */
  initialMs: number;
  /** Each delay is the previous one times this (≥ 1; 1 polls at a fixed interval). */
  factor: number;
  /** No delay grows past this. */
  maxMs: number;
  /**
   * Each delay is shortened by up to this fraction, at random (0..1), so that many waits started together do
   * not poll in step. Never lengthened: the nominal schedule bounds how late a transition is seen.
   */
  jitter: number;
}

/**
 * 50 ms, ×1.5, up to 3 s: a transition of 0.1 s is seen at the 3rd poll (125 ms), one of 1–2 s at the
 * 7th–8th, one of 10 minutes after ~210 polls (a fixed 1 s interval took 600).
 */
export const DEFAULT_POLL_POLICY: PollPolicy = { initialMs: 50, factor: 1.5, maxMs: 3_000, jitter: 0.2 };

/** A complete policy from partial options; throws `RangeError` on one that would spin or never poll. */
export function pollPolicy(
  options: { [K in keyof PollPolicy]?: PollPolicy[K] | undefined } = {},
): PollPolicy {
  const policy = { ...DEFAULT_POLL_POLICY };
  for (const key of Object.keys(policy) as (keyof PollPolicy)[]) {
    const value = options[key];
    if (value !== undefined) policy[key] = value;
  }
  if (!Number.isFinite(policy.initialMs) || policy.initialMs < 1) {
    throw new RangeError(`the first poll delay must be at least 1 ms, got ${policy.initialMs}`);
  }
  if (!Number.isFinite(policy.factor) || policy.factor < 1) {
    throw new RangeError(`the poll backoff factor must be at least 1, got ${policy.factor}`);
  }
  if (!Number.isFinite(policy.maxMs) || policy.maxMs < policy.initialMs) {
    throw new RangeError(`the poll delay cap must be at least the first delay, got ${policy.maxMs}`);
  }
  if (!Number.isFinite(policy.jitter) || policy.jitter < 0 || policy.jitter >= 1) {
    throw new RangeError(`the poll jitter must be in 0..1, got ${policy.jitter}`);
  }
  return policy;
}

/**
 * The delay after poll number `poll` (0 for the first) before the next one: `initialMs·factor^poll`, capped at
 * `maxMs`, shortened by up to `jitter` of itself. `random` returning 0 (the default) gives the nominal delay.
 */
export function pollDelay(
  poll: number,
  policy: PollPolicy = DEFAULT_POLL_POLICY,
  random: () => number = () => 0,
): number {
  const nominal = Math.min(policy.maxMs, policy.initialMs * policy.factor ** Math.max(0, poll));
  return Math.max(1, Math.round(nominal * (1 - policy.jitter * random())));
}

/**
 * When a poller following `policy` polls (ms after the start, the first at 0) while it waits for something that
 * happens `durationMs` after the start: the last entry is the poll that sees it. Its length is the number of
 * requests such a wait makes; `random` as in `pollDelay` (`() => 1` gives the most polls jitter can cause).
 */
export function pollSchedule(
  durationMs: number,
  policy: PollPolicy = DEFAULT_POLL_POLICY,
  random: () => number = () => 0,
): number[] {
  const times = [0];
  let at = 0;
  for (let poll = 0; at < durationMs; poll++) {
    at += pollDelay(poll, policy, random);
    times.push(at);
  }
  return times;
}
