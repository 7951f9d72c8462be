import { CompositionService } from "../nodes/composition-service.ts";
import { podManagerSessions } from "./pod-managers.ts";
import { nodeHistory, nodeRepository, nodeService, once } from "./store.ts";

/** Compose, manage, decompose and act on nodes through their pod manager. */
export const compositionService = /* @__PURE__ */ once(
  () => new CompositionService(nodeRepository(), nodeService(), podManagerSessions(), nodeHistory()),
);
