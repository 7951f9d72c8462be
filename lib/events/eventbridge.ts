import { logger } from "../log.ts";
import { type EventEntry, type EventPublisher, toEntry, validEvents } from "./publisher.ts";
import type { ValenceEvent } from "./schemas.ts";

/** PutEvents' request and answer, as EventBridge's API names them (the fields Valence uses). */
export interface PutEventsInput {
  Entries: Array<EventEntry & { EventBusName: string }>;
}
export interface PutEventsOutput {
  FailedEntryCount?: number | undefined;
  /** One per request entry, in order: `EventId` when accepted, `ErrorCode`/`ErrorMessage` when not. */
  Entries?: Array<{
    EventId?: string | undefined;
    ErrorCode?: string | undefined;
    ErrorMessage?: string | undefined;
  }>;
}

/** PutEvents itself (`lib/runtime/eventbridge-client.ts`): the transport stays at the composition root. */
export type PutEvents = (input: PutEventsInput) => Promise<PutEventsOutput>;

/** PutEvents takes at most 10 entries per call. */
export const PUT_EVENTS_BATCH = 10;

export interface EventBridgePublisherOptions {
  /** The event bus's name or ARN (`default` is the account's default bus). */
  readonly eventBusName: string;
  readonly putEvents: PutEvents;
}

interface Failure {
  event: ValenceEvent;
  entry: PutEventsInput["Entries"][number];
  error: string;
}

/**
 * Publishes to an EventBridge bus: batches of at most 10 entries, entries EventBridge refused (or a call that
 * failed as a whole) retried once, and what still fails logged and dropped. Never throws: events follow work
 * that is already done, and must not turn its success into a failure.
 */
export class EventBridgePublisher implements EventPublisher {
  constructor(private readonly options: EventBridgePublisherOptions) {}

  async publish(events: readonly ValenceEvent[]): Promise<void> {
    try {
      const pending = validEvents(events).map((event) => ({
        event,
        entry: { ...toEntry(event), EventBusName: this.options.eventBusName },
      }));
      if (pending.length === 0) return;
      const failed = await this.send(pending);
      if (failed.length === 0) return;
      const stillFailed = await this.send(failed);
      for (const { event, error } of stillFailed) {
        logger.error("event not published to EventBridge", {
          event_bus: this.options.eventBusName,
          detail_type: event.detailType,
          request_id: event.detail.request_id,
          error,
        });
      }
    } catch (error) {
      logger.error("events not published to EventBridge", { error: (error as Error).message });
    }
  }

  /** Sends every entry, 10 per call, all calls at once; answers the entries that were not accepted. */
  private async send(pending: ReadonlyArray<Omit<Failure, "error">>): Promise<Failure[]> {
    const batches: Array<Array<Omit<Failure, "error">>> = [];
    for (let start = 0; start < pending.length; start += PUT_EVENTS_BATCH) {
      batches.push(pending.slice(start, start + PUT_EVENTS_BATCH));
    }
    const results = await Promise.all(batches.map((batch) => this.sendBatch(batch)));
    return results.flat();
  }

  private async sendBatch(batch: ReadonlyArray<Omit<Failure, "error">>): Promise<Failure[]> {
    let output: PutEventsOutput;
    try {
      output = await this.options.putEvents({ Entries: batch.map(({ entry }) => entry) });
    } catch (error) {
      const reason = `${(error as Error).name}: ${(error as Error).message}`;
      return batch.map((item) => ({ ...item, error: reason }));
    }
    if (!output.FailedEntryCount) return [];
    return batch.flatMap((item, index) => {
      const result = output.Entries?.[index];
      // An answer without per-entry results says only that some failed: all are sent again.
      if (result && !result.ErrorCode) return [];
      const error = result ? `${result.ErrorCode}: ${result.ErrorMessage ?? ""}` : "no result for the entry";
      return [{ ...item, error }];
    });
  }
}
