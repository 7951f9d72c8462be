import { randomUUID } from "node:crypto";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import { createDocumentClient } from "../../lib/db/client.ts";
import { ensureTable, startDynalite } from "../../local/dynalite.ts";

export interface TestTable {
  endpoint: string;
  tableName: string;
  db: DynamoDBDocumentClient;
  /** Every item in the table, for assertions on what was (not) written. */
  scan(): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

/** A fresh in-memory dynalite over HTTP with the Valence table, reached with the real AWS SDK. */
export async function startTestTable(): Promise<TestTable> {
  const dynamo = await startDynalite();
  const tableName = `valence-${randomUUID().slice(0, 8)}`;
  await ensureTable(dynamo.endpoint, tableName);
  const db = createDocumentClient({ region: "us-east-1", endpoint: dynamo.endpoint });
  return {
    endpoint: dynamo.endpoint,
    tableName,
    db,
    scan: () => scanAll(db, tableName),
    close: async () => {
      db.destroy();
      await dynamo.close();
    },
  };
}

export async function scanAll(db: DynamoDBDocumentClient, tableName: string) {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: startKey }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}
