/**
 * register-floor: registering composed nodes through Valence's API next to the physical floor — a naive script
 * that makes the minimum external calls one after another with no Valence in between (read the system and each
 * of its sub-resources from the pod manager, create the Ironic node, create each port). Both on the local stack
 * (real Ironic, the Redfish emulator, dynalite), in the same run, interleaved node by node, twice: with the
 * emulator answering at once and with it adding 100 ms to every request, as real BMCs and pod managers do.
 *
 * Targets (issue 18): Valence ≤ 1.05× the floor at 0 ms, ≤ 0.35× at 100 ms.
 *
 * `npx tsx bench/register-floor.ts` — env: BENCH_NODES (default 20), BENCH_NICS (default 4),
 * BENCH_LATENCIES (default "0,100").
 */
import { MAX_API_VERSION } from "../lib/ironic/index.ts";
import { DEMO_CREDENTIALS } from "../local/stack.ts";
import { ratio, renderTable, saveResult, verdict } from "./support/report.ts";
import { envInt, printWhenMain, progress } from "./support/run.ts";
import { composeDemoNodes, expectStatus, startRegisterStack, unregisterNode } from "./support/stack.ts";
import { median, percentile, round } from "./support/stats.ts";
import { busyMs, type Call } from "./support/traffic.ts";

const NODES = Math.max(1, envInt("BENCH_NODES", 20));
const NICS = Math.max(1, envInt("BENCH_NICS", 4));
const LATENCIES = (process.env.BENCH_LATENCIES ?? "0,100").split(",").map(Number);
const TARGETS: Record<number, number> = { 0: 1.05, 100: 0.35 };

export interface NodeBody {
  uuid: string;
  name: string;
  index: string;
  resource_uri: string;
  ironic_node_uuid: string | null;
}

/** What one register cost, on either side. */
interface Sample {
  wallMs: number;
  redfish: number;
  ironic: number;
  dynamodb: number;
  redfishBusyMs: number;
  ironicBusyMs: number;
  dynamodbBusyMs: number;
  /** Wall time with no Redfish, Ironic or DynamoDB call in flight: our own work (and the API hop). */
  idleMs: number;
  /** Requests the emulator answered (sessions included), from its own log. */
  emulatorRequests: number;
}

function sampleOf(calls: readonly Call[], from: number, to: number, emulatorRequests: number): Sample {
  const of = (target: string) => calls.filter((call) => call.target === target);
  const backend = calls.filter((call) => ["redfish", "ironic", "dynamodb"].includes(call.target));
  return {
    wallMs: to - from,
    redfish: of("redfish").length,
    ironic: of("ironic").length,
    dynamodb: of("dynamodb").length,
    redfishBusyMs: busyMs(of("redfish"), from, to),
    ironicBusyMs: busyMs(of("ironic"), from, to),
    dynamodbBusyMs: busyMs(of("dynamodb"), from, to),
    idleMs: to - from - busyMs(backend, from, to),
    emulatorRequests,
  };
}

/** The floor: plain fetch, Basic auth, every call awaited before the next. */
export class NaiveRegistrar {
  private readonly basic =
    `Basic ${Buffer.from(`${DEMO_CREDENTIALS.username}:${DEMO_CREDENTIALS.password}`).toString("base64")}`;

  constructor(
    private readonly podmUrl: string,
    private readonly ironicUrl: string,
    private readonly ironicVersion: string,
  ) {}

  private async redfish(path: string): Promise<Record<string, unknown>> {
    const response = await fetch(new URL(path, this.podmUrl), {
      headers: { Authorization: this.basic, Accept: "application/json", "OData-Version": "4.0" },
    });
    if (!response.ok) throw new Error(`naive GET ${path}: ${response.status}`);
    return (await response.json()) as Record<string, unknown>;
  }

  private async members(collection: unknown): Promise<Record<string, unknown>[]> {
    const path = (collection as { "@odata.id"?: string } | undefined)?.["@odata.id"];
    if (!path) return [];
    const body = await this.redfish(path);
    const resources: Record<string, unknown>[] = [];
    for (const member of (body.Members as { "@odata.id": string }[]) ?? []) {
      resources.push(await this.redfish(member["@odata.id"]));
    }
    return resources;
  }

