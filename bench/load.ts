/**
 * load: concurrent clients against the local API (a real Ironic, the Redfish emulator and dynalite, with the
 * very handlers Lambda runs) for a fixed time, doing what operators do: list nodes, show one (some with
 * Ironic's live state, some their history), register and unregister over a pool of emulator nodes. Reports
 * throughput, p50/p99 latency per operation and the errors — every answer but the 409s of clients racing on
 * one node must be a success — then checks that Ironic and the store agree exactly.
 *
 * Targets: 0 errors; after the run (and one reconcile pass), every Ironic node and port owned by exactly one
 * registered store node, every registered node complete in Ironic, no intent left.
 *
 * `npm run load` — env: BENCH_LOAD_CLIENTS (8), BENCH_LOAD_SECONDS (30), BENCH_LOAD_NODES (16),
 * BENCH_LOAD_MANAGE_PERCENT (20: registers that also move the node to manageable, Ironic verifying the BMC).
 */
import type { ReliabilityStack } from "../test/support/reliability-stack.ts";
import { startReliabilityStack } from "../test/support/reliability-stack.ts";
import { renderTable, saveResult, verdict } from "./support/report.ts";
import { dropEmfLines, envInt } from "./support/run.ts";
import { percentile, round } from "./support/stats.ts";

const CLIENTS = Math.max(1, envInt("BENCH_LOAD_CLIENTS", 8));
const SECONDS = Math.max(1, envInt("BENCH_LOAD_SECONDS", 30));
const NODES = Math.max(2, envInt("BENCH_LOAD_NODES", 16));
const MANAGE_PERCENT = envInt("BENCH_LOAD_MANAGE_PERCENT", 20);

type Operation = "list" | "show" | "show live" | "history" | "register" | "unregister";

/** The mix, by weight: mostly reads, as an operator's day is. */
const MIX: Array<[Operation, number]> = [
  ["list", 30],
  ["show", 25],
  ["show live", 5],
  ["history", 5],
  ["register", 18],
  ["unregister", 17],
];

/** 409s that are the API working as specified when clients race on a node, not errors. */
const EXPECTED_CONFLICTS = new Set([
  "NodeAlreadyRegistered",
  "NodeNotRegistered",
  "NodeBusy",
  // An unregister while Ironic is still verifying the BMC (a register with manage just happened).
  "IronicNodeState",
]);

interface Sample {
  operation: Operation;
  ms: number;
  status: number;
  code?: string;
}

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)] as T;
}

function pickOperation(): Operation {
  const total = MIX.reduce((sum, [, weight]) => sum + weight, 0);
  let roll = Math.random() * total;
  for (const [operation, weight] of MIX) {
    roll -= weight;
    if (roll < 0) return operation;
  }
  return "list";
}

async function one(stack: ReliabilityStack, nodes: string[], operation: Operation): Promise<Sample> {
  const node = pick(nodes);
  const started = performance.now();
  const response = await (() => {
    switch (operation) {
      case "list":
        return stack.call("GET", pick(["/v1/nodes", "/v1/nodes?managed_by=ironic", "/v1/nodes?limit=5"]));
      case "show":
        return stack.call("GET", `/v1/nodes/${node}`);
      case "show live":
        return stack.call("GET", `/v1/nodes/${node}?refresh=true`);
      case "history":
        return stack.call("GET", `/v1/nodes/${node}/history?limit=10`);
      case "register":
        return stack.call(
          "POST",
          `/v1/nodes/${node}/register`,
          Math.random() * 100 < MANAGE_PERCENT ? { manage: true } : {},
        );
      case "unregister":
        return stack.call("POST", `/v1/nodes/${node}/unregister`, {});
    }
  })();
  const ms = performance.now() - started;
  const code = response.status >= 400 ? (response.body as { code?: string } | undefined)?.code : undefined;
  return { operation, ms, status: response.status, ...(code ? { code } : {}) };
}

const isError = (sample: Sample) =>
  sample.status >= 400 && !(sample.status === 409 && EXPECTED_CONFLICTS.has(sample.code ?? ""));

