/**
 * The local stack with a fault proxy in every wire Valence uses: towards Ironic (a real, standalone one),
 * towards the pod manager (the Redfish emulator, registered under the proxy's URL) and towards DynamoDB
 * (dynalite). Shared by the fault matrix, the process-death test, the fuzzer, the leak scan and `bench/load`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDocumentClient } from "../../lib/db/client.ts";
import { createIronicDriver, type IronicDriver } from "../../lib/ironic/index.ts";
import { logger } from "../../lib/log.ts";
import type { Node } from "../../lib/nodes/model.ts";
import type { ReconcileSummary } from "../../lib/nodes/reconciler.ts";
import { startDynalite } from "../../local/dynalite.ts";
import { type IronicService, startIronic } from "../../local/ironic.ts";
import { poolInventory } from "../../local/pool.ts";
import { type RedfishEmulator, startRedfishEmulator } from "../../local/redfish-emulator/index.ts";
import { type LocalStack, startLocalStack } from "../../local/stack.ts";
import { scanAll } from "./dynamo.ts";
import { type FaultProxy, startFaultProxy } from "./fault-proxy.ts";
import { checkInvariants, type InvariantReport } from "./invariants.ts";
import type { ApiResponse } from "./local-api.ts";

export interface ReliabilityStackOptions {
  /** Compute blocks in the emulator's pool: one composed node each. @default 16 */
  pool?: number;
  /** NICs per block, so ports per registered node. @default 4 */
  nicsPerBlock?: number;
  podmUsername?: string;
  /** The pod manager's (and so the BMC's) password. */
  podmPassword?: string;
  /** Run Ironic with `http_basic` and give Valence these credentials. @default noauth */
  ironicBasic?: { username: string; password: string };
  /** Configuration of the handlers, as environment variables (timeouts, staleness); never put in process.env. */
  env?: Record<string, string>;
  /** Keep every log line written (stdout and stderr) in `logs` instead of printing it. @default true */
  captureLogs?: boolean;
  /** Log level of the handlers. @default "DEBUG" when capturing, else "WARN" */
  logLevel?: "DEBUG" | "INFO" | "WARN" | "ERROR";
}

export interface NodeBody extends Node {
  ironic?: { provision_state: string } | null;
}

export interface ReliabilityStack {
  stack: LocalStack;
  apiUrl: string;
  /** dynalite itself; Valence's handlers reach it through `proxies.dynamo`. */
  dynamoEndpoint: string;
  tableName: string;
  /** Ironic straight, bypassing the proxy: for the tests' own checks. */
  ironic: IronicDriver;
  ironicService: IronicService;
  emulator: RedfishEmulator;
  proxies: { ironic: FaultProxy; podm: FaultProxy; dynamo: FaultProxy };
  podmId: string;
  /** Every log line written since the stack started (when capturing). */
  logs: string[];
  /** Every response the API gave through `call`, for leak scans. */
  responses: ApiResponse[];
  /** The local secret store's file (pod-manager credentials). */
  secretsFile: string;
  /** Environment handed to a child process that runs Valence's services against this stack. */
  childEnv: Record<string, string>;
  // biome-ignore lint/suspicious/noExplicitAny: tests read loosely typed JSON bodies
  call<T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ApiResponse<T>>;
  compose(name: string): Promise<NodeBody>;
  /** Unregisters, waiting (up to 60 s) while Ironic's node is in a transitional state (a 409 that says so). */
  unregister(id: string, body?: Record<string, unknown>): Promise<ApiResponse>;
  reconcile(): Promise<ReconcileSummary>;
  scan(): Promise<Record<string, unknown>[]>;
  storeNodes(): Promise<Node[]>;
  invariants(options?: { allowIntents?: boolean }): Promise<InvariantReport>;
  stop(): Promise<void>;
}

function captureOutput(logs: string[]): () => void {
  const streams = [process.stdout, process.stderr] as const;
  const writes = streams.map((stream) => stream.write);
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      logs.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
      const callback = rest.find((arg) => typeof arg === "function") as (() => void) | undefined;
      callback?.();
      return true;
    }) as typeof stream.write;
  }
  return () =>
    streams.forEach((stream, i) => {
      stream.write = writes[i] as typeof stream.write;
    });
}

