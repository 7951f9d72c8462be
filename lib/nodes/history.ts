import { randomBytes } from "node:crypto";
import {
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
} from "@aws-sdk/lib-dynamodb";
import { TABLE } from "../db/table.ts";
import { logger } from "../log.ts";
import type { HistoryAction } from "./history-actions.ts";

export { HISTORY_ACTIONS, type HistoryAction } from "./history-actions.ts";

/** One entry of a node's audit trail. */
export interface HistoryEvent {
  /** Sortable: the time, then a random suffix. Used as the pagination marker. */
  id: string;
  node_uuid: string;
  at: string;
  /** The caller's IAM principal, or `reconciler`. */
  actor: string;
  action: HistoryAction;
  request_id: string;
  outcome: "succeeded" | "failed";
  detail?: string;
  ironic_node_uuid?: string | null;
}

export type NewHistoryEvent = Omit<HistoryEvent, "id" | "at" | "node_uuid">;

export interface HistoryPage {
  items: HistoryEvent[];
  next?: string;
}

/** A node's audit trail. */
export interface NodeHistory {
  /**
   * Best effort: an audit write never fails the operation it records. Resolves to the event's id once written,
   * `undefined` when it could not be.
   */
  append(nodeUuid: string, event: NewHistoryEvent): Promise<string | undefined>;
  /** Takes back an event written ahead of the write it records, when that write did not land. Best effort. */
  remove(nodeUuid: string, id: string): Promise<void>;
  /** Newest first. */
  list(nodeUuid: string, options: { limit: number; marker?: string | undefined }): Promise<HistoryPage>;
  deleteAll(nodeUuid: string): Promise<void>;
}

const EVENT_PREFIX = "EVENT#";
const nodePk = (uuid: string) => `NODE#${uuid}`;

/**
 * History items live next to the node item (same partition key, sort key `EVENT#<id>`), so a node's events are
 * one Query away. Bounded: after an append, events beyond the newest `keep` are deleted.
 */
export class DynamoNodeHistory implements NodeHistory {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly keep = 100,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async append(nodeUuid: string, event: NewHistoryEvent): Promise<string | undefined> {
    const at = this.now().toISOString();
    const id = `${at}#${randomBytes(4).toString("hex")}`;
    const item: HistoryEvent = { id, node_uuid: nodeUuid, at, ...event };
    try {
      // The put and the trim go at once: the trim leaves room for the event being put (the newest `keep` − 1 of
      // the others stay), so the trail is bounded whether or not its query sees the new event.
      await Promise.all([
        this.db.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              [TABLE.partitionKey]: nodePk(nodeUuid),
              [TABLE.sortKey]: `${EVENT_PREFIX}${id}`,
              ...item,
            },
          }),
        ),
        this.trim(nodeUuid, `${EVENT_PREFIX}${id}`),
      ]);
      return id;
    } catch (error) {
      logger.error("could not record a history event", {
        node_uuid: nodeUuid,
        action: event.action,
        error: (error as Error).message,
      });
      return undefined;
    }
  }

  async remove(nodeUuid: string, id: string): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { [TABLE.partitionKey]: nodePk(nodeUuid), [TABLE.sortKey]: `${EVENT_PREFIX}${id}` },
        }),
      );
    } catch (error) {
      logger.error("could not take back a history event", {
        node_uuid: nodeUuid,
        id,
        error: (error as Error).message,
      });
    }
  }

  async list(
    nodeUuid: string,
    options: { limit: number; marker?: string | undefined },
  ): Promise<HistoryPage> {
    const result = await this.db.send(
      new QueryCommand({
        ...this.eventsOf(nodeUuid),
        ScanIndexForward: false,
        Limit: options.limit + 1,
        ...(options.marker
          ? {
              ExclusiveStartKey: {
                [TABLE.partitionKey]: nodePk(nodeUuid),
                [TABLE.sortKey]: `${EVENT_PREFIX}${options.marker}`,
              },
            }
          : {}),
      }),
    );
    const events = (result.Items ?? []).map((item) => {
      const { pk: _pk, sk: _sk, ...event } = item;
      return event as HistoryEvent;
    });
    const page = events.slice(0, options.limit);
    const last = page.at(-1);
    return events.length > options.limit && last ? { items: page, next: last.id } : { items: page };
  }

  /** The query of a node's history items (its partition, the event prefix). */
  private eventsOf(nodeUuid: string) {
    return {
      TableName: this.tableName,
      KeyConditionExpression: "#pk = :pk AND begins_with(#sk, :prefix)",
      ExpressionAttributeNames: { "#pk": TABLE.partitionKey, "#sk": TABLE.sortKey },
      ExpressionAttributeValues: { ":pk": nodePk(nodeUuid), ":prefix": EVENT_PREFIX },
    };
  }

  async deleteAll(nodeUuid: string): Promise<void> {
    await this.deleteKeys(await this.keys(nodeUuid));
  }

  private async keys(nodeUuid: string): Promise<Array<Record<string, unknown>>> {
    const keys: Array<Record<string, unknown>> = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          ...this.eventsOf(nodeUuid),
          ProjectionExpression: "#pk, #sk",
          ScanIndexForward: true,
          ExclusiveStartKey: startKey,
        }),
      );
      keys.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return keys;
  }

  /** Oldest first, so everything before the newest `keep` − 1 other than `adding` goes. */
  private async trim(nodeUuid: string, adding: string): Promise<void> {
    const keys = (await this.keys(nodeUuid)).filter((key) => key[TABLE.sortKey] !== adding);
    const room = this.keep - 1;
    if (keys.length > room) await this.deleteKeys(keys.slice(0, keys.length - room));
  }

  private async deleteKeys(keys: Array<Record<string, unknown>>): Promise<void> {
    for (let i = 0; i < keys.length; i += 25) {
      let requests = keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } }));
      // BatchWrite may hand some back under load; retry those.
      for (let attempt = 0; requests.length > 0 && attempt < 5; attempt++) {
        const result = await this.db.send(
          new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }),
        );
        requests = (result.UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
      }
    }
  }
}
