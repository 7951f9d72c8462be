import { config } from "../config.ts";
import { NodeIronicView } from "../nodes/ironic-view.ts";
import { ironicDriverFor } from "./ironic.ts";
import { nodeServiceFor, once } from "./store.ts";

/** A node with Ironic's live state: what `GET /v1/nodes/{id}?refresh=true` needs, and nothing of registering. */
export const nodeIronicViewFor = /* @__PURE__ */ once(
  (settings) =>
    new NodeIronicView({ finder: nodeServiceFor(settings), ironic: () => ironicDriverFor(settings) }),
);

export const nodeIronicView = () => nodeIronicViewFor(config());
