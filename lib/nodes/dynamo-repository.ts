import { isDeepStrictEqual } from "node:util";
import { type DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from "@aws-sdk/lib-dynamodb";
import { atVersion, type Condition, VersionedRecords } from "../db/records.ts";
import { TABLE } from "../db/table.ts";
import { NodeAlreadyManagedError, NodeNameConflictError, ValidationError } from "../errors.ts";
import { logger } from "../log.ts";
import type { NewNode, Node } from "./model.ts";
import type { NodeListQuery, NodePage, NodeRepository, UpdateGuard } from "./repository.ts";
import type { Transition } from "./transitions.ts";

const KIND = "node";
const NAME_SCOPE = "node-name";
/** One node per composed system: `<podm_id>/<index>`. */
const SYSTEM_SCOPE = "node-system";
const systemOf = (node: Pick<Node, "podm_id" | "index">) => `${node.podm_id}/${node.index}`;

/** The version the guard expects, and what else it insists on. */
function guardCondition(guard: UpdateGuard): Condition {
  const { expression, names, values } = atVersion(guard.version);
  const conditions = [expression];
  if (guard.managed_by) {
    conditions.push("#managedBy = :guardManagedBy");
    names["#managedBy"] = "managed_by";
    values[":guardManagedBy"] = guard.managed_by;
  }
  if (guard.noIntent) {
    conditions.push("(attribute_not_exists(#intent) OR #intent = :null)");
    names["#intent"] = "intent";
    values[":null"] = null;
  }
  return { expression: conditions.join(" AND "), names, values };
}

/** The record is exactly one write after `version`, and that write carried every one of `changes`. */
function wroteExactly(current: Node, version: number, changes: Transition): boolean {
  if (current.version !== version + 1) return false;
  const record = current as unknown as Record<string, unknown>;
  return Object.entries(changes).every(
    ([field, value]) => value === undefined || isDeepStrictEqual(record[field], value),
  );
}

/** Nodes in the single Valence table (see `lib/db/table.ts`). */
export class DynamoNodeRepository extends VersionedRecords<Node> implements NodeRepository {
  constructor(db: DynamoDBDocumentClient, tableName: string, now: () => Date = () => new Date()) {
    super(db, tableName, { prefix: "NODE", sortKey: "NODE", kind: KIND, label: "node" }, now);
  }

  async create(input: NewNode): Promise<Node> {
    const timestamp = this.now().toISOString();
    const node: Node = {
      ...input,
      intent: null,
      registered_at: null,
      created_at: timestamp,
      updated_at: timestamp,
      version: 1,
    };
    return this.putNew(node.uuid, node, [
      { scope: NAME_SCOPE, value: input.name, conflict: () => new NodeNameConflictError(input.name) },
      {
        scope: SYSTEM_SCOPE,
        value: systemOf(input),
        conflict: (owner) => new NodeAlreadyManagedError(input.podm_id, input.index, owner),
      },
    ]);
  }

  findByName(name: string): Promise<Node | undefined> {
    return this.findByClaim(NAME_SCOPE, name, (node) => node.name === name);
  }

  async list(query: NodeListQuery): Promise<NodePage> {
    if (query.name !== undefined) {
      const node = await this.findByName(query.name);
      const matches =
        node &&
        (query.managed_by === undefined || node.managed_by === query.managed_by) &&
        (query.podm_id === undefined || node.podm_id === query.podm_id) &&
        (query.marker === undefined || query.marker !== node.uuid);
      return { items: matches ? [node] : [] };
    }

    const index = query.managed_by
      ? TABLE.indexes.byManagedBy
      : query.podm_id
        ? TABLE.indexes.byPodManager
        : TABLE.indexes.byKind;
    const indexValue = query.managed_by ?? query.podm_id ?? KIND;
    const input: QueryCommandInput = {
      TableName: this.tableName,
      IndexName: index.name,
      KeyConditionExpression: "#ipk = :ipk",
      ExpressionAttributeNames: { "#ipk": index.partitionKey },
      ExpressionAttributeValues: { ":ipk": indexValue },
    };
    if (query.managed_by && query.podm_id) {
      input.FilterExpression = "#podm = :podm";
      input.ExpressionAttributeNames = { ...input.ExpressionAttributeNames, "#podm": "podm_id" };
      input.ExpressionAttributeValues = { ...input.ExpressionAttributeValues, ":podm": query.podm_id };
    }

    let startKey: Record<string, unknown> | undefined;
    if (query.marker !== undefined) {
      const marker = await this.get(query.marker);
      if (!marker) throw new ValidationError(`query.marker: no node ${query.marker}`);
      startKey = {
        ...this.key(marker.uuid),
        [index.partitionKey]: indexValue,
        [index.sortKey]: marker.name,
      };
    }

    // Fetch one more than asked for, to know whether a next page exists.
    const items: Node[] = [];
    do {
      const page = await this.db.send(
        new QueryCommand({ ...input, Limit: query.limit + 1 - items.length, ExclusiveStartKey: startKey }),
      );
      for (const item of page.Items ?? []) items.push(this.fromItem(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey && items.length <= query.limit);

    const pageItems = items.slice(0, query.limit);
    const last = pageItems.at(-1);
    return items.length > query.limit && last ? { items: pageItems, next: last.uuid } : { items: pageItems };
  }

  async update(uuid: string, guard: UpdateGuard, changes: Transition): Promise<Node> {
    try {
      return await this.write(uuid, guard, changes);
    } catch (error) {
      if (!guard.acceptLanded) throw error;
      const current = await this.get(uuid).catch(() => undefined);
      if (!current || !wroteExactly(current, guard.version, changes)) throw error;
      logger.warn("the write failed but had landed", { node_uuid: uuid, error: (error as Error).message });
      return current;
    }
  }

  private write(uuid: string, guard: UpdateGuard, changes: Transition): Promise<Node> {
    return this.putVersion(uuid, guard.version, changes, guardCondition(guard));
  }

  async delete(uuid: string, guard: UpdateGuard): Promise<void> {
    const gone = await this.deleteIf(uuid, guardCondition(guard));
    if (!gone) return;
    await this.releaseAll(uuid, [
      { scope: NAME_SCOPE, value: gone.name },
      { scope: SYSTEM_SCOPE, value: systemOf(gone) },
    ]);
  }

  async countByPodManager(podmId: string): Promise<number> {
    let count = 0;
    for await (const page of this.indexPages(TABLE.indexes.byPodManager, podmId, { count: true })) {
      count += page.Count ?? 0;
    }
    return count;
  }
}
