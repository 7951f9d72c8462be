import { type LocalStack, type LocalStackOptions, startLocalStack } from "../../local/stack.ts";

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

/** Progress on stderr, so a piped table on stdout stays clean. */
export function progress(message: string): void {
  process.stderr.write(`${message}\n`);
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
