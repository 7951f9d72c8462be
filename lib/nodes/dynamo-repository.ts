import { isDeepStrictEqual } from "node:util";
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { isConditionalCheckFailed } from "../db/client.ts";
import { versionedSet } from "../db/expressions.ts";
import { TABLE } from "../db/table.ts";
import { UniqueClaims } from "../db/unique.ts";
import {
  NodeAlreadyManagedError,
  NodeNameConflictError,
  ValidationError,
  VersionConflictError,
} from "../errors.ts";
import { logger } from "../log.ts";
import type { NewNode, Node } from "./model.ts";
import type { NodeListQuery, NodePage, NodeRepository, UpdateGuard } from "./repository.ts";
import type { Transition } from "./transitions.ts";

const KIND = "node";
const SK = "NODE";
const NAME_SCOPE = "node-name";
/** One node per composed system: `<podm_id>/<index>`. */
const SYSTEM_SCOPE = "node-system";
const systemOf = (node: Pick<Node, "podm_id" | "index">) => `${node.podm_id}/${node.index}`;

const nodeKey = (uuid: string) => ({ [TABLE.partitionKey]: `NODE#${uuid}`, [TABLE.sortKey]: SK });

function toNode(item: Record<string, unknown>): Node {
  const { pk: _pk, sk: _sk, kind: _kind, ...node } = item;
  return node as unknown as Node;
}

function guardExpression(guard: UpdateGuard, names: Record<string, string>, values: Record<string, unknown>) {
  const conditions = ["attribute_exists(#pk)", "#version = :expectedVersion"];
  names["#pk"] = TABLE.partitionKey;
  names["#version"] = "version";
  values[":expectedVersion"] = guard.version;
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
  return conditions.join(" AND ");
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
export class DynamoNodeRepository implements NodeRepository {
  private readonly claims: UniqueClaims;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.claims = new UniqueClaims(db, tableName);
  }

  async create(input: NewNode): Promise<Node> {
    const exists = async (uuid: string) => Boolean(await this.get(uuid));
    const owner = await this.claims.claim(NAME_SCOPE, input.name, input.uuid, exists);
    if (owner !== input.uuid) throw new NodeNameConflictError(input.name);
    const systemOwner = await this.claims.claim(SYSTEM_SCOPE, systemOf(input), input.uuid, exists);
    if (systemOwner !== input.uuid) {
      await this.claims.release(NAME_SCOPE, input.name, input.uuid);
      throw new NodeAlreadyManagedError(input.podm_id, input.index, systemOwner);
    }
    const timestamp = this.now().toISOString();
    const node: Node = {
      ...input,
      intent: null,
      registered_at: null,
      created_at: timestamp,
      updated_at: timestamp,
      version: 1,
    };
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...nodeKey(node.uuid), kind: KIND, ...node },
          ConditionExpression: "attribute_not_exists(#pk)",
          ExpressionAttributeNames: { "#pk": TABLE.partitionKey },
        }),
      );
    } catch (error) {
      await this.claims.release(NAME_SCOPE, input.name, input.uuid);
      await this.claims.release(SYSTEM_SCOPE, systemOf(input), input.uuid);
      if (isConditionalCheckFailed(error)) throw new VersionConflictError(`node ${input.uuid}`);
      throw error;
    }
    return node;
  }

  async get(uuid: string): Promise<Node | undefined> {
    const result = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: nodeKey(uuid), ConsistentRead: true }),
    );
    return result.Item ? toNode(result.Item) : undefined;
  }

  async findByName(name: string): Promise<Node | undefined> {
    const owner = await this.claims.owner(NAME_SCOPE, name);
    if (!owner) return undefined;
    const node = await this.get(owner);
    // A stale claim (its writer died before the record) names nobody.
    return node?.name === name ? node : undefined;
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
      startKey = { ...nodeKey(marker.uuid), [index.partitionKey]: indexValue, [index.sortKey]: marker.name };
    }

    // Fetch one more than asked for, to know whether a next page exists.
    const items: Node[] = [];
    do {
      const page = await this.db.send(
        new QueryCommand({ ...input, Limit: query.limit + 1 - items.length, ExclusiveStartKey: startKey }),
      );
      for (const item of page.Items ?? []) items.push(toNode(item));
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

  private async write(uuid: string, guard: UpdateGuard, changes: Transition): Promise<Node> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const condition = guardExpression(guard, names, values);
    const update = versionedSet(changes, guard.version + 1, this.now().toISOString(), names, values);
    try {
      const result = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: nodeKey(uuid),
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: "ALL_NEW",
        }),
      );
      return toNode(result.Attributes ?? {});
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new VersionConflictError(`node ${uuid}`);
      throw error;
    }
  }

  async delete(uuid: string, guard: UpdateGuard): Promise<void> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const condition = guardExpression(guard, names, values);
    let deleted: Record<string, unknown> | undefined;
    try {
      const result = await this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: nodeKey(uuid),
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: "ALL_OLD",
        }),
      );
      deleted = result.Attributes;
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new VersionConflictError(`node ${uuid}`);
      throw error;
    }
    if (!deleted) return;
    const gone = toNode(deleted);
    await this.claims.release(NAME_SCOPE, gone.name, uuid);
    await this.claims.release(SYSTEM_SCOPE, systemOf(gone), uuid);
  }

  async countByPodManager(podmId: string): Promise<number> {
    let count = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: TABLE.indexes.byPodManager.name,
          KeyConditionExpression: "#ipk = :ipk",
          ExpressionAttributeNames: { "#ipk": TABLE.indexes.byPodManager.partitionKey },
          ExpressionAttributeValues: { ":ipk": podmId },
          Select: "COUNT",
          ExclusiveStartKey: startKey,
        }),
      );
      count += page.Count ?? 0;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return count;
  }
}
