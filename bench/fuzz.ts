/**
 * fuzz: the long version of `test/integration/fuzz-api.test.ts` — every route of the API fuzzed over HTTP
 * against the local stack (real Ironic, emulator, dynalite behind counting proxies), many more cases per route.
 * Properties: never a 5xx; always Valence's error body; a 4xx writes nothing (or, refused by an upstream,
 * changes nothing); a request refused on its own merits never reaches Ironic or the pod manager.
 *
 * `npm run fuzz` — env: BENCH_FUZZ_RUNS (10000 per route), BENCH_FUZZ_SEED (random; printed, to replay a
 * failure), BENCH_FUZZ_ROUTES (substring filter on "METHOD /path").
 */
import { ROUTES } from "../lib/api/routes.ts";
import { type FuzzOutcome, fuzzRoute } from "../test/support/api-fuzz.ts";
import { fuzzTargetOf } from "../test/support/fuzz-target.ts";
import { startReliabilityStack } from "../test/support/reliability-stack.ts";
import { renderTable, saveResult, verdict } from "./support/report.ts";
import { dropEmfLines, envInt } from "./support/run.ts";

const RUNS = Math.max(1, envInt("BENCH_FUZZ_RUNS", 10_000));
const SEED = envInt("BENCH_FUZZ_SEED", Math.floor(Math.random() * 2 ** 31));
const FILTER = process.env.BENCH_FUZZ_ROUTES ?? "";
const CREDENTIALS = { username: "admin", password: "Fuzz-Podm-Pw-5d1" };

async function main(): Promise<number> {
  const started = new Date();
  const routes = ROUTES.filter((route) => `${route.method} ${route.path}`.includes(FILTER));
  process.stderr.write(`fuzz: ${routes.length} route(s) × ${RUNS} cases, seed ${SEED}\n`);
  const stack = await startReliabilityStack({
    pool: 8,
    podmPassword: CREDENTIALS.password,
    captureLogs: false,
    logLevel: "ERROR",
    env: { VALENCE_PODM_TIMEOUT_MS: "5000", IRONIC_TIMEOUT_MS: "5000" },
  });
  const outcomes: FuzzOutcome[] = [];
  const failures: string[] = [];
  try {
    const target = await fuzzTargetOf(stack, CREDENTIALS);
    for (const route of routes) {
      const name = `${route.method} ${route.path}`;
      process.stderr.write(`  ${name}…\n`);
      try {
        outcomes.push(await fuzzRoute(target, route, { numRuns: RUNS, seed: SEED }));
      } catch (error) {
        failures.push(`${name}: ${(error as Error).message}`);
      }
      // Keep the memory flat over long runs: the stack's own records of what it answered.
      stack.responses.length = 0;
    }
  } finally {
    await stack.stop();
  }

  const table = renderTable(
    `fuzz: ${outcomes.reduce((n, o) => n + o.cases, 0)} cases, seed ${SEED}`,
    ["route", "cases", "seconds", "answers", "4xx after an upstream call", "table unchanged"],
    outcomes.map((o) => [
      o.route,
      o.cases,
      (o.ms / 1000).toFixed(1),
      JSON.stringify(o.statuses),
      JSON.stringify(o.refusedAfterCallout),
      String(o.scanUnchanged),
    ]),
  );
  console.log(table);
  for (const failure of failures) console.log(`\nFAILED ${failure}`);
  const path = await saveResult({
    name: "fuzz",
    command: "npm run fuzz",
    started,
    parameters: { runs_per_route: RUNS, seed: SEED, filter: FILTER },
    results: { outcomes, failures },
    targets: {
      properties: {
        target: "no 5xx, Valence's error body, nothing written or called on a refusal — on every route",
        measured: failures.length === 0 ? "held" : `${failures.length} route(s) broke one`,
        met: failures.length === 0,
      },
    },
    table,
  });
  console.log(`properties: ${verdict(failures.length === 0)} (${path})`);
  return failures.length === 0 ? 0 : 1;
}

dropEmfLines();

process.exitCode = await main();
