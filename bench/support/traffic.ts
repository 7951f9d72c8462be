import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

/** One outbound call seen by the recorder: where it went and when (ms on `performance.now()`'s clock). */
export interface Call {
  target: string;
  method: string;
  path: string;
  status?: number;
  start: number;
  end: number;
}

/**
 * Records this process's outbound calls: `fetch` (Ironic's driver and the Redfish client use the global one; so
 * do the benchmarks' own requests) labelled by origin, and DynamoDB commands through SDK middleware. Benchmarks
 * run the local stack in their own process, so every call Valence makes passes through here.
 */
export class TrafficRecorder {
  readonly calls: Call[] = [];
  private readonly labels = new Map<string, string>();
  private readonly originalFetch = globalThis.fetch;

  /** Calls to `origin` are recorded as `target` (e.g. "ironic"); other origins are recorded by origin. */
  label(origin: string, target: string): void {
    this.labels.set(new URL(origin).origin, target);
  }

  /** Replaces `globalThis.fetch`; call before the code under test captures `fetch`. */
  installFetch(): void {
    const original = this.originalFetch;
    const calls = this.calls;
    globalThis.fetch = async (input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(input instanceof Request ? input.url : input);
      const call: Call = {
        target: this.labels.get(url.origin) ?? url.origin,
        method: init?.method ?? (input instanceof Request ? input.method : "GET"),
        path: url.pathname,
        start: performance.now(),
        end: Number.NaN,
      };
      calls.push(call);
      try {
        const response = await original(input, init);
        call.status = response.status;
        // The body is part of the call: time until it has been read.
        const body = await response.arrayBuffer();
        call.end = performance.now();
        return new Response(response.status === 204 || response.status === 304 ? null : body, {
          status: response.status,
          statusText: response.statusText,
          headers: response.headers,
        });
      } catch (error) {
        call.end = performance.now();
        throw error;
      }
    };
  }

  /** Records every command sent through this document client as target `dynamodb`. */
  instrumentDynamo(client: DynamoDBDocumentClient): void {
    const calls = this.calls;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const call: Call = {
          target: "dynamodb",
          method: String((context as { commandName?: string }).commandName ?? "command"),
          path: "",
          start: performance.now(),
          end: Number.NaN,
        };
        calls.push(call);
        try {
          return await next(args);
        } finally {
          call.end = performance.now();
        }
      },
      { step: "initialize", name: "benchTrafficRecorder", override: true },
    );
  }

  restore(): void {
    globalThis.fetch = this.originalFetch;
  }

  /** Calls that started within [from, to). */
  between(from: number, to: number, target?: string): Call[] {
    return this.calls.filter(
      (call) => call.start >= from && call.start < to && (target === undefined || call.target === target),
    );
  }

  clear(): void {
    this.calls.length = 0;
  }
}

/** Time covered by at least one of the calls (their union), clipped to [from, to]. */
export function busyMs(calls: readonly Call[], from: number, to: number): number {
  const spans = calls
    .map(
      (call) => [Math.max(from, call.start), Math.min(to, Number.isNaN(call.end) ? to : call.end)] as const,
    )
    .filter(([start, end]) => end > start)
    .sort((a, b) => a[0] - b[0]);
  let total = 0;
  let current: [number, number] | undefined;
  for (const [start, end] of spans) {
    if (!current || start > current[1]) {
      if (current) total += current[1] - current[0];
      current = [start, end];
    } else {
      current[1] = Math.max(current[1], end);
    }
  }
  if (current) total += current[1] - current[0];
  return total;
}
