import { describe, expect, it } from "vitest";
import { buildBundle, deployedHandlers } from "../../bench/support/bundles.ts";

/**
 * The durable SDK carries the Lambda client for its checkpoints: only the workflow function may pay for it, within
 * 600 KB, Powertools' logger in (the pod-manager re-sync reads secrets by signed requests, not the SDK client).
 */
const WORKFLOW_BUDGET_BYTES = 600 * 1024;
const DURABLE_SDK = "@aws/durable-execution-sdk-js";

describe("the operation workflow's bundle", () => {
  it("bundles as the stack bundles functions within its budget, the durable SDK inside", async () => {
    const bundle = await buildBundle("operation-workflow", { entry: "functions/operation-workflow.ts" });

    expect(bundle.byPackage.get(DURABLE_SDK) ?? 0).toBeGreaterThan(0);
    expect(bundle.bytes).toBeLessThanOrEqual(WORKFLOW_BUDGET_BYTES);
  });

  it("keeps the durable SDK out of every API function", async () => {
    for (const handler of deployedHandlers()) {
      const bundle = await buildBundle(handler, { entry: `functions/${handler}.ts` });
      expect(bundle.byPackage.has(DURABLE_SDK), handler).toBe(false);
    }
  });
});
