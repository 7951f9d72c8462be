import { randomUUID } from "node:crypto";
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { DeploymentIdentity } from "../nodes/ownership.ts";
import { isConditionalCheckFailed } from "./client.ts";
import { TABLE } from "./table.ts";

const KEY = { [TABLE.partitionKey]: "DEPLOYMENT", [TABLE.sortKey]: "DEPLOYMENT" };

/**
 * The deployment's identity, one item in its table: the first function (or process) to need it creates it with
 * a conditional put, and every later one reads the same value. Kept in memory once known; a failed read is
 * tried again by the next call.
 */
export class DynamoDeploymentIdentity implements DeploymentIdentity {
  private known: Promise<string> | undefined;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  id(): Promise<string> {
    if (!this.known) {
      const pending = this.readOrCreate();
      this.known = pending;
      pending.catch(() => {
        if (this.known === pending) this.known = undefined;
      });
    }
    return this.known;
  }

  /** Reads the identity without creating it: `undefined` before the first register created it. */
  async peek(): Promise<string | undefined> {
    if (this.known) return this.known;
    return this.read();
  }

  private async readOrCreate(): Promise<string> {
    const existing = await this.read();
    if (existing) return existing;
    const candidate = randomUUID();
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...KEY, deployment_id: candidate, created_at: this.now().toISOString() },
          ConditionExpression: "attribute_not_exists(#pk)",
          ExpressionAttributeNames: { "#pk": TABLE.partitionKey },
        }),
      );
      return candidate;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
    // Someone else created it first: theirs stands.
    const winner = await this.read();
    if (!winner) throw new Error("the deployment identity item exists but has no deployment_id");
    return winner;
  }

  private async read(): Promise<string | undefined> {
    const result = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: KEY, ConsistentRead: true }),
    );
    const id = result.Item?.deployment_id;
    return typeof id === "string" && id !== "" ? id : undefined;
  }
}
