import { join } from "node:path";
import { config } from "../config.ts";
import { EventBridgePublisher } from "../events/eventbridge.ts";
import { JsonLinesFilePublisher } from "../events/file.ts";
import { type EventPublisher, NoopEventPublisher } from "../events/publisher.ts";
import { eventBridgePutEventsFor } from "./eventbridge-client.ts";
import { once } from "./store.ts";

/**
 * Where events go: the EventBridge bus `VALENCE_EVENT_BUS_NAME` names; in the local stack without one,
 * `<VALENCE_DATA_DIR>/events.jsonl`; otherwise nowhere.
 */
export const eventPublisherFor = /* @__PURE__ */ once((settings): EventPublisher => {
  if (settings.VALENCE_EVENT_BUS_NAME) {
    return new EventBridgePublisher({
      eventBusName: settings.VALENCE_EVENT_BUS_NAME,
      putEvents: eventBridgePutEventsFor(settings),
    });
  }
  if (settings.VALENCE_LOCAL)
    return new JsonLinesFilePublisher(join(settings.VALENCE_DATA_DIR, "events.jsonl"));
  return new NoopEventPublisher();
});

export const eventPublisher = () => eventPublisherFor(config());
