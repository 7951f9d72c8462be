/**
 * register-lifecycle: register + manage + provide (Ironic verifies the BMC, then makes the node available; no
 * cleaning) through Valence's operations path (202, then the durable workflow run by the SDK's local runner, to
 * the end the operation records), next to a naive script doing
 * the same work with no Valence in between: the Redfish reads and Ironic creates of register-floor's floor, then
 * `manage`, a GET of the node every 50 ms until it rests in `manageable`, `provide`, the same until `available`.
 * Both on the local stack (real Ironic, the Redfish emulator, dynalite), in the same run, interleaved node by node.
 *
 * What it shows: how much of a register that includes a lifecycle step is Ironic's own time and how much is our
 * polling (a fixed 1 s poll made it 6.8× the floor), and how many GETs the polling costs Ironic.
 *
 * Target (issue 14): Valence p50 ≤ 1.3× the naive script.
 *
 * `npx tsx bench/register-lifecycle.ts` — env: BENCH_NODES (default 10), BENCH_NICS (default 2),
 * BENCH_NAIVE_POLL_MS (default 50).
 */
import { pollSchedule } from "../lib/ironic/index.ts";
import { ironicVersion, NaiveRegistrar, type NodeBody } from "./register-floor.ts";
import { ratio, renderTable, saveResult, verdict } from "./support/report.ts";
import { envInt, printWhenMain, progress } from "./support/run.ts";
import { composeDemoNodes, expectStatus, startRegisterStack, unregisterNode } from "./support/stack.ts";
import { median, percentile, round } from "./support/stats.ts";
import type { Call } from "./support/traffic.ts";

const FINAL = new Set(["succeeded", "failed", "cancelled"]);

