/**
 * fleet-enroll: a rack enrolled in one request. `POST /v1/nodes/register` with BENCH_NODES nodes (default 40) of
 * BENCH_NICS NICs each (default 4), `manage` + `provide` with automated cleaning on (production's
 * `automated_clean = true`, the emulated ramdisk agent taking BENCH_CLEAN_MS per clean, default 20 s), the
 * emulator answering every request BENCH_LATENCY_MS late (default 100 ms, as real BMCs do), the concurrency limit
 * at BENCH_CONCURRENCY (default 40). Next to one node enrolled alone the same way on the same stack.
 *
 * What it shows: whether the nodes of a rack go through Ironic side by side (the wall time of the rack against
 * one node's), what each node costs Ironic in calls (Valence's and the ramdisk agent's apart), and what Ironic's
 * conductor lets run at once, measured by sampling Ironic's nodes during the run: the local Ironic is one process
 * (`ironic` singleprocess, `[api] api_workers = 1`, SQLite) with Ironic's defaults for the conductor's
 * `workers_pool_size` (100), `max_concurrent_clean` (50), `sync_power_state_workers` and `periodic_max_workers`
 * (8 each), read from the installed Ironic.
 *
 * Target (issue 18): the rack's wall time ≤ 1.5× one node's.
 *
 * `npx tsx bench/fleet-enroll.ts` — env: BENCH_NODES, BENCH_NICS, BENCH_CLEAN_MS, BENCH_LATENCY_MS,
 * BENCH_CONCURRENCY.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { poolInventory } from "../local/pool.ts";
import { PYTHON } from "../local/process.ts";
import { ratio, renderTable, saveResult, verdict } from "./support/report.ts";
import { envInt, printWhenMain, progress } from "./support/run.ts";
import { composeDemoNodes, expectStatus, startRecordedStack } from "./support/stack.ts";
import { median, round } from "./support/stats.ts";

const NODES = Math.max(1, envInt("BENCH_NODES", 40));
const NICS = Math.max(1, envInt("BENCH_NICS", 4));
const CLEAN_MS = Math.max(0, envInt("BENCH_CLEAN_MS", 20_000));
const LATENCY_MS = Math.max(0, envInt("BENCH_LATENCY_MS", 100));
const CONCURRENCY = Math.max(1, envInt("BENCH_CONCURRENCY", 40));
const TARGET = 1.5;
/** Ironic's own paths the ramdisk agents call (lookup, heartbeat): Ironic's load, not Valence's. */
const AGENT_PATHS = /^\/v1\/(lookup|heartbeat)/;

interface NodeBody {
  uuid: string;
  name: string;
}

interface EnrollView {
  id: string;
  state: string;
  updated_at: string;
  outcome: { code: string; detail: string } | null;
  nodes: { name: string; state: string; code: string | null; detail: string | null }[];
}

/** The conductor and API settings that bound concurrent work, as the installed Ironic defaults them. */
async function ironicDefaults(): Promise<Record<string, unknown>> {
  const script = [
    "import json",
    "from ironic.conf import conductor, api",
    "names = ['workers_pool_size', 'max_concurrent_clean', 'max_concurrent_deploy', 'sync_power_state_workers', 'periodic_max_workers']",
    "out = {'conductor.' + o.name: o.default for o in conductor.opts if o.name in names}",
    "out.update({'api.' + o.name: o.default for o in api.opts if o.name == 'api_workers'})",
    "print(json.dumps(out))",
  ].join("\n");
  const { stdout } = await promisify(execFile)(PYTHON, ["-c", script]);
  return JSON.parse(stdout) as Record<string, unknown>;
}

/** Linux reports CPU time in USER_HZ ticks: 100 a second on every architecture it runs on here. */
const CLOCK_TICKS = 100;
const share = (value: number | null) => (value === null ? "n/a" : value.toFixed(2));
const percent = (value: number | null) => (value === null ? "n/a" : `${Math.round(value * 100)}%`);

/** CPU seconds a process has used (user + system), from `/proc/<pid>/stat`; undefined off Linux. */
function cpuSecondsOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // The fields after the command's closing parenthesis: utime and stime are the 12th and 13th, in clock ticks.
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** The machine's busy and total CPU seconds over all its CPUs, from `/proc/stat`. */
function machineCpuSeconds(): { busy: number; total: number } | undefined {
  try {
    const [, ...ticks] = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/);
    const values = ticks.map(Number);
    const idle = (values[3] ?? 0) + (values[4] ?? 0);
    const total = values.slice(0, 8).reduce((sum, value) => sum + value, 0);
    return { busy: (total - idle) / CLOCK_TICKS, total: total / CLOCK_TICKS };
  } catch {
    return undefined;
  }
}

