import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import type { PutEvents } from "../events/eventbridge.ts";
import { once } from "./store.ts";

/** The EventBridge client, once per configuration (reused across warm invocations). */
export const eventBridgeClientFor = /* @__PURE__ */ once(
  (settings) => new EventBridgeClient({ region: settings.AWS_REGION }),
);

/** EventBridge's PutEvents for the configured region, as the publisher's port takes it. */
export const eventBridgePutEventsFor = /* @__PURE__ */ once((settings): PutEvents => {
  const client = eventBridgeClientFor(settings);
  return (input) => client.send(new PutEventsCommand(input));
});
