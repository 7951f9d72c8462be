import { type DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { TABLE } from "../db/table.ts";

/** Where a pass that ran out of time stopped, so the next one goes on from there. */
export interface ReconcileCursor {
  get(): Promise<string | undefined>;
  /** `undefined`: the last pass reached the end; start from the beginning. */
  set(marker: string | undefined): Promise<void>;
}

const KEY = { [TABLE.partitionKey]: "RECONCILE", [TABLE.sortKey]: "CURSOR" };

export class DynamoReconcileCursor implements ReconcileCursor {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(): Promise<string | undefined> {
    const result = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: KEY, ConsistentRead: true }),
    );
    const marker = result.Item?.marker;
    return typeof marker === "string" ? marker : undefined;
  }

  async set(marker: string | undefined): Promise<void> {
    await this.db.send(
      new PutCommand({ TableName: this.tableName, Item: { ...KEY, marker: marker ?? null } }),
    );
  }
}
