import { poolInventory } from "../../local/pool.ts";
import type { RedfishEmulator } from "../../local/redfish-emulator/index.ts";
import { type LocalStack, type LocalStackOptions, startLocalStack } from "../../local/stack.ts";
import { progress } from "./run.ts";
import { TrafficRecorder } from "./traffic.ts";

/**
 * The local stack in this process, as the tests run it, with the functions' JSON log lines kept off the
 * terminal (still written, so their cost stays in the figures) and counted instead.
 */
export interface BenchStack {
  stack: LocalStack;
  call<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** JSON log lines the functions wrote since the start. */
  logLines(): number;
  stop(): Promise<void>;
}

export async function startBenchStack(options: LocalStackOptions): Promise<BenchStack> {
  let logLines = 0;
  const streams = [process.stdout, process.stderr] as const;
  const writes = streams.map((stream) => stream.write.bind(stream));
  streams.forEach((stream, i) => {
    const write = writes[i] as typeof stream.write;
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
      if (text.startsWith('{"level":') || text.startsWith('{"_aws":')) {
        logLines++;
        return true;
      }
      return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
  });
  let stack: LocalStack;
  try {
    stack = await startLocalStack(options);
  } catch (error) {
    streams.forEach((stream, i) => {
      stream.write = writes[i] as typeof stream.write;
    });
    throw error;
  }
  return {
    stack,
    async call<T>(method: string, path: string, body?: unknown) {
      const response = await fetch(`${stack.apiUrl}${path}`, {
        method,
        headers: { "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
    },
    logLines: () => logLines,
    async stop() {
      await stack.stop();
      streams.forEach((stream, i) => {
        stream.write = writes[i] as typeof stream.write;
      });
    },
  };
}

/** A bench stack whose outbound calls {@link TrafficRecorder} records, labelled by the part they went to. */
export interface RecordedStack extends BenchStack {
  traffic: TrafficRecorder;
}

/**
 * The local stack with every call recorded: `redfish` (the emulator), `ironic`, `api`, others by origin.
 * `stop()` puts the global fetch back too.
 */
export async function startRecordedStack(options: LocalStackOptions): Promise<RecordedStack> {
  const traffic = new TrafficRecorder();
  // Before the stack: the Redfish client and the Ironic driver take the global fetch when they are built.
  traffic.installFetch();
  let bench: BenchStack;
  try {
    bench = await startBenchStack(options);
  } catch (error) {
    traffic.restore();
    throw error;
  }
  const { stack } = bench;
  if (stack.emulator) traffic.label(stack.emulator.url, "redfish");
  if (stack.ironicUrl) traffic.label(stack.ironicUrl, "ironic");
  traffic.label(stack.apiUrl, "api");
  return {
    ...bench,
    traffic,
    async stop() {
      traffic.restore();
      await bench.stop();
    },
  };
}

/** What the register benchmarks measure on: the demo pod manager over a pool, the started Ironic. */
export interface RegisterStack extends RecordedStack {
  emulator: RedfishEmulator;
  ironicUrl: string;
}

/**
 * The recorded stack with the demo pod manager on an emulator of `blocks` pool blocks (`nics` each) and a
 * started Ironic, without cleaning: the figure is Valence's overhead over Ironic's own calls, not the ramdisk's
 * time.
 */
export async function startRegisterStack(
  benchmark: string,
  blocks: number,
  nics: number,
): Promise<RegisterStack> {
  progress(`${benchmark}: starting the local stack (Ironic, emulator with ${blocks} blocks, dynalite)`);
  const bench = await startRecordedStack({
    demo: true,
    ironic: "start",
    automatedClean: false,
    emulatorInventory: poolInventory(blocks, nics),
  });
  const { emulator, ironicUrl } = bench.stack;
  if (!emulator || !ironicUrl) {
    await bench.stop();
    throw new Error("the local stack started without emulator or Ironic");
  }
  return { ...bench, emulator, ironicUrl };
}

/** Fails loudly when a setup call did not answer what the benchmark needs. */
export function expectStatus(
  response: { status: number; body: unknown },
  status: number,
  what: string,
): void {
  if (response.status !== status) {
    throw new Error(`${what}: expected ${status}, got ${response.status}: ${JSON.stringify(response.body)}`);
  }
}

/**
 * `count` nodes composed on the demo pod manager, one core each, named `<prefix>-<i>`: what the register
 * benchmarks register, the first of them as a warm-up.
 */
export async function composeDemoNodes<T extends { uuid: string }>(
  bench: BenchStack,
  prefix: string,
  count: number,
): Promise<[T, ...T[]]> {
  const podms = await bench.call<{ uuid: string; name: string }[]>("GET", "/v1/pod_managers");
  const podmId = podms.body.find((podm) => podm.name === "demo-podm")?.uuid;
  if (!podmId) throw new Error("no demo-podm");
  const nodes: T[] = [];
  for (let i = 0; i < count; i++) {
    const created = await bench.call<T>("POST", "/v1/nodes", {
      name: `${prefix}-${i}`,
      podm_id: podmId,
      properties: { processor: { total_cores: 1 } },
    });
    expectStatus(created, 201, `composing ${prefix}-${i}`);
    nodes.push(created.body);
  }
  return nodes as [T, ...T[]];
}

/** Unregisters a node the benchmark registered, so that the next round starts from the same place. */
export async function unregisterNode(bench: BenchStack, node: { uuid: string; name: string }): Promise<void> {
  expectStatus(
    await bench.call("POST", `/v1/nodes/${node.uuid}/unregister`, {}),
    200,
    `unregistering ${node.name}`,
  );
}
