import { request as httpRequest } from "node:http";
import { createDocumentClient } from "../../lib/db/client.ts";
import { logger } from "../../lib/log.ts";
import { type LocalStack, type LocalStackOptions, startLocalStack } from "../../local/stack.ts";
import { scanAll } from "./dynamo.ts";

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface TestApi {
  stack: LocalStack;
  // biome-ignore lint/suspicious/noExplicitAny: tests read loosely typed JSON bodies
  call<T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ApiResponse<T>>;
  /** Every log line written since the stack started. */
  logs: string[];
  scan(): Promise<Record<string, unknown>[]>;
  stop(): Promise<void>;
}

/**
 * The local stack in this test process, called over HTTP. Logs are captured at DEBUG so tests can check what
 * they hold.
 */
export async function startTestApi(options: LocalStackOptions = {}): Promise<TestApi> {
  const logs: string[] = [];
  const streams = [process.stdout, process.stderr] as const;
  const writes = streams.map((stream) => stream.write);
  // Kept in memory, not echoed: the suite's own output stays readable.
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array) => {
      logs.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
      return true;
    }) as typeof stream.write;
  }
  logger.setLogLevel("DEBUG");
  const stack = await startLocalStack(options);
  const db = createDocumentClient({ region: "us-east-1", endpoint: stack.dynamoEndpoint });
  return {
    stack,
    logs,
    async call(method, path, body, headers = {}) {
      const init = {
        method,
        headers: { "content-type": "application/json", ...headers },
        ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
      };
      // fetch refuses a body on GET; some clients send one (python-valenceclient sends `{}`).
      const response =
        method === "GET" && init.body !== undefined
          ? await requestWithBody(`${stack.apiUrl}${path}`, init as Required<typeof init>)
          : await fetch(`${stack.apiUrl}${path}`, init);
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON: keep the text
      }
      return { status: response.status, headers: response.headers, body: parsed as never, text };
    },
    scan: () => scanAll(db, stack.tableName),
    async stop() {
      db.destroy();
      await stack.stop();
      streams.forEach((stream, i) => {
        stream.write = writes[i] as typeof stream.write;
      });
    },
  };
}

/** A request over node:http, which (unlike fetch) sends a body with any method. */
function requestWithBody(
  url: string,
  init: { method: string; headers: Record<string, string>; body: string },
): Promise<Response> {
  return new Promise((resolve, reject) => {
    // node:http does not frame a GET body by itself: without a length it would be read as the next request.
    const headers = { ...init.headers, "content-length": String(Buffer.byteLength(init.body)) };
    const request = httpRequest(url, { method: init.method, headers }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
      incoming.on("error", reject);
      incoming.on("end", () => {
        const answered = new Headers();
        for (const [name, value] of Object.entries(incoming.headers)) {
          if (value !== undefined) answered.set(name, Array.isArray(value) ? value.join(", ") : value);
        }
        const status = incoming.statusCode ?? 0;
        const body = status === 204 || status === 304 ? null : Buffer.concat(chunks);
        resolve(new Response(body, { status, headers: answered }));
      });
    });
    request.on("error", reject);
    request.end(init.body);
  });
}

/** Checks a response is Valence's error body with the given status. */
export function expectErrorBody(response: ApiResponse, status: number): Record<string, unknown> {
  const body = response.body as Record<string, unknown>;
  if (response.status !== status || typeof body !== "object" || body === null) {
    throw new Error(`expected ${status} with an error body, got ${response.status}: ${response.text}`);
  }
  for (const key of ["request_id", "code", "status", "title", "detail"]) {
    if (!(key in body)) throw new Error(`error body lacks ${key}: ${response.text}`);
  }
  if (body.status !== status) throw new Error(`error body status ${String(body.status)} != ${status}`);
  if (response.headers.get("x-request-id") !== body.request_id)
    throw new Error("x-request-id differs from body");
  return body;
}

/** A node composed through the API on pod manager `podmId` (one core), managed by Valence: its body. */
// biome-ignore lint/suspicious/noExplicitAny: tests read loosely typed JSON bodies
export async function composeNode<T = any>(
  api: Pick<TestApi, "call">,
  podmId: string,
  name: string,
): Promise<T> {
  const response = await api.call<T>("POST", "/v1/nodes", {
    name,
    podm_id: podmId,
    properties: { processor: { total_cores: 1 } },
  });
  if (response.status !== 201) throw new Error(`composing ${name}: ${response.status} ${response.text}`);
  return response.body;
}
