import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import { config, resetConfig } from "../lib/config.ts";
import { logger } from "../lib/log.ts";
import { startApiServer } from "./api-server.ts";
import { ensureTable, startDynalite } from "./dynalite.ts";

export interface LocalStackOptions {
  /** Where dynalite and the secret file live; omitted = in memory and a temp file (tests). */
  dataDir?: string;
  apiPort?: number;
  tableName?: string;
}

export interface LocalStack {
  apiUrl: string;
  dynamoEndpoint: string;
  tableName: string;
  stop(): Promise<void>;
}

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
    ...(dataDir ? { VALENCE_DATA_DIR: dataDir, VALENCE_SECRETS_FILE: resolve(dataDir, "secrets.json") } : {}),
  });
  resetConfig();
  config();
  await ensureTable(dynamo.endpoint, tableName);

  const api = await startApiServer({ port: options.apiPort ?? 0 });
  logger.info("local stack up", { api: api.url, dynamodb: dynamo.endpoint, data_dir: dataDir ?? "memory" });
  return {
    apiUrl: api.url,
    dynamoEndpoint: dynamo.endpoint,
    tableName,
    stop: async () => {
      await api.close();
      await dynamo.close();
    },
  };
}
