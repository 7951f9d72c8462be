import { readFileSync } from "node:fs";
import type { CfnResource } from "aws-cdk-lib";
import { describe, expect, it } from "vitest";
import { INTEGRATION_TIMEOUT_SECONDS, ROUTES } from "../../lib/api/routes.ts";
import { functionTimeoutsMs } from "../../local/api-server.ts";
import { logicalIdOf, type Synthesized, synthesize, type TemplateResource } from "./support.ts";

/** What `cdk deploy` reads from the repository. */
const CDK_CONTEXT = (
  JSON.parse(readFileSync(new URL("../../cdk.json", import.meta.url), "utf8")) as {
    context: Record<string, unknown>;
  }
).context;

/** Every deployed function's `Timeout` in the synthesized template, in milliseconds, by handler. */
function templateTimeoutsMs(synth: Synthesized): Map<string, number> {
  return new Map(
    [...synth.stack.functions].map(([handler, fn]) => {
      const id = logicalIdOf(synth.stack, fn.function.node.defaultChild as CfnResource);
      const resource = synth.json.Resources[id] as TemplateResource;
      return [handler, (resource.Properties.Timeout as number) * 1000];
    }),
  );
}

describe("local API server's time limits against the CDK stack's", () => {
  it("gives every deployed function the Lambda timeout the stack gives it, with the repository's cdk.json", () => {
    const synth = synthesize({ context: CDK_CONTEXT, nag: false });
    const deployed = templateTimeoutsMs(synth);
    const local = functionTimeoutsMs();
    expect(deployed.size).toBeGreaterThan(0);
    for (const [handler, timeoutMs] of deployed) expect(local.get(handler), handler).toBe(timeoutMs);
    // Both kinds of function are compared, not only one.
    expect(new Set(deployed.values()).size).toBe(2);
  });

  it("follows the deployment's ironicTimeoutSeconds as the stack does", () => {
    const synth = synthesize({ context: { ironicTimeoutSeconds: 600 }, nag: false });
    const local = functionTimeoutsMs(ROUTES, 600);
    for (const [handler, timeoutMs] of templateTimeoutsMs(synth)) {
      expect(local.get(handler), handler).toBe(timeoutMs);
    }
    expect([...local.values()]).toContain(600_000);
  });

  it("waits as long as the stack's integrations do", () => {
    const synth = synthesize({ nag: false });
    const timeouts = Object.values(synth.json.Resources)
      .filter((resource) => resource.Type === "AWS::ApiGatewayV2::Integration")
      .map((resource) => resource.Properties.TimeoutInMillis as number);
    expect(timeouts.length).toBeGreaterThan(0);
    expect(new Set(timeouts)).toEqual(new Set([INTEGRATION_TIMEOUT_SECONDS * 1000]));
  });
});
