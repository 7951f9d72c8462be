import type { AddressInfo } from "node:net";
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import dynalite from "dynalite";
import { createTableInput } from "../lib/db/table.ts";

export interface LocalDynamo {
  endpoint: string;
  close(): Promise<void>;
}

/**
 * An embedded DynamoDB-compatible server. With `path` it persists on disk (one server per directory);
 * without, it keeps everything in memory (tests).
 */
export async function startDynalite(options: { path?: string; port?: number; host?: string } = {}) {
  const host = options.host ?? "127.0.0.1";
  const server = dynalite({
    ...(options.path ? { path: options.path } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections?.();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  } satisfies LocalDynamo;
}

/** Creates the Valence table (with its indexes) unless it exists; returns when it is usable. */
export async function ensureTable(endpoint: string, tableName: string): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  try {
    for (;;) {
      try {
        const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
        if (Table?.TableStatus === "ACTIVE") return;
      } catch (error) {
        if ((error as Error).name !== "ResourceNotFoundException") throw error;
        await client.send(new CreateTableCommand(createTableInput(tableName)));
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    client.destroy();
  }
}
