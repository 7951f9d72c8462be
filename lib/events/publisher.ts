import { logger } from "../log.ts";
import { EVENT_SOURCE, isValidEvent, type ValenceEvent } from "./schemas.ts";

/**
 * Where Valence's events go: EventBridge on AWS, a JSON-lines file in the local stack, nowhere otherwise.
 *
 * Events are notifications about work already done, never part of it: `publish` does not throw, and an event
 * that cannot be delivered is logged and dropped (at most once). Consumers that need the full truth read the
 * API (a node, its history).
 */
export interface EventPublisher {
  publish(events: readonly ValenceEvent[]): Promise<void>;
}

/** Publishes nothing: the default when no event bus or file is configured. */
export class NoopEventPublisher implements EventPublisher {
  async publish(_events: readonly ValenceEvent[]): Promise<void> {}
}

/** One entry as EventBridge's PutEvents takes it (and as the file sink writes it, in EventBridge's own shape). */
export interface EventEntry {
  Source: string;
  DetailType: string;
  Detail: string;
  Time: Date;
}

/** The event as an entry; `time` is when it happened (its detail's `at`). */
export function toEntry(event: ValenceEvent): EventEntry {
  return {
    Source: EVENT_SOURCE,
    DetailType: event.detailType,
    Detail: JSON.stringify(event.detail),
    Time: new Date(event.detail.at),
  };
}

/** The events that match their schema; the others are logged (by detail-type only) and left out. */
export function validEvents(events: readonly ValenceEvent[]): ValenceEvent[] {
  const valid: ValenceEvent[] = [];
  for (const event of events) {
    if (isValidEvent(event)) valid.push(event);
    else
      logger.error("event not published: its detail does not match its schema", {
        detail_type: event.detailType,
      });
  }
  return valid;
}

/**
 * Publishes without ever failing the caller: for services, whose business is done when they publish. Adapters
 * already swallow their failures; this also covers a publisher that breaks that promise.
 */
export async function publishQuietly(
  publisher: EventPublisher | undefined,
  events: readonly ValenceEvent[],
): Promise<void> {
  if (!publisher || events.length === 0) return;
  try {
    await publisher.publish(events);
  } catch (error) {
    logger.error("events not published", {
      detail_types: events.map((event) => event.detailType),
      error: (error as Error).message,
    });
  }
}
