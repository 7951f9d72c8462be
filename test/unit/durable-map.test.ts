import { withDurableExecution } from "@aws/durable-execution-sdk-js";
import { LocalDurableTestRunner } from "@aws/durable-execution-sdk-js-testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { durableWorkflowContext } from "../../lib/operations/durable.ts";
import type { MapItemResult } from "../../lib/operations/lifecycle.ts";

/**
 * The workflow port's `map` over the durable execution SDK, run by the SDK's local runner (in this process): the
 * engine the operation workflow runs on AWS.
 */
describe("durableWorkflowContext: map", () => {
  beforeAll(() => LocalDurableTestRunner.setupTestEnvironment({ skipTime: true }));
  afterAll(() => LocalDurableTestRunner.teardownTestEnvironment());

  it("runs at most maxConcurrency items at once, each in its own child context, and answers in the items' order", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const handler = withDurableExecution<{ items: number[] }, MapItemResult<number>[]>(
      async (event, context) =>
        durableWorkflowContext(context).map(
          "items",
          event.items,
          async (ctx, item) => {
            // The same step name in every item: each item's steps are its own.
            const doubled = await ctx.step("double", async () => {
              inFlight++;
              maxInFlight = Math.max(maxInFlight, inFlight);
              await new Promise((resolve) => setTimeout(resolve, 10 + (item % 3) * 10));
              inFlight--;
              return item * 2;
            });
            return doubled;
          },
          { maxConcurrency: 3, itemName: (item) => `item ${item}` },
        ),
    );

    const run = await new LocalDurableTestRunner({ handlerFunction: handler }).run({
      payload: { items: [1, 2, 3, 4, 5, 6, 7, 8] },
    });

    expect(run.getStatus()).toBe("SUCCEEDED");
    expect(run.getResult()).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((item) => ({ ok: true, value: item * 2 })));
    expect(maxInFlight).toBe(3);
  });

  it("fails only the items that throw: every other item still runs, past the SDK's fail-fast default", async () => {
    const ran: number[] = [];
    const handler = withDurableExecution<{ items: number[] }, MapItemResult<string>[]>(
      async (event, context) =>
        durableWorkflowContext(context, {
          retryStrategy: () => ({ shouldRetry: false }),
        }).map(
          "items",
          event.items,
          async (ctx, item) =>
            ctx.step("work", async () => {
              ran.push(item);
              if (item % 2 === 0) throw new Error(`item ${item} broke`);
              return `item ${item} done`;
            }),
          { maxConcurrency: 1 },
        ),
    );

    const run = await new LocalDurableTestRunner({ handlerFunction: handler }).run({
      payload: { items: [1, 2, 3, 4, 5] },
    });

    expect(run.getStatus()).toBe("SUCCEEDED");
    const results = run.getResult() as MapItemResult<string>[];
    expect(results.map((result) => result.ok)).toEqual([true, false, true, false, true]);
    expect(results[1]).toEqual({ ok: false, error: expect.stringContaining("item 2 broke") });
    expect(results[4]).toEqual({ ok: true, value: "item 5 done" });
    expect([...new Set(ran)].sort()).toEqual([1, 2, 3, 4, 5]);
  });
});
