import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandOutput,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { VersionConflictError } from "../errors.ts";
import { isConditionalCheckFailed } from "./client.ts";
import { versionedSet } from "./expressions.ts";
import { TABLE } from "./table.ts";
import { UniqueClaims } from "./unique.ts";

/** One kind of record in the single table (see `lib/db/table.ts`). */
export interface RecordKind {
  /** `NODE`: records live at pk `NODE#<id>`. */
  prefix: string;
  /** Their sort key. */
  sortKey: string;
  /** Written as the item's `kind` (the by-kind index), for records listed by kind. */
  kind?: string;
  /** How errors name one, e.g. `pod manager` in "pod manager <uuid>". */
  label: string;
}

/** A unique value a record claims before it is written, and what to throw when someone else holds it. */
export interface Claim {
  scope: string;
  value: string;
  conflict(owner: string): Error;
}

/** A conditional write's names, values and condition, for {@link VersionedRecords.putVersion} and `deleteIf`. */
export interface Condition {
  expression: string;
  names: Record<string, string>;
  values: Record<string, unknown>;
}

/**
 * The versioning condition most writes carry: the record exists at `version`. The guard other conditions
 * extend.
 */
export function atVersion(version: number): Condition {
  return {
    expression: "attribute_exists(#pk) AND #version = :expectedVersion",
    names: { "#pk": TABLE.partitionKey, "#version": "version" },
    values: { ":expectedVersion": version },
  };
}

/**
 * The base of the repositories of versioned records (nodes, pod managers, operations): what they do alike. The
 * key, the item without its table fields, a consistent get, a put that creates (after claiming its unique
 * values), a versioned update and a conditional delete, each refusal a {@link VersionConflictError} naming the
 * record.
 */
export abstract class VersionedRecords<T extends object> {
  protected readonly claims: UniqueClaims;

  constructor(
    protected readonly db: DynamoDBDocumentClient,
    protected readonly tableName: string,
    private readonly kind: RecordKind,
    protected readonly now: () => Date,
  ) {
    this.claims = new UniqueClaims(db, tableName);
  }

  protected key(id: string): Record<string, string> {
    return { [TABLE.partitionKey]: `${this.kind.prefix}#${id}`, [TABLE.sortKey]: this.kind.sortKey };
  }

  /** The record in an item: the table's own fields left out. */
  protected fromItem(item: Record<string, unknown>): T {
    const { [TABLE.partitionKey]: _pk, [TABLE.sortKey]: _sk, ...record } = item;
    if (this.kind.kind !== undefined) delete record.kind;
    return record as T;
  }

  protected conflict(id: string): VersionConflictError {
    return new VersionConflictError(`${this.kind.label} ${id}`);
  }

  async get(id: string): Promise<T | undefined> {
    const result = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: this.key(id), ConsistentRead: true }),
    );
    return result.Item ? this.fromItem(result.Item) : undefined;
  }

  /** Every page of one partition of a global index, in its order. */
  protected async *indexPages(
    index: { name: string; partitionKey: string },
    value: string,
    options: { count?: boolean } = {},
  ): AsyncGenerator<QueryCommandOutput> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: index.name,
          KeyConditionExpression: "#ipk = :ipk",
          ExpressionAttributeNames: { "#ipk": index.partitionKey },
          ExpressionAttributeValues: { ":ipk": value },
          ...(options.count ? { Select: "COUNT" as const } : {}),
          ExclusiveStartKey: startKey,
        }),
      );
      yield page;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  /** The record that holds `value` in `scope`; a stale claim (its writer died before the record) names none. */
  protected async findByClaim(
    scope: string,
    value: string,
    holds: (record: T) => boolean,
  ): Promise<T | undefined> {
    const owner = await this.claims.owner(scope, value);
    if (!owner) return undefined;
    const record = await this.get(owner);
    return record && holds(record) ? record : undefined;
  }

  /** Claims each value in order for `id`; on a conflict releases those it took and throws the claim's error. */
  protected async claimAll(id: string, claims: readonly Claim[]): Promise<Claim[]> {
    const claimed: Claim[] = [];
    const exists = async (owner: string) => Boolean(await this.get(owner));
    for (const claim of claims) {
      const owner = await this.claims.claim(claim.scope, claim.value, id, exists);
      if (owner !== id) {
        await this.releaseAll(id, claimed);
        throw claim.conflict(owner);
      }
      claimed.push(claim);
    }
    return claimed;
  }

  protected async releaseAll(id: string, claims: readonly Pick<Claim, "scope" | "value">[]): Promise<void> {
    for (const claim of claims) await this.claims.release(claim.scope, claim.value, id);
  }

  /**
   * Claims the record's unique values, then writes it if no record has its id; the claims are given back when
   * the write fails.
   */
  protected async putNew(id: string, record: T, claims: readonly Claim[] = []): Promise<T> {
    const claimed = await this.claimAll(id, claims);
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...this.key(id), ...(this.kind.kind ? { kind: this.kind.kind } : {}), ...record },
          ConditionExpression: "attribute_not_exists(#pk)",
          ExpressionAttributeNames: { "#pk": TABLE.partitionKey },
        }),
      );
    } catch (error) {
      await this.releaseAll(id, claimed);
      if (isConditionalCheckFailed(error)) throw this.conflict(id);
      throw error;
    }
    return record;
  }

  /**
   * Sets the defined fields of `changes` (and removes `removed`) as the next version, if `condition` holds;
   * a refused write throws what `refused` returns (a version conflict by default).
   */
  protected async putVersion(
    id: string,
    version: number,
    changes: Record<string, unknown>,
    condition: Condition,
    options: { removed?: readonly string[]; refused?: (error: unknown) => Promise<Error> } = {},
  ): Promise<T> {
    const names = { ...condition.names };
    const values = { ...condition.values };
    let update = versionedSet(changes, version + 1, this.now().toISOString(), names, values);
    const removed = options.removed ?? [];
    if (removed.length > 0) {
      for (const field of removed) names[`#r_${field}`] = field;
      update += ` REMOVE ${removed.map((field) => `#r_${field}`).join(", ")}`;
    }
    try {
      const result = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(id),
          UpdateExpression: update,
          ConditionExpression: condition.expression,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: "ALL_NEW",
        }),
      );
      return this.fromItem(result.Attributes ?? {});
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      throw options.refused ? await options.refused(error) : this.conflict(id);
    }
  }

  /** Deletes the record if `condition` holds; returns what was deleted (nothing when there was nothing). */
  protected async deleteIf(id: string, condition: Condition): Promise<T | undefined> {
    try {
      const result = await this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: this.key(id),
          ConditionExpression: condition.expression,
          ExpressionAttributeNames: condition.names,
          ExpressionAttributeValues: condition.values,
          ReturnValues: "ALL_OLD",
        }),
      );
      return result.Attributes ? this.fromItem(result.Attributes) : undefined;
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw this.conflict(id);
      throw error;
    }
  }
}