/** Starts Ironic, the emulator, three fault proxies and the local stack, and adds the pod manager. */
export async function startReliabilityStack(
  options: ReliabilityStackOptions = {},
): Promise<ReliabilityStack> {
  const podmUsername = options.podmUsername ?? "admin";
  const podmPassword = options.podmPassword ?? "Podm-Reliability-Pw-41f";
  const capture = options.captureLogs ?? true;
  const logs: string[] = [];
  const responses: ApiResponse[] = [];
  const stops: Array<() => Promise<unknown>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };

  try {
    const secretsDir = await mkdtemp(join(tmpdir(), "valence-reliability-"));
    stops.push(() => rm(secretsDir, { recursive: true, force: true }));
    const [ironicService, emulator] = await Promise.all([
      startIronic(
        options.ironicBasic
          ? {
              auth: "http_basic",
              basicUsers: { [options.ironicBasic.username]: options.ironicBasic.password },
              powerStateSyncSeconds: 0,
            }
          : { powerStateSyncSeconds: 0 },
      ),
      startRedfishEmulator({
        username: podmUsername,
        password: podmPassword,
        inventory: poolInventory(options.pool ?? 16, options.nicsPerBlock ?? 4),
      }),
    ]);
    stops.push(
      () => ironicService.stop(),
      () => emulator.close(),
    );
    const [ironicProxy, podmProxy] = await Promise.all([
      startFaultProxy({ target: ironicService.url }),
      startFaultProxy({ target: emulator.url }),
    ]);
    stops.push(
      () => ironicProxy.close(),
      () => podmProxy.close(),
    );

    const ironicEnv: Record<string, string> = options.ironicBasic
      ? {
          IRONIC_AUTH_TYPE: "http_basic",
          IRONIC_USERNAME: options.ironicBasic.username,
          IRONIC_PASSWORD: options.ironicBasic.password,
        }
      : { IRONIC_AUTH_TYPE: "none" };
    const secretsFile = join(secretsDir, "secrets.json");

    if (capture) {
      const restore = captureOutput(logs);
      stops.push(async () => restore());
    }
    logger.setLogLevel(options.logLevel ?? (capture ? "DEBUG" : "WARN"));
    // The handlers reach DynamoDB through the proxy; the tests' own checks go to dynalite straight.
    const dynamo = await startDynalite();
    stops.push(() => dynamo.close());
    const dynamoProxy = await startFaultProxy({ target: dynamo.endpoint });
    stops.push(() => dynamoProxy.close());
    const stack = await startLocalStack({
      ironic: ironicProxy.url,
      dynamoEndpoint: dynamoProxy.url,
      env: { VALENCE_SECRETS_FILE: secretsFile, ...ironicEnv, ...options.env },
    });
    stops.push(() => stack.stop());

    const db = createDocumentClient({ region: "us-east-1", endpoint: dynamo.endpoint });
    stops.push(async () => db.destroy());
    const ironic = createIronicDriver({
      url: ironicService.url,
      auth: options.ironicBasic ? { type: "http_basic", ...options.ironicBasic } : { type: "none" },
    });

    const call: ReliabilityStack["call"] = async (method, path, body, headers = {}) => {
      const response = await fetch(`${stack.apiUrl}${path}`, {
        method,
        headers: { "content-type": "application/json", ...headers },
        ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON: keep the text
      }
      const result = { status: response.status, headers: response.headers, body: parsed as never, text };
      responses.push(result);
      return result;
    };

    const created = await call("POST", "/v1/pod_managers", {
      name: "reliability-podm",
      url: podmProxy.url,
      driver: "redfish",
      verify_ca: false,
      authentication: [{ type: "basic", auth_items: { username: podmUsername, password: podmPassword } }],
    });
    if (created.status !== 201) throw new Error(`cannot add the pod manager: ${created.text}`);
    const podmId = (created.body as { uuid: string }).uuid;

    const scan = () => scanAll(db, stack.tableName);
    const storeNodes = async () =>
      (await scan()).filter((item) => item.sk === "NODE").map((item) => item as unknown as Node);

    return {
      stack,
      apiUrl: stack.apiUrl,
      dynamoEndpoint: dynamo.endpoint,
      tableName: stack.tableName,
      ironic,
      ironicService,
      emulator,
      proxies: { ironic: ironicProxy, podm: podmProxy, dynamo: dynamoProxy },
      podmId,
      logs,
      responses,
      secretsFile,
      childEnv: {
        DYNAMODB_ENDPOINT: dynamoProxy.url,
        VALENCE_TABLE_NAME: stack.tableName,
        VALENCE_SECRET_STORE: "file",
        VALENCE_SECRETS_FILE: secretsFile,
        VALENCE_LOCAL: "true",
        VALENCE_PODM_ALLOW_HTTP: "true",
        VALENCE_PODM_ALLOW_LOOPBACK: "true",
        IRONIC_URL: ironicProxy.url,
        ...ironicEnv,
        ...options.env,
      },
      call,
      async compose(name) {
        const response = await call<NodeBody>("POST", "/v1/nodes", {
          name,
          podm_id: podmId,
          properties: { processor: { total_cores: 1 } },
        });
        if (response.status !== 201) throw new Error(`cannot compose ${name}: ${response.text}`);
        return response.body;
      },
      async unregister(id, body = {}) {
        const until = Date.now() + 60_000;
        for (;;) {
          const response = await call("POST", `/v1/nodes/${id}/unregister`, body);
          const code = (response.body as { code?: string } | undefined)?.code;
          if (response.status !== 409 || code !== "IronicNodeState" || Date.now() > until) return response;
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      },
      async reconcile() {
        const response = await call<ReconcileSummary>("POST", "/v1/reconcile");
        if (response.status !== 200)
          throw new Error(`reconcile answered ${response.status}: ${response.text}`);
        return response.body;
      },
      scan,
      storeNodes,
      invariants: async (checkOptions) => checkInvariants(ironic, await storeNodes(), checkOptions),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
