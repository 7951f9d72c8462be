import type { DurableContext, StepConfig } from "@aws/durable-execution-sdk-js";
import type { WaitCheck, WaitOptions, WorkflowContext } from "./lifecycle.ts";

/** The delay before check number `attempt` (1-based) of a durable wait: doubling from the first, capped. */
export function durableWaitDelayMs(attempt: number, options: WaitOptions): number {
  return Math.min(options.maxDelayMs, options.firstDelayMs * 2 ** Math.max(0, attempt - 1));
}

export interface DurableWorkflowOptions {
  /** How a step that throws is retried. @default the SDK's default (exponential, 6 attempts) */
  retryStrategy?: StepConfig<unknown>["retryStrategy"];
}

/**
 * The workflow port over the durable execution SDK: `step` is a checkpointed step (retried by the SDK when it
 * throws), `waitUntil` a `waitForCondition` whose delays grow to a cap. Durations are whole seconds (the
 * SDK's unit), at least one.
 */
export function durableWorkflowContext(
  context: DurableContext,
  options: DurableWorkflowOptions = {},
): WorkflowContext {
  const config = options.retryStrategy ? { retryStrategy: options.retryStrategy } : undefined;
  return {
    step: <T>(name: string, fn: () => Promise<T>) => context.step(name, () => fn(), config) as Promise<T>,
    waitUntil: async <T>(name: string, check: () => Promise<WaitCheck<T>>, options: WaitOptions) => {
      const result = await context.waitForCondition<WaitCheck<T>>(name, () => check(), {
        initialState: { done: false },
        waitStrategy: (state, attempt) =>
          state.done
            ? { shouldContinue: false }
            : {
                shouldContinue: true,
                delay: { seconds: Math.max(1, Math.round(durableWaitDelayMs(attempt, options) / 1000)) },
              },
      });
      if (!result.done) throw new Error(`durable wait ${name} ended without its value`);
      return result.value;
    },
  };
}
