import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { atVersion, type Claim, VersionedRecords } from "../db/records.ts";
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
export class DynamoPodManagerRepository extends VersionedRecords<PodManager> implements PodManagerRepository {
  constructor(db: DynamoDBDocumentClient, tableName: string, now: () => Date = () => new Date()) {
    super(db, tableName, { prefix: "PODM", sortKey: "PODM", kind: KIND, label: "pod manager" }, now);
  }

  async create(input: NewPodManager): Promise<PodManager> {
    const timestamp = this.now().toISOString();
    const podm: PodManager = { ...input, created_at: timestamp, updated_at: timestamp, version: 1 };
    return this.putNew(podm.uuid, podm, claimsOf({ name: input.name, url: input.url }));
  }

  findByName(name: string): Promise<PodManager | undefined> {
    return this.findByClaim(scope("name"), name, (podm) => podm.name === name);
  }

  async list(): Promise<PodManager[]> {
    const items: PodManager[] = [];
    for await (const page of this.indexPages(TABLE.indexes.byKind, KIND)) {
      for (const item of page.Items ?? []) items.push(this.fromItem(item));
    }
    return items;
  }

  async update(uuid: string, version: number, changes: PodManagerChanges): Promise<PodManager> {
    const current = await this.get(uuid);
    if (!current || current.version !== version) throw this.conflict(uuid);
    const renamed: Partial<Record<UniqueField, string>> = {
      ...(changes.name !== undefined && changes.name !== current.name ? { name: changes.name } : {}),
      ...(changes.url !== undefined && changes.url !== current.url ? { url: changes.url } : {}),
    };
    const claimed = await this.claimAll(uuid, claimsOf(renamed));
    // A placement field changed to `null` is cleared: removed from the item, not stored as null.
    const removed = Object.keys(changes).filter(
      (field) => changes[field as keyof PodManagerChanges] === null,
    );
    const kept = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== null));
    let updated: PodManager;
    try {
      updated = await this.putVersion(uuid, version, kept, atVersion(version), { removed });
    } catch (error) {
      await this.releaseAll(uuid, claimed);
      throw error;
    }
    // The old values are free once the record no longer uses them.
    const previous = Object.keys(renamed).map((field) => [field, current[field as UniqueField]]);
    await this.releaseAll(uuid, claimsOf(Object.fromEntries(previous)));
    return updated;
  }

  async delete(uuid: string, version: number): Promise<void> {
    const deleted = await this.deleteIf(uuid, atVersion(version));
    if (deleted) await this.releaseAll(uuid, claimsOf({ name: deleted.name, url: deleted.url }));
  }
}
