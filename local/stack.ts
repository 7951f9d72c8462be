import { randomUUID } from "node:crypto";
import { chmod, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Context } from "aws-lambda";
import { type Config, parseConfig, useConfig } from "../lib/config.ts";
import { logger } from "../lib/log.ts";
import { operationRepositoryFor, useLocalOperationStarter } from "../lib/runtime/operations.ts";
import { functionTimeoutsMs, startApiServer } from "./api-server.ts";
import { seedDemo } from "./demo.ts";
import { ensureTable, startDynalite } from "./dynalite.ts";
import { freePort, startIronic } from "./ironic.ts";
import { type LocalOperationRunner, startLocalOperationRunner } from "./operation-runner.ts";
import { attachRamdiskAgents, cleaningIronicConfig, type RamdiskAgents } from "./ramdisk-agent/index.ts";
import { type InventorySpec, type RedfishEmulator, startRedfishEmulator } from "./redfish-emulator/index.ts";

export interface LocalStackOptions {
  /**
   * Where dynalite, the secret file, the emulator's pool and Ironic's database live (created, or tightened, to
   * mode 0700); omitted = in memory and a temp folder removed by `stop()` (tests).
   */
  dataDir?: string;
  apiPort?: number;
  /**
   * Valence's configuration as environment variables (`npm start` passes its own environment; tests pass what
   * they change). Parsed into the configuration the handlers run with — never written to `process.env`. The
   * stack sets what it runs itself: DynamoDB's endpoint, the file secret store, Ironic when it starts one.
   * @default {} (every default)
   */
  env?: Record<string, string | undefined>;
  /** @default the configuration's VALENCE_TABLE_NAME */
  tableName?: string;
  /** A DynamoDB-compatible endpoint to use instead of starting an embedded dynalite (e.g. a fault proxy). */
  dynamoEndpoint?: string;
  /** Start the Redfish pod-manager emulator and register it as `demo-podm` with two managed nodes. */
  demo?: boolean;
  /** The emulator's pool of resource blocks. @default the emulator's small default inventory */
  emulatorInventory?: InventorySpec;
  /** Port of the emulator; fixed by default so the stored pod-manager url stays valid across restarts. */
  emulatorPort?: number;
  /**
   * Ironic to use: `"start"` runs a standalone Ironic (Debian's python3-ironic) without auth; a URL uses that
   * one (authenticated as the configuration says); `undefined` = whatever the configuration says, if anything.
   */
  ironic?: "start" | string;
  /** Run the scheduled reconcile function every this many seconds (as EventBridge does in AWS); 0 = never. */
  reconcileSeconds?: number;
  /**
   * The started Ironic cleans nodes on provide (`automated_clean`, production's default), the emulator's systems
   * booting an emulated ramdisk agent for it. Only with `ironic: "start"` and `demo`. @default true
   */
  automatedClean?: boolean;
  /** How long each emulated clean step takes. @default 1000 */
  cleanStepMs?: number;
}

export interface LocalStack {
  apiUrl: string;
  dynamoEndpoint: string;
  tableName: string;
  /** The configuration the stack's handlers run with. */
  config: Config;
  emulator?: RedfishEmulator;
  /** The emulated ramdisk agents on the emulator's systems, when the stack's Ironic cleans. */
  ramdiskAgents?: RamdiskAgents;
  /** Where operations run (the durable SDK's local runner). */
  operations: LocalOperationRunner;
  ironicUrl?: string;
  /** The process of the Ironic this stack started (benchmarks read its CPU time). */
  ironicPid?: number;
  stop(): Promise<void>;
}

/** Invokes the scheduled `reconcile` function's handler on a timer, one pass at a time. */
function scheduleReconcile(seconds: number): NodeJS.Timeout {
  let running = false;
  // The time the deployed function gets, decided as the stack decides it.
  const timeoutMs = functionTimeoutsMs().get("reconcile") ?? 300_000;
  const timer = setInterval(async () => {
    if (running) return;
    running = true;
    try {
      const { handler } = await import("../functions/reconcile.ts");
      // As much time as the deployed function gets; passes never overlap (see `running`).
      const deadline = Date.now() + timeoutMs;
      await handler({ source: "local.schedule" }, {
        awsRequestId: randomUUID(),
        getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      } as Context);
    } catch (error) {
      logger.error("scheduled reconcile failed", { error: (error as Error).message });
    } finally {
      running = false;
    }
  }, seconds * 1000);
  timer.unref();
  return timer;
}

export const DEMO_CREDENTIALS = { username: "admin", password: "admin-demo-password" };

