import {
  BatchGetCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
} from "@aws-sdk/lib-dynamodb";
import { atVersion, VersionedRecords } from "../db/records.ts";
import { TABLE } from "../db/table.ts";
import { OperationNotFoundError, ValidationError, VersionConflictError } from "../errors.ts";
import { logger } from "../log.ts";
import {
  DEFAULT_OPERATION_DEADLINE_MS,
  initialOperation,
  isActiveState,
  type NewOperation,
  type Operation,
} from "./model.ts";
import type {
  OperationListQuery,
  OperationPage,
  OperationRepository,
  OperationUpdateGuard,
} from "./repository.ts";
import type { OperationTransition } from "./transitions.ts";

const NODE_ITEM_PREFIX = "OP#";
const ACTIVE_PK = "OPERATIONS#ACTIVE";
/** An index item naming no operation is left alone this long: its operation may be being written right now. */
const ORPHAN_GRACE_MS = 5 * 60 * 1000;

/** Sorts by creation, ties broken by id: the order of both listings. */
const orderOf = (operation: Pick<Operation, "created_at" | "id">) =>
  `${operation.created_at}#${operation.id}`;

/** Where an index lives: one partition, its items' sort keys `<prefix><order>`. */
interface IndexPartition {
  pk: string;
  prefix: string;
}
const nodeIndex = (nodeUuid: string): IndexPartition => ({
  pk: `NODE#${nodeUuid}`,
  prefix: NODE_ITEM_PREFIX,
});
const ACTIVE_INDEX: IndexPartition = { pk: ACTIVE_PK, prefix: "" };
const indexKey = (index: IndexPartition, order: string) => ({
  [TABLE.partitionKey]: index.pk,
  [TABLE.sortKey]: `${index.prefix}${order}`,
});

export interface DynamoOperationRepositoryOptions {
  now?: () => Date;
  /** Deadline of an operation created without one, after its creation. @default 2 h */
  defaultDeadlineMs?: number;
}

/**
 * Operations in the single Valence table (see `lib/db/table.ts`). The operation is one item, so every transition
 * is one conditional update. Two listings go through index items in the table itself rather than a GSI (so they
 * read consistently, and a table created before them needs no new index): a node's operations, and those still in
 * flight. Without transactions the index items are written before the operation and trusted only when they match
 * it, so a crash between the writes can leave an index item too many (skipped, then cleaned) but never an
 * operation in flight that no listing shows.
 */
export class DynamoOperationRepository extends VersionedRecords<Operation> implements OperationRepository {
  private readonly defaultDeadlineMs: number;

  constructor(db: DynamoDBDocumentClient, tableName: string, options: DynamoOperationRepositoryOptions = {}) {
    // No table `kind`: an operation's `kind` is its own, and operations never enter `by-kind`.
    super(
      db,
      tableName,
      { prefix: "OP", sortKey: "OP", label: "operation" },
      options.now ?? (() => new Date()),
    );
    this.defaultDeadlineMs = options.defaultDeadlineMs ?? DEFAULT_OPERATION_DEADLINE_MS;
  }

  async create(input: NewOperation): Promise<Operation> {
    const operation = initialOperation(input, this.now(), this.defaultDeadlineMs);
    const order = orderOf(operation);
    const indexKeys = [indexKey(nodeIndex(operation.node_uuid), order), indexKey(ACTIVE_INDEX, order)];
    await Promise.all(
      indexKeys.map((key) =>
        this.db.send(
          new PutCommand({ TableName: this.tableName, Item: { ...key, operation_id: operation.id } }),
        ),
      ),
    );
    try {
      return await this.putNew(operation.id, operation);
    } catch (error) {
      // Only a refused put is known not to have landed; after any other failure the index items must stay.
      if (error instanceof VersionConflictError) {
        await Promise.all(indexKeys.map((key) => this.deleteIndexItem(key)));
      }
      throw error;
    }
  }

  async listByNode(nodeUuid: string, query: OperationListQuery): Promise<OperationPage> {
    let after: string | undefined;
    if (query.marker !== undefined) {
      const marker = await this.get(query.marker);
      if (marker?.node_uuid !== nodeUuid) {
        throw new ValidationError(`query.marker: no operation ${query.marker} of node ${nodeUuid}`);
      }
      after = orderOf(marker);
    }
    return this.listIndexed(nodeIndex(nodeUuid), { newestFirst: true, after, limit: query.limit });
  }

