import type { PutEvents } from "../events/eventbridge.ts";
import { once } from "./store.ts";

/**
 * EventBridge's PutEvents for the configured region, through `@aws-sdk/client-eventbridge`.
 *
 * Until that package is a dependency, this stand-in refuses every call: the publisher logs each refused event
 * ("event not published to EventBridge") and the work that published it goes on. With the package installed,
 * `eventbridge-client.ts.pending` (next to this file) replaces this one.
 */
export const eventBridgePutEventsFor = /* @__PURE__ */ once(
  (_settings): PutEvents =>
    async () => {
      throw new Error("the EventBridge client (@aws-sdk/client-eventbridge) is not part of this build");
    },
);