/**
 * The whole service on one machine: an embedded DynamoDB (dynalite), and the Lambda handlers served over HTTP.
 * The handlers run with the configuration the stack builds from `options.env` and what it started, handed to
 * them with `useConfig` (in Lambda they parse their environment instead).
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const base = parseConfig(options.env ?? {});
  const stops: Array<() => Promise<unknown>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    const dataDir = options.dataDir ? resolve(options.dataDir) : undefined;
    let localDir: string;
    if (dataDir) {
      await mkdir(dataDir, { recursive: true, mode: 0o700 });
      // An existing one (an older start, a `mkdir` by hand) may be open to others: it holds the secret file.
      await chmod(dataDir, 0o700);
      localDir = dataDir;
    } else {
      const temporary = await mkdtemp(join(tmpdir(), "valence-local-"));
      stops.push(() => rm(temporary, { recursive: true, force: true }));
      localDir = temporary;
    }

    let dynamoEndpoint = options.dynamoEndpoint;
    if (!dynamoEndpoint) {
      const dynamo = await startDynalite(dataDir ? { path: join(dataDir, "dynamodb") } : {});
      stops.push(() => dynamo.close());
      dynamoEndpoint = dynamo.endpoint;
    }
    const tableName = options.tableName ?? base.VALENCE_TABLE_NAME;
    await ensureTable(dynamoEndpoint, tableName);

    let ironic: Pick<Config, "IRONIC_URL" | "IRONIC_AUTH_TYPE"> = {
      IRONIC_URL: base.IRONIC_URL,
      IRONIC_AUTH_TYPE: base.IRONIC_AUTH_TYPE,
    };
    // Production Ironic cleans every node on provide; so does the local one whenever its own emulator is there to
    // boot the (emulated) ramdisk agent that cleaning waits for.
    const cleaning = options.ironic === "start" && Boolean(options.demo) && options.automatedClean !== false;
    let ironicUrlForAgents: string | undefined;
    let ironicPid: number | undefined;
    if (options.ironic === "start") {
      const ironicDir = join(localDir, "ironic");
      const port = await freePort("127.0.0.1");
      const ownUrl = `http://127.0.0.1:${port}`;
      const started = await startIronic({
        dataDir: ironicDir,
        port,
        ...(dataDir ? { cacheDir: join(dataDir, "cache") } : {}),
        powerStateSyncSeconds: 60,
        ...(cleaning
          ? { config: await cleaningIronicConfig({ dataDir: ironicDir, ironicUrl: ownUrl }) }
          : {}),
      });
      ironicUrlForAgents = started.url;
      ironicPid = started.pid;
      stops.push(() => started.stop());
      ironic = { IRONIC_URL: started.url, IRONIC_AUTH_TYPE: "none" };
    } else if (options.ironic) {
      ironic = { ...ironic, IRONIC_URL: options.ironic };
    }

    const config: Config = {
      ...base,
      ...ironic,
      DYNAMODB_ENDPOINT: dynamoEndpoint,
      VALENCE_TABLE_NAME: tableName,
      VALENCE_SECRET_STORE: "file",
      VALENCE_SECRETS_FILE: base.VALENCE_SECRETS_FILE ?? join(localDir, "secrets.json"),
      VALENCE_DATA_DIR: localDir,
      VALENCE_LOCAL: true,
      // The local emulators listen on loopback over plain http.
      VALENCE_PODM_ALLOW_HTTP: true,
      VALENCE_PODM_ALLOW_LOOPBACK: true,
    };
    useConfig(config);

    let emulator: RedfishEmulator | undefined;
    if (options.demo) {
      emulator = await startRedfishEmulator({
        port: options.emulatorPort ?? 0,
        mode: "both",
        ...DEMO_CREDENTIALS,
        ...(options.emulatorInventory ? { inventory: options.emulatorInventory } : {}),
        // What it composed outlives a restart, as the nodes stored for it do.
        ...(dataDir ? { stateFile: join(dataDir, "emulator.json") } : {}),
      });
      const running = emulator;
      stops.push(() => running.close());
      await seedDemo(config, emulator, DEMO_CREDENTIALS);
    }
    let ramdiskAgents: RamdiskAgents | undefined;
    if (cleaning && emulator && ironicUrlForAgents) {
      // Agents look their node up twice a second until Ironic waits for them; once found, they heartbeat when a
      // clean step ends (as IPA does) and otherwise every 5 s (IPA: every 90–180 s with Ironic's defaults).
      const agents = attachRamdiskAgents(emulator, {
        ironicUrl: ironicUrlForAgents,
        heartbeatMs: 5_000,
        lookupMs: 500,
      });
      agents.cleaning.stepMs = options.cleanStepMs ?? 1_000;
      stops.push(() => agents.close());
      ramdiskAgents = agents;
    }

    // Operations run in this process, through the durable SDK's local runner; those a killed start left in
    // flight are started again once everything they talk to is up.
    const operations = await startLocalOperationRunner();
    useLocalOperationStarter(operations);
    stops.push(async () => {
      useLocalOperationStarter(undefined);
      await operations.close();
    });
    await operations.resume(operationRepositoryFor(config));

    const api = await startApiServer({ port: options.apiPort ?? 0 });
    stops.push(() => api.close());
    if (options.reconcileSeconds) {
      const timer = scheduleReconcile(options.reconcileSeconds);
      stops.push(async () => clearInterval(timer));
    }
    logger.info("local stack up", {
      api: api.url,
      dynamodb: dynamoEndpoint,
      table: tableName,
      ironic:
        config.IRONIC_URL ?? (config.openstack.OS_CLOUD ? `OS_CLOUD=${config.openstack.OS_CLOUD}` : "none"),
      emulator: emulator?.url ?? "none",
      data_dir: dataDir ?? "memory",
    });
    return {
      apiUrl: api.url,
      dynamoEndpoint,
      tableName,
      config,
      ...(emulator ? { emulator } : {}),
      ...(ramdiskAgents ? { ramdiskAgents } : {}),
      operations,
      ...(config.IRONIC_URL ? { ironicUrl: config.IRONIC_URL } : {}),
      ...(ironicPid === undefined ? {} : { ironicPid }),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
