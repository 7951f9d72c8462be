import { describe, expect, it } from "vitest";
import { buildBundle, deployedHandlers } from "../../bench/support/bundles.ts";

/**
 * The durable SDK carries the Lambda client for its checkpoints: only the workflow function may pay for it. The
 * aim is 600 KB; the pod-manager re-sync (which reads pod-manager secrets: the Secrets Manager client, 16 KB) and
 * the hardware re-sync (the hardware rules) put it at about 612 KB; fleet enrollment (each node's register runs
 * inside the enrollment's execution: the registration saga and the Redfish reader, about 48 KB of Valence's own
 * code, no new package) at about 677 KB, held here.
 */
const WORKFLOW_BUDGET_BYTES = 690 * 1024;
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
