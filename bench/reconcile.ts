/**
 * reconcile (issues 6 and 18): N Ironic-managed nodes (real Ironic, `fake-hardware` driver; the store seeded
 * directly through the repository), then, in one run: reconcile passes of the scheduled function (its handler,
 * in this process, with the time the deployed function gets) next to a bare paginated listing of those Ironic
 * nodes (plain fetch, the reconciler's page size and fields), with the Ironic and DynamoDB calls each pass made.
 *
 * The first pass caches Ironic's state on every node (one write each: what follows a fleet register); the
 * following ones find nothing to change — the steady state of a reconciler that runs every minute (five of
 * them, each after its own bare listing; medians).
 *
 * Several sizes in one run (`BENCH_RECONCILE_NODES=2000,10000`): seeded in ascending order, each size topping
 * up the previous one's nodes (whose cached state is removed first, untimed, so every first pass writes every
 * node), measured at each size and printed side by side. After the steady passes, the first pass's writes are
 * timed alone: every node's cached state written again through the repository, 16 at once, as the reconciler
 * writes — what bounds the first pass.
 *
 * Targets (issue 18): first pass ≤ 2.5× the bare listing, steady pass ≤ 1.3× at every size (linear); Ironic
 * calls ≤ ceil(N/1000) + 2 (issue 6).
 *
 * `npx tsx bench/reconcile.ts` — env: BENCH_RECONCILE_NODES (default 2000; a comma-separated list for several
 * sizes).
 */
import { randomUUID } from "node:crypto";
import type { Context } from "aws-lambda";
import { MAX_API_VERSION } from "../lib/ironic/index.ts";
import type { Node } from "../lib/nodes/model.ts";
import type { ReconcileSummary } from "../lib/nodes/reconciler.ts";
import { withIronicState } from "../lib/nodes/transitions.ts";
import { functionTimeoutsMs } from "../local/api-server.ts";
import { ratio, renderTable, saveResult, verdict } from "./support/report.ts";
import { printWhenMain, progress } from "./support/run.ts";
import { startRecordedStack } from "./support/stack.ts";
import { round } from "./support/stats.ts";

const SEED_CONCURRENCY = 4;
const PAGE = 1000;
/** What the reconciler asks Ironic for (lib/nodes/reconciler.ts). */
const FIELDS = "uuid,name,provision_state,power_state,maintenance,last_error,extra,instance_uuid";
const MAX_FIRST_RATIO = 2.5;
const MAX_STEADY_RATIO = 1.3;
const STEADY_REPEATS = 5;
/** The reconciler's own (lib/nodes/reconciler.ts): the write floor runs as many writes at once. */
const WRITE_CONCURRENCY = 16;

/** The sizes to measure, ascending: `BENCH_RECONCILE_NODES` (one or several, comma-separated). */
function sizes(): number[] {
  const raw = process.env.BENCH_RECONCILE_NODES ?? "2000";
  const values = raw.split(",").map((part) => Number(part.trim()));
  if (values.some((value) => !Number.isInteger(value) || value < 1)) {
    throw new Error(`BENCH_RECONCILE_NODES must be positive integers, comma-separated; got ${raw}`);
  }
  return [...new Set(values)].sort((a, b) => a - b);
}

async function inBatches<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await work(item);
      }
    }),
  );
}

/** The process's resident set size while `work` runs: before, and the most seen (sampled every 20 ms). */
async function withRss<T>(
  work: () => Promise<T>,
): Promise<{ result: T; rssBeforeMb: number; rssPeakMb: number }> {
  const mb = () => process.memoryUsage.rss() / 2 ** 20;
  const rssBeforeMb = mb();
  let rssPeakMb = rssBeforeMb;
  const sampler = setInterval(() => {
    rssPeakMb = Math.max(rssPeakMb, mb());
  }, 20);
  try {
    const result = await work();
    rssPeakMb = Math.max(rssPeakMb, mb());
    return { result, rssBeforeMb: round(rssBeforeMb), rssPeakMb: round(rssPeakMb) };
  } finally {
    clearInterval(sampler);
  }
}