  async listActive(query: OperationListQuery): Promise<OperationPage> {
    let after: string | undefined;
    if (query.marker !== undefined) {
      // The marker may have ended since: paging goes on from where it stood.
      const marker = await this.get(query.marker);
      if (!marker) throw new ValidationError(`query.marker: no operation ${query.marker}`);
      after = orderOf(marker);
    }
    return this.listIndexed(ACTIVE_INDEX, {
      newestFirst: false,
      after,
      limit: query.limit,
      activeOnly: true,
    });
  }

  async update(id: string, guard: OperationUpdateGuard, changes: OperationTransition): Promise<Operation> {
    const written = await this.putVersion(id, guard.version, changes, atVersion(guard.version), {
      refused: async (error) =>
        (await this.get(id)) ? this.conflict(id) : new OperationNotFoundError(id, { cause: error }),
    });
    // An operation that ended leaves the in-flight listing; if this delete is lost, the listing skips and
    // deletes the item itself.
    if (!isActiveState(written.state)) await this.deleteIndexItem(indexKey(ACTIVE_INDEX, orderOf(written)));
    return written;
  }

  /**
   * One page of the operations an index partition names, in its order. An index item counts only when its
   * operation exists with the same `created_at` (and, for the in-flight index, is still in flight); the others
   * are skipped, and deleted when they can no longer become true.
   */
  private async listIndexed(
    index: IndexPartition,
    options: { newestFirst: boolean; after?: string | undefined; limit: number; activeOnly?: boolean },
  ): Promise<OperationPage> {
    const names = { "#pk": TABLE.partitionKey, "#sk": TABLE.sortKey };
    const keyCondition = index.prefix ? "#pk = :pk AND begins_with(#sk, :prefix)" : "#pk = :pk";
    const values = index.prefix ? { ":pk": index.pk, ":prefix": index.prefix } : { ":pk": index.pk };
    let startKey: Record<string, unknown> | undefined =
      options.after !== undefined ? indexKey(index, options.after) : undefined;
    // Fetch one more than asked for, to know whether a next page exists.
    const items: Operation[] = [];
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: keyCondition,
          ExpressionAttributeNames: index.prefix ? names : { "#pk": names["#pk"] },
          ExpressionAttributeValues: values,
          ScanIndexForward: !options.newestFirst,
          ConsistentRead: true,
          Limit: options.limit + 1 - items.length,
          ExclusiveStartKey: startKey,
        }),
      );
      const entries = (page.Items ?? []).map((item) => ({
        key: { [TABLE.partitionKey]: item[TABLE.partitionKey], [TABLE.sortKey]: item[TABLE.sortKey] },
        order: String(item[TABLE.sortKey]).slice(index.prefix.length),
        id: String(item.operation_id),
      }));
      const operations = await this.getMany(entries.map((entry) => entry.id));
      for (const entry of entries) {
        const operation = operations.get(entry.id);
        if (!operation) {
          if (this.isPastGrace(entry.order)) await this.deleteIndexItem(entry.key);
        } else if (orderOf(operation) !== entry.order) {
          // Left by a create refused for an id already taken: it can never match.
          await this.deleteIndexItem(entry.key);
        } else if (options.activeOnly && !isActiveState(operation.state)) {
          await this.deleteIndexItem(entry.key);
        } else {
          items.push(operation);
        }
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey && items.length <= options.limit);

    const pageItems = items.slice(0, options.limit);
    const last = pageItems.at(-1);
    return items.length > options.limit && last ? { items: pageItems, next: last.id } : { items: pageItems };
  }

  private isPastGrace(order: string): boolean {
    const createdAt = Date.parse(order.slice(0, order.indexOf("#")));
    return Number.isFinite(createdAt) && this.now().getTime() - createdAt > ORPHAN_GRACE_MS;
  }

  /** Best effort: a stale index item is skipped by every listing until one deletes it. */
  private async deleteIndexItem(key: Record<string, unknown>): Promise<void> {
    try {
      await this.db.send(new DeleteCommand({ TableName: this.tableName, Key: key }));
    } catch (error) {
      logger.warn("could not delete an operation index item", { key, error: (error as Error).message });
    }
  }

  /** The operations of `ids` that exist, by id. */
  private async getMany(ids: string[]): Promise<Map<string, Operation>> {
    const found = new Map<string, Operation>();
    const unique = [...new Set(ids)];
    for (let i = 0; i < unique.length; i += 100) {
      let keys = unique.slice(i, i + 100).map((id) => this.key(id));
      // BatchGet may hand some keys back under load; ask again for those.
      for (let attempt = 0; keys.length > 0 && attempt < 5; attempt++) {
        const result = await this.db.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const item of result.Responses?.[this.tableName] ?? []) {
          const operation = this.fromItem(item);
          found.set(operation.id, operation);
        }
        keys = (result.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as typeof keys;
      }
    }
    return found;
  }
}
