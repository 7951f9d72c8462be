import { mkdir, writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROUTES } from "../../lib/api/routes.ts";
import { type FuzzOutcome, type FuzzTarget, fuzzRoute } from "../support/api-fuzz.ts";
import { fuzzTargetOf } from "../support/fuzz-target.ts";
import { type ReliabilityStack, startReliabilityStack } from "../support/reliability-stack.ts";

/** Cases per route here; `npm run fuzz` runs many more. */
const RUNS = Number(process.env.VALENCE_FUZZ_RUNS ?? 1_000);
/**
 * Cases for a route whose accepted requests drive Ironic or the pod manager (register, unregister, lifecycle verbs;
 * a pod manager's PATCH, which logs in and re-syncs its nodes): each one it accepts waits for real work, so it gets
 * fewer cases here; `npm run fuzz` gives it as many as any other.
 */
const DRIVING_RUNS = Number(process.env.VALENCE_FUZZ_RUNS ?? 300);
const DRIVES_IRONIC =
  /^(POST \/v1\/nodes\/\{id\}\/(register|unregister|manage|provide|inspect)|PATCH \/v1\/pod_managers\/\{id\})$/;
const SEED = Number(process.env.VALENCE_FUZZ_SEED ?? Date.now() % 2 ** 31);
const PODM_CREDENTIALS = { username: "admin", password: "Fuzz-Podm-Pw-5d1" };

/**
 * Every route of the API, fuzzed over HTTP against the local stack (real Ironic, emulator and dynalite behind
 * fault proxies that count what reaches them): never a 5xx, always Valence's error body, nothing written on
 * a 4xx, no call to Ironic or the pod manager for a request refused on its own merits.
 */
describe("fuzzing every route", () => {
  let stack: ReliabilityStack;
  let target: FuzzTarget;
  const outcomes: FuzzOutcome[] = [];

  beforeAll(async () => {
    stack = await startReliabilityStack({
      pool: 8,
      podmPassword: PODM_CREDENTIALS.password,
      logLevel: "WARN",
      env: { VALENCE_PODM_TIMEOUT_MS: "5000", IRONIC_TIMEOUT_MS: "5000" },
    });
    target = await fuzzTargetOf(stack, PODM_CREDENTIALS);
  });

  afterAll(async () => {
    if (outcomes.length > 0) {
      await mkdir(".test-results", { recursive: true });
      await writeFile(
        ".test-results/fuzz-api.json",
        `${JSON.stringify({ seed: SEED, outcomes }, null, 2)}\n`,
      );
      console.log(
        `fuzz (seed ${SEED}): ${outcomes.reduce((n, o) => n + o.cases, 0)} cases\n` +
          outcomes
            .map(
              (o) =>
                `  ${o.route.padEnd(34)} ${String(o.cases).padStart(5)} cases, ${(o.ms / 1000).toFixed(1)} s, ` +
                `answers ${JSON.stringify(o.statuses)}`,
            )
            .join("\n"),
      );
    }
    await stack?.stop();
  });

  it.each(ROUTES.map((route) => [`${route.method} ${route.path}`, route] as const))(
    "%s: never a 5xx, always the error body, nothing written on a 4xx",
    async (_name, route) => {
      const runs = DRIVES_IRONIC.test(`${route.method} ${route.path}`) ? DRIVING_RUNS : RUNS;
      const outcome = await fuzzRoute(target, route, { numRuns: runs, seed: SEED });
      outcomes.push(outcome);
      expect(outcome.cases).toBeGreaterThanOrEqual(runs);
      expect(outcome.statuses["500"] ?? 0).toBe(0);
    },
    300_000,
  );

  it("refuses a manage under a taken name before asking the pod manager anything", async () => {
    const podmCalls = stack.proxies.podm.count();
    const taken = await stack.call("POST", "/v1/nodes/manage", {
      podm_id: target.fixtures.podmId,
      node_index: target.fixtures.valenceNode.index,
      name: target.fixtures.ironicNode.name,
    });
    expect(taken.status).toBe(409);
    expect((taken.body as { code: string }).code).toBe("NodeNameConflict");
    expect(stack.proxies.podm.count() - podmCalls).toBe(0);
  });

  it("left no prototype polluted and logged no unexpected error", () => {
    const probe: Record<string, unknown> = {};
    for (const key of ["polluted", "isAdmin", "managed_by"]) expect(probe[key]).toBeUndefined();
    expect(stack.logs.filter((line) => line.includes('"unexpected error"'))).toEqual([]);
  });
});
