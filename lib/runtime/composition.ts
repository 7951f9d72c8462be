import { config } from "../config.ts";
import { CompositionService } from "../nodes/composition-service.ts";
import { podManagerSessionsFor } from "./pod-managers.ts";
import { nodeHistoryFor, nodeRepositoryFor, nodeServiceFor, once } from "./store.ts";

/** Compose, manage, decompose and act on nodes through their pod manager. */
export const compositionServiceFor = /* @__PURE__ */ once(
  (settings) =>
    new CompositionService(
      nodeRepositoryFor(settings),
      nodeServiceFor(settings),
      podManagerSessionsFor(settings),
      nodeHistoryFor(settings),
    ),
);

export const compositionService = () => compositionServiceFor(config());