  async ironic(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    const response = await fetch(`${this.ironicUrl}${path}`, {
      method,
      headers: {
        Accept: "application/json",
        "Content-Type": "application/json",
        "X-OpenStack-Ironic-API-Version": this.ironicVersion,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`naive ${method} ${path}: ${response.status} ${text.slice(0, 200)}`);
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  }

  /** Reads the system and all it needs, creates the node and its ports: returns the Ironic node's uuid. */
  async register(node: NodeBody): Promise<string> {
    const system = await this.redfish(node.resource_uri);
    const processors = await this.members(system.Processors);
    const dimms = await this.members(system.Memory);
    const drives: Record<string, unknown>[] = [];
    for (const storage of await this.members(system.Storage)) {
      for (const drive of (storage.Drives as { "@odata.id": string }[]) ?? []) {
        drives.push(await this.redfish(drive["@odata.id"]));
      }
    }
    const nics = await this.members(system.EthernetInterfaces);
    const macs = nics.map((nic) => String(nic.MACAddress).toLowerCase());
    const ironicNode = await this.ironic("POST", "/v1/nodes", {
      name: node.name,
      driver: "redfish",
      driver_info: {
        redfish_address: this.podmUrl,
        redfish_system_id: node.resource_uri,
        redfish_username: DEMO_CREDENTIALS.username,
        redfish_password: DEMO_CREDENTIALS.password,
        redfish_verify_ca: false,
      },
      properties: {
        cpus: processors.reduce((sum, p) => sum + Number(p.TotalCores ?? 1), 0),
        memory_mb: dimms.reduce((sum, d) => sum + Number(d.CapacityMiB ?? 0), 0),
        local_gb: Math.floor(drives.reduce((sum, d) => sum + Number(d.CapacityBytes ?? 0), 0) / 1024 ** 3),
        cpu_arch: "x86_64",
      },
      resource_class: "baremetal",
      extra: { valence_node_uuid: node.uuid },
    });
    const uuid = String(ironicNode.uuid);
    for (const [i, mac] of macs.entries()) {
      await this.ironic("POST", "/v1/ports", { node_uuid: uuid, address: mac, pxe_enabled: i === 0 });
    }
    return uuid;
  }

  async remove(uuid: string): Promise<void> {
    await this.ironic("DELETE", `/v1/nodes/${uuid}`);
  }
}

/** Ironic's highest API version, capped at the one Valence asks for. */
export async function ironicVersion(ironicUrl: string): Promise<string> {
  const root = (await (await fetch(`${ironicUrl}/`)).json()) as { default_version: { version: string } };
  const parse = (v: string) => v.split(".").map(Number) as [number, number];
  const [major, minor] = parse(root.default_version.version);
  const [capMajor, capMinor] = parse(MAX_API_VERSION);
  return major > capMajor || (major === capMajor && minor > capMinor) ? MAX_API_VERSION : `${major}.${minor}`;
}

/** The calls of one register as lines: start and end offset, target, method and path. */
function timeline(calls: readonly Call[], from: number, to: number): string {
  const lines = calls
    .filter((call) => call.target !== "api")
    .map(
      (call) =>
        `${(call.start - from).toFixed(0).padStart(6)} → ${(call.end - from).toFixed(0).padStart(6)} ms  ${call.target.padEnd(8)} ${call.method} ${call.path}`,
    );
  return [...lines, `${(to - from).toFixed(0).padStart(6)} ms  response`].join("\n");
}

interface Run {
  latency_ms: number;
  valence: Sample[];
  naive: Sample[];
}

function summarize(samples: readonly Sample[]) {
  const pick = (key: keyof Sample) => round(median(samples.map((sample) => sample[key])));
  return {
    p50_ms: round(median(samples.map((s) => s.wallMs))),
    p95_ms: round(
      percentile(
        samples.map((s) => s.wallMs),
        95,
      ),
    ),
    redfish_calls: pick("redfish"),
    emulator_requests: pick("emulatorRequests"),
    ironic_calls: pick("ironic"),
    dynamodb_calls: pick("dynamodb"),
    redfish_busy_ms: pick("redfishBusyMs"),
    ironic_busy_ms: pick("ironicBusyMs"),
    dynamodb_busy_ms: pick("dynamodbBusyMs"),
    idle_ms: pick("idleMs"),
  };
}

export async function runRegisterFloor(): Promise<string> {
  const bench = await startRegisterStack("register-floor", NODES + 3, NICS);
  try {
    const { traffic, emulator, ironicUrl } = bench;
    const { documentClient } = await import("../lib/runtime.ts");
    traffic.instrumentDynamo(documentClient());

    const [warmup, ...measured] = await composeDemoNodes<NodeBody>(bench, "bench", NODES + 1);
    const naive = new NaiveRegistrar(emulator.url, ironicUrl, await ironicVersion(ironicUrl));

    /** One register's calls in order, per latency: where the time goes. */
    const trace = new Map<number, string>();
    const valenceRegister = async (node: NodeBody): Promise<Sample> => {
      const emulatorBefore = emulator.requests.length;
      const from = performance.now();
      const response = await bench.call<NodeBody>("POST", `/v1/nodes/${node.uuid}/register`, {});
      const to = performance.now();
      expectStatus(response, 200, `registering ${node.name}`);
      const sample = sampleOf(traffic.between(from, to), from, to, emulator.requests.length - emulatorBefore);
      if (!trace.has(emulator.switches.latencyMs) && node !== warmup) {
        trace.set(emulator.switches.latencyMs, timeline(traffic.between(from, to), from, to));
      }
      await unregisterNode(bench, node);
      return sample;
    };
    const naiveRegister = async (node: NodeBody): Promise<Sample> => {
      const emulatorBefore = emulator.requests.length;
      const from = performance.now();
      const uuid = await naive.register(node);
      const to = performance.now();
      const sample = sampleOf(traffic.between(from, to), from, to, emulator.requests.length - emulatorBefore);
      await naive.remove(uuid);
      return sample;
    };

    const runs: Run[] = [];
    for (const latency of LATENCIES) {
      emulator.switches.latencyMs = latency;
      progress(`register-floor: ${measured.length} registers each way, emulator latency ${latency} ms`);
      // First calls load handlers and negotiate Ironic's version: not what a register costs.
      await valenceRegister(warmup);
      await naiveRegister(warmup);
      const run: Run = { latency_ms: latency, valence: [], naive: [] };
      // Interleaved node by node, so that drift (Ironic's database, the machine) hits both sides alike.
      for (const node of measured) {
        run.valence.push(await valenceRegister(node));
        run.naive.push(await naiveRegister(node));
      }
      runs.push(run);
      traffic.clear();
    }
    emulator.switches.latencyMs = 0;

    const results = runs.map((run) => {
      const valence = summarize(run.valence);
      const floor = summarize(run.naive);
      const target = TARGETS[run.latency_ms];
      const p50Ratio = valence.p50_ms / floor.p50_ms;
      return {
        latency_ms: run.latency_ms,
        valence,
        naive: floor,
        ratio_p50: round(p50Ratio, 2),
        ratio_p95: round(valence.p95_ms / floor.p95_ms, 2),
        target_ratio: target,
        met: target === undefined ? undefined : p50Ratio <= target,
        samples: {
          valence_ms: run.valence.map((s) => round(s.wallMs)),
          naive_ms: run.naive.map((s) => round(s.wallMs)),
        },
      };
    });

    const table = renderTable(
      `register-floor: ${measured.length} registers per side and latency, ${NICS} NICs each (median per register)`,
      [
        "emulator",
        "side",
        "p50",
        "p95",
        "ratio p50 (p95)",
        "target",
        "Redfish calls",
        "Ironic calls",
        "DynamoDB calls",
        "Redfish busy",
        "Ironic busy",
        "DynamoDB busy",
        "no call in flight",
      ],
      results.flatMap((result) =>
        (["valence", "naive"] as const).map((side) => {
          const s = result[side];
          return [
            `${result.latency_ms} ms`,
            side === "valence" ? "Valence API" : "naive floor",
            `${s.p50_ms.toFixed(0)} ms`,
            `${s.p95_ms.toFixed(0)} ms`,
            side === "valence" ? `${ratio(result.ratio_p50)} (${ratio(result.ratio_p95)})` : "",
            side === "valence" && result.target_ratio !== undefined
              ? `≤ ${result.target_ratio}× ${verdict(Boolean(result.met))}`
              : "",
            `${s.redfish_calls} (${s.emulator_requests})`,
            s.ironic_calls,
            s.dynamodb_calls,
            `${s.redfish_busy_ms.toFixed(0)} ms`,
            `${s.ironic_busy_ms.toFixed(0)} ms`,
            `${s.dynamodb_busy_ms.toFixed(0)} ms`,
            `${s.idle_ms.toFixed(0)} ms`,
          ];
        }),
      ),
    );
    const targets = Object.fromEntries(
      results
        .filter((result) => result.target_ratio !== undefined)
        .map((result) => [
          `latency_${result.latency_ms}ms`,
          {
            target: `Valence p50 ≤ ${result.target_ratio}× the naive floor`,
            measured: `${result.ratio_p50}× (${result.valence.p50_ms} ms vs ${result.naive.p50_ms} ms)`,
            met: Boolean(result.met),
          },
        ]),
    );
    const traces = [...trace].map(([latency, lines]) => `one Valence register at ${latency} ms:\n${lines}`);
    if (process.env.BENCH_TRACE) progress(traces.join("\n\n"));
    const summary = `${table}\nRedfish calls: as Valence made them (and as the emulator logged them, sessions included); "busy" = time with at least one such call in flight.`;
    await saveResult({
      name: "register-floor",
      parameters: { nodes: measured.length, nics: NICS, latencies_ms: LATENCIES },
      results: { runs: results, traces: Object.fromEntries(trace) },
      targets,
      table: summary,
    });
    return summary;
  } finally {
    await bench.stop();
  }
}

await printWhenMain(import.meta.url, runRegisterFloor);
