import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { isConditionalCheckFailed } from "../db/client.ts";
import { versionedSet } from "../db/expressions.ts";
import { TABLE } from "../db/table.ts";
import { UniqueClaims } from "../db/unique.ts";
import { PodManagerConflictError, VersionConflictError } from "../errors.ts";
import type { NewPodManager, PodManager, PodManagerChanges } from "./model.ts";
import type { PodManagerRepository } from "./repository.ts";

const KIND = "podm";
const SK = "PODM";
const UNIQUE_FIELDS = ["name", "url"] as const;
const scope = (field: (typeof UNIQUE_FIELDS)[number]) => `podm-${field}`;

const podmKey = (uuid: string) => ({ [TABLE.partitionKey]: `PODM#${uuid}`, [TABLE.sortKey]: SK });

function toPodManager(item: Record<string, unknown>): PodManager {
  const { pk: _pk, sk: _sk, kind: _kind, ...podm } = item;
  return podm as unknown as PodManager;
}

/** Pod managers in the single Valence table; name and url are unique through claims. */
export class DynamoPodManagerRepository implements PodManagerRepository {
  private readonly claims: UniqueClaims;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.claims = new UniqueClaims(db, tableName);
  }

  private async claimAll(uuid: string, values: Partial<Record<(typeof UNIQUE_FIELDS)[number], string>>) {
    const claimed: Array<[(typeof UNIQUE_FIELDS)[number], string]> = [];
    for (const field of UNIQUE_FIELDS) {
      const value = values[field];
      if (value === undefined) continue;
      const owner = await this.claims.claim(scope(field), value, uuid, async (id) =>
        Boolean(await this.get(id)),
      );
      if (owner !== uuid) {
        await this.releaseAll(uuid, claimed);
        throw new PodManagerConflictError(field, value);
      }
      claimed.push([field, value]);
    }
    return claimed;
  }

  private async releaseAll(uuid: string, claimed: Array<[(typeof UNIQUE_FIELDS)[number], string]>) {
    for (const [field, value] of claimed) await this.claims.release(scope(field), value, uuid);
  }

  async create(input: NewPodManager): Promise<PodManager> {
    const claimed = await this.claimAll(input.uuid, { name: input.name, url: input.url });
    const timestamp = this.now().toISOString();
    const podm: PodManager = { ...input, created_at: timestamp, updated_at: timestamp, version: 1 };
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...podmKey(podm.uuid), kind: KIND, ...podm },
          ConditionExpression: "attribute_not_exists(#pk)",
          ExpressionAttributeNames: { "#pk": TABLE.partitionKey },
        }),
      );
    } catch (error) {
      await this.releaseAll(input.uuid, claimed);
      if (isConditionalCheckFailed(error)) throw new VersionConflictError(`pod manager ${input.uuid}`);
      throw error;
    }
    return podm;
  }

  async get(uuid: string): Promise<PodManager | undefined> {
    const result = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: podmKey(uuid), ConsistentRead: true }),
    );
    return result.Item ? toPodManager(result.Item) : undefined;
  }

  async findByName(name: string): Promise<PodManager | undefined> {
    const owner = await this.claims.owner(scope("name"), name);
    if (!owner) return undefined;
    const podm = await this.get(owner);
    return podm?.name === name ? podm : undefined;
  }

  async list(): Promise<PodManager[]> {
    const items: PodManager[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: TABLE.indexes.byKind.name,
          KeyConditionExpression: "#kind = :kind",
          ExpressionAttributeNames: { "#kind": TABLE.indexes.byKind.partitionKey },
          ExpressionAttributeValues: { ":kind": KIND },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) items.push(toPodManager(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  async update(uuid: string, version: number, changes: PodManagerChanges): Promise<PodManager> {
    const current = await this.get(uuid);
    if (!current || current.version !== version) throw new VersionConflictError(`pod manager ${uuid}`);
    const renamed = {
      ...(changes.name !== undefined && changes.name !== current.name ? { name: changes.name } : {}),
      ...(changes.url !== undefined && changes.url !== current.url ? { url: changes.url } : {}),
    };
    const claimed = await this.claimAll(uuid, renamed);
    const names: Record<string, string> = { "#pk": TABLE.partitionKey };
    const values: Record<string, unknown> = { ":expected": version };
    // A placement field changed to `null` is cleared: removed from the item, not stored as null.
    const cleared = Object.keys(changes).filter(
      (field) => changes[field as keyof PodManagerChanges] === null,
    );
    const kept = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== null));
    let update = versionedSet(kept, version + 1, this.now().toISOString(), names, values);
    if (cleared.length > 0) {
      for (const field of cleared) names[`#r_${field}`] = field;
      update += ` REMOVE ${cleared.map((field) => `#r_${field}`).join(", ")}`;
    }
    let updated: PodManager;
    try {
      const result = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: podmKey(uuid),
          UpdateExpression: update,
          ConditionExpression: "attribute_exists(#pk) AND #version = :expected",
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: "ALL_NEW",
        }),
      );
      updated = toPodManager(result.Attributes ?? {});
    } catch (error) {
      await this.releaseAll(uuid, claimed);
      if (isConditionalCheckFailed(error)) throw new VersionConflictError(`pod manager ${uuid}`);
      throw error;
    }
    // The old values are free once the record no longer uses them.
    for (const [field] of claimed) await this.claims.release(scope(field), current[field], uuid);
    return updated;
  }

  async delete(uuid: string, version: number): Promise<void> {
    let deleted: Record<string, unknown> | undefined;
    try {
      const result = await this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: podmKey(uuid),
          ConditionExpression: "attribute_exists(#pk) AND #version = :expected",
          ExpressionAttributeNames: { "#pk": TABLE.partitionKey, "#version": "version" },
          ExpressionAttributeValues: { ":expected": version },
          ReturnValues: "ALL_OLD",
        }),
      );
      deleted = result.Attributes;
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new VersionConflictError(`pod manager ${uuid}`);
      throw error;
    }
    for (const field of UNIQUE_FIELDS) {
      const value = deleted?.[field];
      if (typeof value === "string") await this.claims.release(scope(field), value, uuid);
    }
  }
}