async function main(): Promise<number> {
  const started = new Date();
  process.stderr.write(`load: starting the stack (${NODES} nodes)…\n`);
  const stack = await startReliabilityStack({ pool: NODES, captureLogs: false, logLevel: "ERROR" });
  try {
    const nodes: string[] = [];
    for (let i = 0; i < NODES; i++) nodes.push((await stack.compose(`load-${i + 1}`)).uuid);
    // The stack's own reads (the responses it keeps for leak scans) are not needed here.
    stack.responses.length = 0;

    process.stderr.write(`load: ${CLIENTS} clients for ${SECONDS} s…\n`);
    const samples: Sample[] = [];
    const until = performance.now() + SECONDS * 1000;
    const runStarted = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (performance.now() < until) {
          samples.push(await one(stack, nodes, pickOperation()));
          if (stack.responses.length > 1_000) stack.responses.length = 0;
        }
      }),
    );
    const elapsed = (performance.now() - runStarted) / 1000;

    // The end state: one pass (nothing should be left for it), then Ironic against the store.
    const summary = await stack.reconcile();
    const report = await stack.invariants();
    const storeNodes = await stack.storeNodes();
    const intents = storeNodes.filter((node) => node.intent).length;

    const rows: (string | number)[][] = [];
    const byOperation = new Map<string, Sample[]>();
    for (const sample of samples) {
      byOperation.set(sample.operation, [...(byOperation.get(sample.operation) ?? []), sample]);
    }
    const line = (name: string, group: Sample[]) => [
      name,
      group.length,
      round(group.length / elapsed, 1),
      round(
        percentile(
          group.map((s) => s.ms),
          50,
        ),
        1,
      ),
      round(
        percentile(
          group.map((s) => s.ms),
          99,
        ),
        1,
      ),
      round(Math.max(...group.map((s) => s.ms)), 1),
      group.filter((s) => s.status === 409 && !isError(s)).length,
      group.filter(isError).length,
    ];
    for (const [operation] of MIX) rows.push(line(operation, byOperation.get(operation) ?? []));
    rows.push(line("all", samples));
    const errors = samples.filter(isError);
    const errorCodes: Record<string, number> = {};
    for (const error of errors) {
      const key = `${error.status} ${error.code ?? ""}`.trim();
      errorCodes[key] = (errorCodes[key] ?? 0) + 1;
    }

    const agree = report.violations.length === 0 && report.incomplete.length === 0 && intents === 0;
    const table = renderTable(
      `load: ${CLIENTS} clients, ${round(elapsed, 1)} s, ${NODES} nodes (${MANAGE_PERCENT}% of registers with manage)`,
      ["operation", "requests", "req/s", "p50 ms", "p99 ms", "max ms", "409 (expected)", "errors"],
      rows,
    );
    const invariantLine =
      `end state: ${report.ironicNodes} Ironic nodes, ${report.ironicPorts} ports, ${report.storeIronic} registered ` +
      `in the store, ${intents} intents; reconcile pass ${JSON.stringify(summary)}; ` +
      (agree
        ? "Ironic and the store agree exactly"
        : `DISAGREE: ${[...report.violations, ...report.incomplete].join("; ")}`);
    console.log(
      `${table}\n${invariantLine}${errors.length ? `\nerrors: ${JSON.stringify(errorCodes)}` : ""}`,
    );

    const path = await saveResult({
      name: "load",
      command: "npm run load",
      started,
      parameters: {
        clients: CLIENTS,
        seconds: SECONDS,
        nodes: NODES,
        manage_percent: MANAGE_PERCENT,
        mix: MIX,
      },
      results: {
        elapsed_s: round(elapsed, 2),
        requests: samples.length,
        throughput_rps: round(samples.length / elapsed, 1),
        p50_ms: round(
          percentile(
            samples.map((s) => s.ms),
            50,
          ),
          1,
        ),
        p99_ms: round(
          percentile(
            samples.map((s) => s.ms),
            99,
          ),
          1,
        ),
        per_operation: Object.fromEntries(rows.map((row) => [row[0], row.slice(1)])),
        expected_conflicts: samples.filter((s) => s.status === 409 && !isError(s)).length,
        errors: errorCodes,
        reconcile: summary,
        end_state: { ...report, intents },
      },
      targets: {
        errors: {
          target: "0 errors besides expected 409s",
          measured: String(errors.length),
          met: errors.length === 0,
        },
        invariants: {
          target: "Ironic and the store agree exactly",
          measured: agree
            ? "agree"
            : `${report.violations.length + report.incomplete.length + intents} problem(s)`,
          met: agree,
        },
      },
      table,
    });
    console.log(`errors: ${verdict(errors.length === 0)}; invariants: ${verdict(agree)} (${path})`);
    return errors.length === 0 && agree ? 0 : 1;
  } finally {
    await stack.stop();
  }
}

dropEmfLines();

process.exitCode = await main();
