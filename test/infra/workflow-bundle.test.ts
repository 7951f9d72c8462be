import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { buildBundle, deployedHandlers } from "../../bench/support/bundles.ts";

/**
 * The durable SDK carries the Lambda client for its checkpoints: only the workflow function may pay for it (the
 * client and the two commands it uses: `lib/aws/durable-lambda-client.ts`), Powertools' logger in (the pod-manager
 * re-sync reads secrets by signed requests, not the SDK client). The aim is 600 KB; fleet enrollment runs each
 * node's register inside the workflow (the registration saga, the Redfish reader and the hardware rules), which
 * puts it at about 604 KB. What bounds it: the durable SDK (91 KB, one module) and the Lambda client's schemas and
 * error classes (66 KB, kept whole because the client registers every error class when it loads).
 */
const WORKFLOW_BUDGET_BYTES = 610 * 1024;
const DURABLE_SDK = "@aws/durable-execution-sdk-js";

describe("the operation workflow's bundle", () => {
  it("bundles as the stack bundles functions within its budget, the durable SDK inside, and loads in Node", async () => {
    const outdir = mkdtempSync(join(tmpdir(), "valence-workflow-"));
    const bundle = await buildBundle(
      "operation-workflow",
      { entry: "functions/operation-workflow.ts" },
      outdir,
    );

    expect(bundle.byPackage.get(DURABLE_SDK) ?? 0).toBeGreaterThan(0);
    expect(bundle.bytes).toBeLessThanOrEqual(WORKFLOW_BUDGET_BYTES);
    // The Lambda client the durable SDK loads for its checkpoints is in, by the stand-in's files (no entry point).
    expect(bundle.byPackage.get("@aws-sdk/client-lambda") ?? 0).toBeGreaterThan(0);
    const url = pathToFileURL(join(outdir, "operation-workflow", "index.mjs")).href;
    const loaded = execFileSync(
      process.execPath,
      [
        "--enable-source-maps",
        "--input-type=module",
        "-e",
        `const m = await import(${JSON.stringify(url)}); console.log(typeof m.handler);`,
      ],
      { env: { PATH: process.env.PATH ?? "", POWERTOOLS_LOG_LEVEL: "WARN" }, encoding: "utf8" },
    );
    expect(loaded.trim()).toBe("function");
  });

  it("keeps the durable SDK out of every API function", async () => {
    for (const handler of deployedHandlers()) {
      const bundle = await buildBundle(handler, { entry: `functions/${handler}.ts` });
      expect(bundle.byPackage.has(DURABLE_SDK), handler).toBe(false);
    }
    // One bundle per function: minutes on a busy machine.
  }, 300_000);
});
