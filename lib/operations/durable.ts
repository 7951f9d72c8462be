import type { DurableContext, StepConfig } from "@aws/durable-execution-sdk-js";
import type { MapItemResult, WaitCheck, WaitOptions, WorkflowContext } from "./lifecycle.ts";

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
 * throws), `waitUntil` a `waitForCondition` whose delays grow to a cap, `map` the SDK's `map` (each item in a
 * child context, `maxConcurrency` at once) tolerating every failure: the SDK's default stops starting items at
 * the first one that fails. Durations are whole seconds (the SDK's unit), at least one.
 */
export function durableWorkflowContext(
  context: DurableContext,
  options: DurableWorkflowOptions = {},
): WorkflowContext {
  const config = options.retryStrategy ? { retryStrategy: options.retryStrategy } : undefined;
  return {
    map: async (name, items, fn, mapOptions) => {
      const batch = await context.map(
        name,
        [...items],
        (child, item, index) => fn(durableWorkflowContext(child, options), item, index),
        {
          maxConcurrency: mapOptions.maxConcurrency,
          completionConfig: { toleratedFailurePercentage: 100 },
          ...(mapOptions.itemName ? { itemNamer: mapOptions.itemName } : {}),
        },
      );
      // Every item ran to its end (no failure stops the batch): each has its slot, by index.
      const results: MapItemResult<Awaited<ReturnType<typeof fn>>>[] = items.map(() => ({
        ok: false,
        error: "the item did not run",
      }));
      for (const item of batch.all) {
        results[item.index] =
          item.status === "SUCCEEDED"
            ? { ok: true, value: item.result as Awaited<ReturnType<typeof fn>> }
            : { ok: false, error: item.error?.message ?? `the item ended ${item.status}` };
      }
      return results;
    },
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
