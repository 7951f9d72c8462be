import { randomUUID } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import type { Context } from "aws-lambda";
import { config, resetConfig } from "../lib/config.ts";
import { logger } from "../lib/log.ts";
import { startApiServer } from "./api-server.ts";
import { seedDemo } from "./demo.ts";
import { ensureTable, startDynalite } from "./dynalite.ts";
import { startIronic } from "./ironic.ts";
import { type InventorySpec, type RedfishEmulator, startRedfishEmulator } from "./redfish-emulator/index.ts";

export interface LocalStackOptions {
  /** Where dynalite, the secret file and Ironic's database live; omitted = in memory and temp files (tests). */
  dataDir?: string;
  apiPort?: number;
  tableName?: string;
  /** Start the Redfish pod-manager emulator and register it as `demo-podm` with two managed nodes. */
  demo?: boolean;
  /** The emulator's pool of resource blocks. @default the emulator's small default inventory */
  emulatorInventory?: InventorySpec;
  /** Port of the emulator; fixed by default so the stored pod-manager url stays valid across restarts. */
  emulatorPort?: number;
  /**
   * Ironic to use: `"start"` runs a standalone Ironic (Debian's python3-ironic); a URL uses that one (with the
   * IRONIC_* / OS_* environment for auth); `undefined` = none.
   */
  ironic?: "start" | string;
  /** Run the scheduled reconcile function every this many seconds (as EventBridge does in AWS); 0 = never. */
  reconcileSeconds?: number;
}

export interface LocalStack {
  apiUrl: string;
  dynamoEndpoint: string;
  tableName: string;
  emulator?: RedfishEmulator;
  ironicUrl?: string;
  stop(): Promise<void>;
}

/** Invokes the scheduled `reconcile` function's handler on a timer, one pass at a time. */
function scheduleReconcile(seconds: number): NodeJS.Timeout {
  let running = false;
  const timer = setInterval(async () => {
    if (running) return;
    running = true;
    try {
      const { handler } = await import("../functions/reconcile.ts");
      // As much time as the deployed function gets; passes never overlap (see `running`).
      const deadline = Date.now() + 300_000;
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
 * Handlers read their configuration from the environment exactly as in Lambda, so the stack sets it first.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const dataDir = options.dataDir ? resolve(options.dataDir) : undefined;
  if (dataDir) await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const dynamo = await startDynalite(dataDir ? { path: resolve(dataDir, "dynamodb") } : {});
  const tableName = options.tableName ?? "valence";

  Object.assign(process.env, {
    DYNAMODB_ENDPOINT: dynamo.endpoint,
    VALENCE_TABLE_NAME: tableName,
    VALENCE_SECRET_STORE: "file",
    VALENCE_LOCAL: "true",
    // The emulators listen on loopback over plain http.
    VALENCE_PODM_ALLOW_HTTP: "true",
    VALENCE_PODM_ALLOW_LOOPBACK: "true",
    ...(dataDir ? { VALENCE_DATA_DIR: dataDir, VALENCE_SECRETS_FILE: resolve(dataDir, "secrets.json") } : {}),
  });
  resetConfig();
  config();
  await ensureTable(dynamo.endpoint, tableName);

  const stops: Array<() => Promise<void>> = [() => dynamo.close()];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    let ironicUrl: string | undefined;
    if (options.ironic === "start") {
      const ironic = await startIronic({
        ...(dataDir ? { dataDir: resolve(dataDir, "ironic") } : {}),
        powerStateSyncSeconds: 60,
      });
      stops.push(() => ironic.stop());
      ironicUrl = ironic.url;
      Object.assign(process.env, { IRONIC_URL: ironic.url, IRONIC_AUTH_TYPE: "none" });
    } else if (options.ironic) {
      ironicUrl = options.ironic;
      process.env.IRONIC_URL = options.ironic;
    }
    resetConfig();

    let emulator: RedfishEmulator | undefined;
    if (options.demo) {
      emulator = await startRedfishEmulator({
        port: options.emulatorPort ?? 0,
        mode: "both",
        ...DEMO_CREDENTIALS,
        ...(options.emulatorInventory ? { inventory: options.emulatorInventory } : {}),
      });
      const running = emulator;
      stops.push(() => running.close());
      await seedDemo({ url: emulator.url, ...DEMO_CREDENTIALS });
    }

    const api = await startApiServer({ port: options.apiPort ?? 0 });
    stops.push(() => api.close());
    if (options.reconcileSeconds) {
      const timer = scheduleReconcile(options.reconcileSeconds);
      stops.push(async () => clearInterval(timer));
    }
    logger.info("local stack up", {
      api: api.url,
      dynamodb: dynamo.endpoint,
      ironic: ironicUrl ?? "none",
      emulator: emulator?.url ?? "none",
      data_dir: dataDir ?? "memory",
    });
    return {
      apiUrl: api.url,
      dynamoEndpoint: dynamo.endpoint,
      tableName,
      ...(emulator ? { emulator } : {}),
      ...(ironicUrl ? { ironicUrl } : {}),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