/** Polls the operation every 50 ms until it ends. */
async function followOperation(
  call: (method: string, path: string) => Promise<{ status: number; body: unknown }>,
  id: string,
): Promise<{ state: string; updated_at: string; outcome: { detail: string } | null }> {
  for (;;) {
    const response = await call("GET", `/v1/operations/${id}`);
    const operation = response.body as {
      state: string;
      updated_at: string;
      outcome: { detail: string } | null;
    };
    if (FINAL.has(operation.state)) return operation;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const NODES = Math.max(1, envInt("BENCH_NODES", 10));
const NICS = Math.max(1, envInt("BENCH_NICS", 2));
const NAIVE_POLL_MS = Math.max(1, envInt("BENCH_NAIVE_POLL_MS", 50));
const TARGET = 1.3;

/** What one register cost, on either side. */
interface Sample {
  wallMs: number;
  ironic: number;
  ironicGets: number;
  /** GETs of the registered Ironic node itself: the provision-state polls. */
  nodePolls: number;
}

function sampleOf(calls: readonly Call[], from: number, to: number, ironicUuid: string): Sample {
  const ironic = calls.filter((call) => call.target === "ironic");
  const gets = ironic.filter((call) => call.method === "GET");
  return {
    wallMs: to - from,
    ironic: ironic.length,
    ironicGets: gets.length,
    nodePolls: gets.filter((call) => call.path === `/v1/nodes/${ironicUuid}`).length,
  };
}

/** The naive lifecycle: one provision action, then a GET every `pollMs` until the node rests in `target`. */
async function naiveTransition(
  naive: NaiveRegistrar,
  uuid: string,
  verb: "manage" | "provide",
  target: string,
): Promise<void> {
  await naive.ironic("PUT", `/v1/nodes/${uuid}/states/provision`, { target: verb });
  for (;;) {
    const node = await naive.ironic("GET", `/v1/nodes/${uuid}`);
    const settled = node.target_provision_state === null;
    if (node.provision_state === target && settled) return;
    if (settled && node.last_error) throw new Error(`naive ${verb}: ${String(node.last_error)}`);
    if (String(node.provision_state).endsWith("failed"))
      throw new Error(`naive ${verb}: ${node.provision_state}`);
    await new Promise((resolve) => setTimeout(resolve, NAIVE_POLL_MS));
  }
}

function summarize(samples: readonly Sample[]) {
  const walls = samples.map((s) => s.wallMs);
  return {
    p50_ms: round(median(walls)),
    p90_ms: round(percentile(walls, 90)),
    ironic_calls: round(median(samples.map((s) => s.ironic))),
    ironic_gets: round(median(samples.map((s) => s.ironicGets))),
    node_polls: round(median(samples.map((s) => s.nodePolls))),
    node_polls_max: Math.max(...samples.map((s) => s.nodePolls)),
  };
}

export async function runRegisterLifecycle(): Promise<string> {
  const bench = await startRegisterStack("register-lifecycle", NODES + 3, NICS);
  try {
    const { traffic, emulator, ironicUrl } = bench;

    const [warmup, ...measured] = await composeDemoNodes<NodeBody>(bench, "lifecycle", NODES + 1);
    const naive = new NaiveRegistrar(emulator.url, ironicUrl, await ironicVersion(ironicUrl));

    const valenceRegister = async (node: NodeBody): Promise<Sample> => {
      const from = performance.now();
      const startedAt = Date.now();
      const response = await bench.call<NodeBody & { operation: { id: string } }>(
        "POST",
        `/v1/nodes/${node.uuid}/register`,
        { manage: true, provide: true },
      );
      expectStatus(response, 202, `registering ${node.name} with manage and provide`);
      // The operation's end as the workflow recorded it (a client polling every 50 ms learns it that much later).
      const ended = await followOperation(bench.call, response.body.operation.id);
      if (ended.state !== "succeeded") {
        throw new Error(
          `registering ${node.name}: the operation ended ${ended.state}: ${ended.outcome?.detail}`,
        );
      }
      const to = from + (Date.parse(ended.updated_at) - startedAt);
      const ironicUuid = response.body.ironic_node_uuid;
      if (!ironicUuid) throw new Error(`registering ${node.name}: no Ironic node in the answer`);
      const state = await naive.ironic("GET", `/v1/nodes/${ironicUuid}`);
      if (state.provision_state !== "available") {
        throw new Error(`registering ${node.name}: Ironic node is ${state.provision_state}, not available`);
      }
      const sample = sampleOf(traffic.between(from, to), from, to, ironicUuid);
      await unregisterNode(bench, node);
      return sample;
    };
    const naiveRegister = async (node: NodeBody): Promise<Sample> => {
      const from = performance.now();
      const uuid = await naive.register(node);
      await naiveTransition(naive, uuid, "manage", "manageable");
      await naiveTransition(naive, uuid, "provide", "available");
      const to = performance.now();
      const sample = sampleOf(traffic.between(from, to), from, to, uuid);
      await naive.remove(uuid);
      return sample;
    };

    progress(`register-lifecycle: ${measured.length} registers (manage, provide) each way`);
    // First calls load handlers and negotiate Ironic's version: not what a register costs.
    await valenceRegister(warmup);
    await naiveRegister(warmup);
    const valenceSamples: Sample[] = [];
    const naiveSamples: Sample[] = [];
    // Interleaved node by node, so that drift (Ironic's database, the machine) hits both sides alike.
    for (const node of measured) {
      valenceSamples.push(await valenceRegister(node));
      naiveSamples.push(await naiveRegister(node));
    }

    const valence = summarize(valenceSamples);
    const floor = summarize(naiveSamples);
    const p50Ratio = valence.p50_ms / floor.p50_ms;
    const result = {
      valence,
      naive: floor,
      ratio_p50: round(p50Ratio, 2),
      ratio_p90: round(valence.p90_ms / floor.p90_ms, 2),
      target_ratio: TARGET,
      met: p50Ratio <= TARGET,
      // What the backoff costs Ironic for transitions of typical lengths (real hardware: ~1–2 s each).
      backoff_gets_per_transition: Object.fromEntries(
        [100, 1_000, 2_000, 60_000].map((ms) => [`${ms}ms`, pollSchedule(ms).length]),
      ),
      samples: {
        valence_ms: valenceSamples.map((s) => round(s.wallMs)),
        naive_ms: naiveSamples.map((s) => round(s.wallMs)),
        valence_node_polls: valenceSamples.map((s) => s.nodePolls),
        naive_node_polls: naiveSamples.map((s) => s.nodePolls),
      },
    };

    const table = renderTable(
      `register-lifecycle: ${measured.length} registers per side with manage and provide (no cleaning), ${NICS} NICs each (median per register)`,
      ["side", "p50", "p90", "ratio p50 (p90)", "target", "Ironic calls", "Ironic GETs", "node polls (max)"],
      (["valence", "naive"] as const).map((side) => {
        const s = result[side];
        return [
          side === "valence"
            ? "Valence: 202 + durable workflow (backoff from 50 ms)"
            : `naive script (GET every ${NAIVE_POLL_MS} ms)`,
          `${s.p50_ms.toFixed(0)} ms`,
          `${s.p90_ms.toFixed(0)} ms`,
          side === "valence" ? `${ratio(result.ratio_p50)} (${ratio(result.ratio_p90)})` : "",
          side === "valence" ? `≤ ${TARGET}× ${verdict(result.met)}` : "",
          s.ironic_calls,
          s.ironic_gets,
          `${s.node_polls} (${s.node_polls_max})`,
        ];
      }),
    );
    const summary = `${table}\nnode polls: GETs of the registered Ironic node (manage and provide together); Ironic GETs include Valence's name and MAC lookups.`;
    await saveResult({
      name: "register-lifecycle",
      parameters: { nodes: measured.length, nics: NICS, naive_poll_ms: NAIVE_POLL_MS },
      results: result,
      targets: {
        register_manage_provide: {
          target: `Valence p50 ≤ ${TARGET}× the naive script polling every ${NAIVE_POLL_MS} ms`,
          measured: `${result.ratio_p50}× (${valence.p50_ms} ms vs ${floor.p50_ms} ms); ${valence.node_polls} vs ${floor.node_polls} node polls per register`,
          met: result.met,
        },
      },
      table: summary,
    });
    return summary;
  } finally {
    await bench.stop();
  }
}

await printWhenMain(import.meta.url, runRegisterLifecycle);