export async function runReconcile(): Promise<string> {
  progress("reconcile: starting the local stack (Ironic, dynalite, API)");
  const bench = await startRecordedStack({ ironic: "start" });
  try {
    const { stack, traffic } = bench;
    const ironicUrl = stack.ironicUrl as string;
    const { documentClient, nodeRepository } = await import("../lib/runtime.ts");
    const { handler } = await import("../functions/reconcile.ts");
    traffic.instrumentDynamo(documentClient());
    const ironicHeaders = {
      Accept: "application/json",
      "Content-Type": "application/json",
      "X-OpenStack-Ironic-API-Version": MAX_API_VERSION,
    };
    // As much time as the deployed function gets (the local API's 30 s integration timeout is API Gateway's,
    // which the scheduled function never goes through).
    const timeoutMs = functionTimeoutsMs().get("reconcile") ?? 300_000;

    let seeded = 0;
    const seedUpTo = async (total: number) => {
      progress(`reconcile: seeding Ironic nodes (fake-hardware) and their records, ${seeded} → ${total}`);
      const started = performance.now();
      const indexes = Array.from({ length: total - seeded }, (_, i) => seeded + i);
      await inBatches(indexes, SEED_CONCURRENCY, async (i) => {
        const uuid = randomUUID();
        const name = `rec-${String(i).padStart(5, "0")}`;
        const response = await fetch(`${ironicUrl}/v1/nodes`, {
          method: "POST",
          headers: ironicHeaders,
          body: JSON.stringify({ name, driver: "fake-hardware", extra: { valence_node_uuid: uuid } }),
        });
        const ironicNode = (await response.json()) as { uuid: string };
        if (response.status !== 201) throw new Error(`seeding Ironic node ${name}: ${response.status}`);
        await nodeRepository().create({
          uuid,
          name,
          description: "reconcile benchmark",
          // No pod manager record: the pass lists no pod manager, so this measures the Ironic side.
          podm_id: "00000000-0000-4000-8000-000000000000",
          index: String(i),
          resource_uri: `/redfish/v1/Systems/${i}`,
          managed_by: "ironic",
          ironic_node_uuid: ironicNode.uuid,
          hardware: {
            cpus: 8,
            memory_mb: 32_768,
            local_gb: 446,
            cpu_arch: "x86_64",
            nics: [
              {
                mac: `52:54:00:${[i >> 16, (i >> 8) & 255, i & 255].map((b) => b.toString(16).padStart(2, "0")).join(":")}`,
                enabled: true,
              },
            ],
          },
        });
      });
      seeded = total;
      progress(`reconcile: seeded in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    };

    const bareListing = async () => {
      const started = performance.now();
      let nodes = 0;
      let requests = 0;
      let url: string | undefined = `${ironicUrl}/v1/nodes?limit=${PAGE}&fields=${FIELDS}`;
      while (url) {
        const response = await fetch(url, { headers: ironicHeaders });
        const page = (await response.json()) as { nodes: unknown[]; next?: string };
        requests++;
        nodes += page.nodes.length;
        url = page.next && page.nodes.length > 0 ? page.next : undefined;
      }
      return { ms: performance.now() - started, nodes, requests };
    };
    const reconcilePass = async () => {
      const deadline = Date.now() + timeoutMs;
      const from = performance.now();
      const { result, rssBeforeMb, rssPeakMb } = await withRss(
        () =>
          handler({ source: "bench" }, {
            awsRequestId: randomUUID(),
            getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
          } as Context) as Promise<ReconcileSummary>,
      );
      const to = performance.now();
      const calls = traffic.between(from, to);
      return {
        ms: to - from,
        summary: result,
        rssBeforeMb,
        rssPeakMb,
        ironicCalls: calls.filter((call) => call.target === "ironic").length,
        dynamodbCalls: calls.filter((call) => call.target === "dynamodb").length,
        dynamodbWrites: calls.filter(
          (call) => call.target === "dynamodb" && /Put|Update|Delete|Write/.test(call.method),
        ).length,
      };
    };
    /**
     * What the first pass's writes cost alone: every node's cached state written again (a new `synced_at`, the
     * same state, so later passes still find nothing to change), one conditional update each through the
     * repository, as the reconciler writes them, `WRITE_CONCURRENCY` at once. Untimed: reading the nodes first.
     */
    const allNodes = async () => {
      const all: Node[] = [];
      let marker: string | undefined;
      do {
        const page = await nodeRepository().list({ limit: PAGE, marker });
        all.push(...page.items);
        marker = page.next;
      } while (marker);
      return all;
    };
    /** Untimed: the nodes of a smaller size lose their cached state, so that each first pass writes every node. */
    const forgetCachedStates = async () => {
      const { UpdateCommand } = await import("@aws-sdk/lib-dynamodb");
      await inBatches(await allNodes(), WRITE_CONCURRENCY, async (node) => {
        await documentClient().send(
          new UpdateCommand({
            TableName: stack.config.VALENCE_TABLE_NAME,
            Key: { pk: `NODE#${node.uuid}`, sk: "NODE" },
            UpdateExpression: "REMOVE ironic_state",
          }),
        );
      });
    };
    const writeFloor = async () => {
      const all = await allNodes();
      const at = new Date().toISOString();
      const from = performance.now();
      await inBatches(all, WRITE_CONCURRENCY, async (node) => {
        const state = node.ironic_state;
        if (!state) throw new Error(`node ${node.uuid} has no cached state after the first pass`);
        await nodeRepository().update(
          node.uuid,
          { version: node.version },
          withIronicState({ ...state, synced_at: at }),
        );
      });
      const to = performance.now();
      return { ms: to - from, writes: all.length, dynamodbCalls: traffic.between(from, to).length };
    };
    type Listing = Awaited<ReturnType<typeof bareListing>>;
    type Pass = Awaited<ReturnType<typeof reconcilePass>>;
    const byMs = <T extends { ms: number }>(items: T[]) =>
      [...items].sort((a, b) => a.ms - b.ms)[Math.floor(items.length / 2)] as T;

    const measured: {
      nodes: number;
      first: { listing: Listing; run: Pass };
      writes: Awaited<ReturnType<typeof writeFloor>>;
      steady: { listing: Listing; run: Pass; passes: number[]; listings: number[] };
    }[] = [];
    for (const nodes of sizes()) {
      if (seeded > 0) await forgetCachedStates();
      await seedUpTo(nodes);
      // Warm the listing once (Ironic's version negotiation, its caches) — not the pass itself.
      await bareListing();
      progress(
        `reconcile: N = ${nodes}: pass 1 (caches Ironic's state on every node), then ${STEADY_REPEATS} steady passes`,
      );
      const listing1 = await bareListing();
      const pass1 = await reconcilePass();
      if (pass1.summary.partial || pass1.summary.errors > 0) {
        throw new Error(
          `the first pass at N = ${nodes} was partial or failed: ${JSON.stringify(pass1.summary)}`,
        );
      }
      // Steady passes are short and Ironic's listing time varies from call to call: alternate and take medians.
      const steadyListings: Listing[] = [];
      const steadyPasses: Pass[] = [];
      for (let i = 0; i < STEADY_REPEATS; i++) {
        steadyListings.push(await bareListing());
        steadyPasses.push(await reconcilePass());
      }
      const listing2 = byMs(steadyListings);
      if (listing2.nodes !== nodes) throw new Error(`Ironic listed ${listing2.nodes} nodes, seeded ${nodes}`);
      if (
        steadyPasses.some(
          (pass) => pass.summary.synced > 0 || pass.summary.errors > 0 || pass.summary.partial,
        )
      ) {
        throw new Error("a steady pass changed something: the benchmark's seed is not what it thinks");
      }
      const writes = await writeFloor();
      const steadyRun = byMs(steadyPasses);
      progress(
        `reconcile: N = ${nodes}: first pass ${pass1.ms.toFixed(0)} ms vs listing ${listing1.ms.toFixed(0)} ms (${(pass1.ms / listing1.ms).toFixed(2)}×); steady ${steadyRun.ms.toFixed(0)} ms vs ${listing2.ms.toFixed(0)} ms (${(steadyRun.ms / listing2.ms).toFixed(2)}×); ${writes.writes} writes alone ${writes.ms.toFixed(0)} ms`,
      );
      measured.push({
        nodes,
        writes,
        first: { listing: listing1, run: pass1 },
        steady: {
          listing: listing2,
          run: steadyRun,
          passes: steadyPasses.map((pass) => round(pass.ms)),
          listings: steadyListings.map((listing) => round(listing.ms)),
        },
      });
    }

    const results = measured.map(({ nodes, first, steady, writes }) => {
      const row = (pass: string, listing: Listing, run: Pass) => ({
        pass,
        reconcile_ms: round(run.ms),
        listing_ms: round(listing.ms),
        listing_requests: listing.requests,
        ratio: round(run.ms / listing.ms, 2),
        ironic_calls: run.ironicCalls,
        dynamodb_calls: run.dynamodbCalls,
        dynamodb_writes: run.dynamodbWrites,
        rss_before_mb: run.rssBeforeMb,
        rss_peak_mb: run.rssPeakMb,
        summary: run.summary,
      });
      return {
        nodes,
        max_ironic_calls: Math.ceil(nodes / 1000) + 2,
        first: row("1 (first: caches state)", first.listing, first.run),
        write_floor: {
          writes: writes.writes,
          ms: round(writes.ms),
          dynamodb_calls: writes.dynamodbCalls,
          ratio_to_first_listing: round(writes.ms / first.listing.ms, 2),
        },
        steady: {
          ...row(`steady (median of ${STEADY_REPEATS})`, steady.listing, steady.run),
          passes_ms: steady.passes,
          listings_ms: steady.listings,
        },
      };
    });
    const worst = (pick: (size: (typeof results)[number]) => number) => Math.max(...results.map(pick));
    const describe = (pick: (size: (typeof results)[number]) => { ratio: number }) =>
      results.map((size) => `${pick(size).ratio}× at N = ${size.nodes}`).join(", ");
    const targets = {
      first_ratio: {
        target: `first pass ≤ ${MAX_FIRST_RATIO}× the bare listing`,
        measured: describe((size) => size.first),
        met: worst((size) => size.first.ratio) <= MAX_FIRST_RATIO,
      },
      steady_ratio: {
        target: `steady pass ≤ ${MAX_STEADY_RATIO}× the bare listing, at every size`,
        measured: describe((size) => size.steady),
        met: worst((size) => size.steady.ratio) <= MAX_STEADY_RATIO,
      },
      ironic_calls: {
        target: "Ironic calls per pass ≤ ceil(N/1000) + 2",
        measured: results
          .map(
            (size) => `${Math.max(size.first.ironic_calls, size.steady.ironic_calls)} at N = ${size.nodes}`,
          )
          .join(", "),
        met: results.every(
          (size) => Math.max(size.first.ironic_calls, size.steady.ironic_calls) <= size.max_ironic_calls,
        ),
      },
    };
    const table = renderTable(
      `reconcile: page size ${PAGE}; N = ${results.map((size) => size.nodes).join(", ")} Ironic-managed nodes`,
      [
        "N",
        "pass",
        "reconcile",
        "bare Ironic listing",
        "ratio",
        "Ironic calls",
        "DynamoDB calls (writes)",
        "checked / synced / errors",
        "RSS before → peak",
      ],
      results.flatMap((size) =>
        [size.first, size.steady].map((row) => [
          size.nodes,
          row.pass,
          `${row.reconcile_ms.toFixed(0)} ms`,
          `${row.listing_ms.toFixed(0)} ms (${row.listing_requests} requests)`,
          ratio(row.ratio),
          `${row.ironic_calls} (≤ ${size.max_ironic_calls})`,
          `${row.dynamodb_calls} (${row.dynamodb_writes})`,
          `${row.summary.checked} / ${row.summary.synced} / ${row.summary.errors}`,
          `${row.rss_before_mb.toFixed(0)} → ${row.rss_peak_mb.toFixed(0)} MB`,
        ]),
      ),
    );
    const sideBySide = renderTable(
      "ratios side by side",
      ["pass", ...results.map((size) => `N = ${size.nodes}`)],
      [
        ["first", ...results.map((size) => ratio(size.first.ratio))],
        ["steady", ...results.map((size) => ratio(size.steady.ratio))],
        [
          `the first pass's writes alone (${WRITE_CONCURRENCY} at once), vs the first listing`,
          ...results.map(
            (size) =>
              `${size.write_floor.ms.toFixed(0)} ms, ${ratio(size.write_floor.ratio_to_first_listing)}`,
          ),
        ],
        [
          "steady, ms per 1,000 nodes",
          ...results.map((size) => `${((size.steady.reconcile_ms / size.nodes) * 1000).toFixed(0)} ms`),
        ],
      ],
    );
    const passes = results
      .map(
        (size) =>
          `N = ${size.nodes}: steady passes ${size.steady.passes_ms.map((ms) => ms.toFixed(0)).join(", ")} ms; listings ${size.steady.listings_ms.map((ms) => ms.toFixed(0)).join(", ")} ms`,
      )
      .join("\n");
    const verdicts = Object.values(targets)
      .map((target) => `${target.target}: ${verdict(target.met)} (${target.measured})`)
      .join("\n");
    const summary = `${table}\n${sideBySide}\n${passes}\ntargets:\n${verdicts}`;
    await saveResult({
      name: "reconcile",
      command: `${process.env.BENCH_RECONCILE_NODES ? `BENCH_RECONCILE_NODES=${process.env.BENCH_RECONCILE_NODES} ` : ""}npx tsx bench/reconcile.ts`,
      parameters: {
        nodes: sizes(),
        page: PAGE,
        fields: FIELDS,
        steady_repeats: STEADY_REPEATS,
        write_concurrency: WRITE_CONCURRENCY,
        timeout_ms: timeoutMs,
      },
      results,
      targets,
      table: summary,
    });
    return summary;
  } finally {
    await bench.stop();
  }
}

await printWhenMain(import.meta.url, runReconcile);
