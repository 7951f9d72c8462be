import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { isConditionalCheckFailed } from "./client.ts";
import { TABLE } from "./table.ts";

const CLAIM_SK = "UNIQUE";

function claimKey(scope: string, value: string) {
  return { [TABLE.partitionKey]: `UNIQUE#${scope}#${value}`, [TABLE.sortKey]: CLAIM_SK };
}

/**
 * Unique values (node names, pod-manager names and urls) without transactions: a claim item per value, written
 * with a conditional put before the record that uses it. A claim whose owner record does not exist a while after
 * the claim was made is stale (a writer died between the two writes) and may be taken over, again conditionally.
 * The grace period keeps a claim whose owner is still being written from looking stale.
 */
export class UniqueClaims {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly staleAfterMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Returns the owner if `value` is free or already ours; otherwise the current owner's uuid. */
  async claim(
    scope: string,
    value: string,
    owner: string,
    ownerExists: (uuid: string) => Promise<boolean>,
  ): Promise<string> {
    if (await this.write(scope, value, owner, { free: true, heldBy: owner })) return owner;
    const claim = await this.read(scope, value);
    if (claim === undefined) return this.claim(scope, value, owner, ownerExists);
    const current = claim.owner;
    if (this.now() - claim.claimedAt < this.staleAfterMs || (await ownerExists(current))) return current;
    // Stale claim: take it over only if nobody else did meanwhile.
    if (await this.write(scope, value, owner, { free: false, heldBy: current })) return owner;
    return (await this.owner(scope, value)) ?? owner;
  }

  /**
   * Writes `owner`'s claim if the value is held by `heldBy` (or, with `free`, held by nobody); false when that
   * no longer holds.
   */
  private async write(
    scope: string,
    value: string,
    owner: string,
    expected: { free: boolean; heldBy: string },
  ): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...claimKey(scope, value), owner, claimed_at: this.now() },
          ConditionExpression: expected.free
            ? "attribute_not_exists(#pk) OR #owner = :held"
            : "#owner = :held",
          ExpressionAttributeNames: {
            ...(expected.free ? { "#pk": TABLE.partitionKey } : {}),
            "#owner": "owner",
          },
          ExpressionAttributeValues: { ":held": expected.heldBy },
        }),
      );
      return true;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      return false;
    }
  }

  async owner(scope: string, value: string): Promise<string | undefined> {
    return (await this.read(scope, value))?.owner;
  }

  private async read(scope: string, value: string) {
    const result = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: claimKey(scope, value), ConsistentRead: true }),
    );
    const owner = result.Item?.owner;
    if (typeof owner !== "string") return undefined;
    const claimedAt = result.Item?.claimed_at;
    return { owner, claimedAt: typeof claimedAt === "number" ? claimedAt : 0 };
  }

  /** Releases a claim we hold; a claim held by someone else is left alone. */
  async release(scope: string, value: string, owner: string): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: claimKey(scope, value),
          ConditionExpression: "#owner = :owner",
          ExpressionAttributeNames: { "#owner": "owner" },
          ExpressionAttributeValues: { ":owner": owner },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }
}
