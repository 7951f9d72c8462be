import { randomBytes } from "node:crypto";
import {
  BatchWriteCommand,
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
  /** Best effort: an audit write never fails the operation it records. */
  append(nodeUuid: string, event: NewHistoryEvent): Promise<void>;
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

  async append(nodeUuid: string, event: NewHistoryEvent): Promise<void> {
    const at = this.now().toISOString();
    const id = `${at}#${randomBytes(4).toString("hex")}`;
    const item: HistoryEvent = { id, node_uuid: nodeUuid, at, ...event };
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { [TABLE.partitionKey]: nodePk(nodeUuid), [TABLE.sortKey]: `${EVENT_PREFIX}${id}`, ...item },
        }),
      );
      await this.trim(nodeUuid);
    } catch (error) {
      logger.error("could not record a history event", {
        node_uuid: nodeUuid,
        action: event.action,
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

  /** Oldest first, so everything before the newest `keep` goes. */
  private async trim(nodeUuid: string): Promise<void> {
    const keys = await this.keys(nodeUuid);
    if (keys.length > this.keep) await this.deleteKeys(keys.slice(0, keys.length - this.keep));
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