export async function runFleetEnroll(): Promise<string> {
  progress(
    `fleet-enroll: starting the local stack (Ironic cleaning, emulator with ${NODES + 3} blocks of ${NICS} NICs, dynalite)`,
  );
  const bench = await startRecordedStack({
    demo: true,
    ironic: "start",
    automatedClean: true,
    cleanStepMs: CLEAN_MS,
    emulatorInventory: poolInventory(NODES + 3, NICS),
  });
  try {
    const { stack, traffic } = bench;
    const emulator = stack.emulator;
    const ironicUrl = stack.ironicUrl;
    if (!emulator || !ironicUrl) throw new Error("the local stack started without emulator or Ironic");
    const settings = await ironicDefaults();

    const [alone, ...rack] = await composeDemoNodes<NodeBody>(bench, "fleet", NODES + 1);
    emulator.switches.latencyMs = LATENCY_MS;

    /** Ironic's nodes by provision state, sampled while an enrollment runs: what Ironic really ran at once. */
    let peakCleaning = 0;
    let peakBusy = 0;
    let sampling = false;
    const sample = async () => {
      while (sampling) {
        try {
          // Through localhost, not the labelled origin: the sampler's calls are not the nodes' Ironic calls.
          const response = await fetch(
            `${ironicUrl.replace("127.0.0.1", "localhost")}/v1/nodes?fields=provision_state&limit=1000`,
            {
              headers: { "x-openstack-ironic-api-version": "1.8" },
            },
          );
          const { nodes = [] } = (await response.json()) as { nodes?: { provision_state: string }[] };
          const states = nodes.map((node) => node.provision_state);
          peakCleaning = Math.max(
            peakCleaning,
            states.filter((state) => state === "cleaning" || state === "clean wait").length,
          );
          peakBusy = Math.max(
            peakBusy,
            states.filter((state) => !["enroll", "manageable", "available"].includes(state)).length,
          );
        } catch {
          // Ironic under the rack's load may drop a look: the next one counts.
        }
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    };

    const enroll = async (nodes: readonly NodeBody[]) => {
      const ironicCpuBefore = cpuSecondsOf(stack.ironicPid);
      const machineBefore = machineCpuSeconds();
      const from = performance.now();
      const startedAt = Date.now();
      const response = await bench.call<EnrollView>("POST", "/v1/nodes/register", {
        nodes: nodes.map((node) => node.uuid),
        manage: true,
        provide: true,
        concurrency: CONCURRENCY,
      });
      expectStatus(response, 202, `enrolling ${nodes.length} node(s)`);
      let ended: EnrollView;
      for (;;) {
        ended = (await bench.call<EnrollView>("GET", `/v1/operations/${response.body.id}`)).body;
        if (["succeeded", "failed", "cancelled"].includes(ended.state)) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      // Nodes that did not enroll are counted, by code, with one detail each: what bounded the run.
      const failed = ended.nodes.filter((node) => node.state !== "succeeded");
      const failures: Record<string, { count: number; example: string }> = {};
      for (const node of failed) {
        const code = node.code ?? node.state;
        failures[code] ??= { count: 0, example: `${node.name}: ${node.detail ?? ""}` };
        failures[code].count++;
      }
      // The end as the workflow recorded it (a client polling every 250 ms learns it that much later).
      const to = from + (Date.parse(ended.updated_at) - startedAt);
      const ironicCpuAfter = cpuSecondsOf(stack.ironicPid);
      const machineAfter = machineCpuSeconds();
      const calls = traffic.between(from, to).filter((call) => call.target === "ironic");
      const agent = calls.filter((call) => AGENT_PATHS.test(call.path)).length;
      const valenceCalls = calls.filter((call) => !AGENT_PATHS.test(call.path));
      // Valence's calls per node by kind (method and path, ids left out): where its share of Ironic's load goes.
      const byKind: Record<string, number> = {};
      for (const call of valenceCalls) {
        const kind = `${call.method} ${call.path.split("?")[0]?.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, "{id}")}`;
        byKind[kind] = (byKind[kind] ?? 0) + 1;
      }
      return {
        enrolled: nodes.length - failed.length,
        failures,
        wall_ms: round(to - from),
        /** How long Ironic took to answer Valence's calls: its API's queue under the load. */
        ironic_call_ms_p50: round(median(valenceCalls.map((call) => call.end - call.start))),
        ironic_calls_per_s: round((calls.length / (to - from)) * 1000, 1),
        ironic_calls_per_node: round((calls.length - agent) / nodes.length, 1),
        agent_calls_per_node: round(agent / nodes.length, 1),
        ironic_calls_per_node_by_kind: Object.fromEntries(
          Object.entries(byKind)
            .sort((a, b) => b[1] - a[1])
            .map(([kind, count]) => [kind, round(count / nodes.length, 1)]),
        ),
        ironic_cpu_s_per_node:
          ironicCpuBefore === undefined || ironicCpuAfter === undefined
            ? null
            : round((ironicCpuAfter - ironicCpuBefore) / nodes.length, 2),
        /** Ironic's process (Python: one core at most for its own code) and the whole machine, busy over the run. */
        ironic_cpu_share:
          ironicCpuBefore === undefined || ironicCpuAfter === undefined
            ? null
            : round((ironicCpuAfter - ironicCpuBefore) / ((performance.now() - from) / 1000), 2),
        machine_cpu_share:
          machineBefore === undefined || machineAfter === undefined
            ? null
            : round((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total), 2),
      };
    };

    progress(`fleet-enroll: one node alone (manage, provide, ${CLEAN_MS} ms of cleaning)`);
    sampling = true;
    const aloneSampler = sample();
    const single = await enroll([alone]);
    sampling = false;
    await aloneSampler;
    peakCleaning = 0;
    peakBusy = 0;

    progress(`fleet-enroll: ${rack.length} nodes at once (concurrency ${CONCURRENCY})`);
    sampling = true;
    const rackSampler = sample();
    const fleet = await enroll(rack);
    sampling = false;
    await rackSampler;

    const wallRatio = fleet.wall_ms / single.wall_ms;
    const everyNode = single.enrolled === 1 && fleet.enrolled === rack.length;
    const result = {
      single,
      fleet,
      ratio: round(wallRatio, 2),
      target_ratio: TARGET,
      met: everyNode && wallRatio <= TARGET,
      peak_nodes_cleaning: peakCleaning,
      peak_nodes_in_transition: peakBusy,
      ironic_settings: settings,
      local_ironic: "singleprocess, [api] api_workers = 1, SQLite",
    };
    const table = renderTable(
      `fleet-enroll: manage + provide with ${CLEAN_MS / 1000} s of cleaning, ${NICS} NICs per node, BMC latency ${LATENCY_MS} ms, concurrency ${CONCURRENCY}`,
      [
        "run",
        "enrolled",
        "wall",
        "ratio",
        "target",
        "Ironic calls / node",
        "agent calls / node",
        "Ironic call p50",
        "Ironic calls / s",
        "Ironic CPU (cores)",
        "machine CPU busy",
      ],
      [
        [
          "1 node",
          `${single.enrolled}/1`,
          `${(single.wall_ms / 1000).toFixed(1)} s`,
          "",
          "",
          single.ironic_calls_per_node,
          single.agent_calls_per_node,
          `${single.ironic_call_ms_p50} ms`,
          single.ironic_calls_per_s,
          share(single.ironic_cpu_share),
          percent(single.machine_cpu_share),
        ],
        [
          `${rack.length} nodes`,
          `${fleet.enrolled}/${rack.length}`,
          `${(fleet.wall_ms / 1000).toFixed(1)} s`,
          ratio(result.ratio),
          `≤ ${TARGET}× ${verdict(result.met)}`,
          fleet.ironic_calls_per_node,
          fleet.agent_calls_per_node,
          `${fleet.ironic_call_ms_p50} ms`,
          fleet.ironic_calls_per_s,
          share(fleet.ironic_cpu_share),
          percent(fleet.machine_cpu_share),
        ],
      ],
    );
    const failureLines = Object.entries(fleet.failures)
      .map(([code, { count, example }]) => `${count} × ${code}, e.g. ${example.slice(0, 200)}`)
      .join("\n");
    const perNode = fleet.ironic_cpu_s_per_node;
    const cpuBound =
      perNode === null
        ? ""
        : `Ironic's process used ${single.ironic_cpu_s_per_node} CPU-s for the node alone and ${perNode} per node in the rack: on the one core a Python process runs on, ${rack.length} nodes take at least ${round(perNode * rack.length)} s of Ironic's time, against ${round((single.wall_ms / 1000) * TARGET)} s for ${TARGET}× one node's wall time.\n`;
    const summary =
      `${table}\n${failureLines ? `not enrolled:\n${failureLines}\n` : ""}${cpuBound}Ironic ran ${peakCleaning} nodes' cleaning at once (peak ${peakBusy} in a transition), sampled every second; ` +
      `its limits: ${Object.entries(settings)
        .map(([name, value]) => `${name} = ${value ?? "(unset: one per CPU)"}`)
        .join(", ")}; the local Ironic runs ${result.local_ironic}.`;
    await saveResult({
      name: "fleet-enroll",
      parameters: {
        nodes: rack.length,
        nics: NICS,
        clean_ms: CLEAN_MS,
        latency_ms: LATENCY_MS,
        concurrency: CONCURRENCY,
      },
      results: result,
      targets: {
        fleet_wall_time: {
          target: `${rack.length} nodes' wall time ≤ ${TARGET}× one node's`,
          measured: `${result.ratio}× (${fleet.wall_ms} ms vs ${single.wall_ms} ms); ${fleet.enrolled} of ${rack.length} enrolled`,
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

await printWhenMain(import.meta.url, runFleetEnroll);
