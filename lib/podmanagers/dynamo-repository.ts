import { type DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { atVersion, type Claim, RecordStore } from "../db/records.ts";
import { TABLE } from "../db/table.ts";
import { PodManagerConflictError } from "../errors.ts";
import type { NewPodManager, PodManager, PodManagerChanges } from "./model.ts";
import type { PodManagerRepository } from "./repository.ts";

const KIND = "podm";
type UniqueField = "name" | "url";
const scope = (field: UniqueField) => `podm-${field}`;

/** Claims for the unique values among `values`, in the order name, url. */
function claimsOf(values: Partial<Record<UniqueField, string>>): Claim[] {
  return (["name", "url"] as const).flatMap((field) => {
    const value = values[field];
    return value === undefined
      ? []
      : [{ scope: scope(field), value, conflict: () => new PodManagerConflictError(field, value) }];
  });
}

/** Pod managers in the single Valence table; name and url are unique through claims. */
export class DynamoPodManagerRepository implements PodManagerRepository {
  private readonly records: RecordStore<PodManager>;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.records = new RecordStore(
      db,
      tableName,
      { prefix: "PODM", sortKey: "PODM", kind: KIND, label: "pod manager" },
      now,
    );
  }

  async create(input: NewPodManager): Promise<PodManager> {
    const timestamp = this.now().toISOString();
    const podm: PodManager = { ...input, created_at: timestamp, updated_at: timestamp, version: 1 };
    return this.records.create(podm.uuid, podm, claimsOf({ name: input.name, url: input.url }));
  }

  get(uuid: string): Promise<PodManager | undefined> {
    return this.records.get(uuid);
  }

  findByName(name: string): Promise<PodManager | undefined> {
    return this.records.findByClaim(scope("name"), name, (podm) => podm.name === name);
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
      for (const item of page.Items ?? []) items.push(this.records.fromItem(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  async update(uuid: string, version: number, changes: PodManagerChanges): Promise<PodManager> {
    const current = await this.get(uuid);
    if (!current || current.version !== version) throw this.records.conflict(uuid);
    const renamed: Partial<Record<UniqueField, string>> = {
      ...(changes.name !== undefined && changes.name !== current.name ? { name: changes.name } : {}),
      ...(changes.url !== undefined && changes.url !== current.url ? { url: changes.url } : {}),
    };
    const claimed = await this.records.claimAll(uuid, claimsOf(renamed));
    // A placement field changed to `null` is cleared: removed from the item, not stored as null.
    const removed = Object.keys(changes).filter(
      (field) => changes[field as keyof PodManagerChanges] === null,
    );
    const kept = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== null));
    let updated: PodManager;
    try {
      updated = await this.records.update(uuid, version, kept, atVersion(version), { removed });
    } catch (error) {
      await this.records.releaseAll(uuid, claimed);
      throw error;
    }
    // The old values are free once the record no longer uses them.
    const previous = Object.keys(renamed).map((field) => [field, current[field as UniqueField]]);
    await this.records.releaseAll(uuid, claimsOf(Object.fromEntries(previous)));
    return updated;
  }

  async delete(uuid: string, version: number): Promise<void> {
    const deleted = await this.records.delete(uuid, atVersion(version));
    if (deleted) await this.records.releaseAll(uuid, claimsOf({ name: deleted.name, url: deleted.url }));
  }
}
