import { UnregisterNodeBody } from "../../nodes/schemas.ts";
import { NodeIdParams } from "../common.ts";
import { NODE_ID, NOT_FOUND_NODE, OPERATION_IN_PROGRESS, operationHeaders } from "../reference-text.ts";
import { NodeView, UnregisterAcceptedView } from "../responses.ts";
import { defineRoute, type RouteReference } from "../route-definition.ts";

export const route = defineRoute({
  method: "POST",
  path: "/v1/nodes/{id}/unregister",
  summary: "Remove a node from Ironic (202 and an operation while Ironic still moves it)",
  table: "write",
  ironic: true,
  publishesEvents: true,
  startsOperations: true,
  params: NodeIdParams,
  body: UnregisterNodeBody,
});

export function reference(): RouteReference {
  return {
    tag: "nodes",
    description:
      "Deletes the node (and its ports) from Ironic; the node goes back to `managed_by: valence`. An `active` " +
      "node or one with an instance is refused unless `force`. While Ironic still moves the node (`cleaning`, " +
      "`clean wait`, `inspecting`, `verifying`, ...) the answer is **202** with an operation (`unregister`: " +
      "steps `settle`, then `unregister`) that aborts a `clean wait` or `inspect wait` in Ironic, or else waits " +
      "for Ironic to finish, and then unregisters; follow it at `Location`.",
    fields: {
      ...NODE_ID,
      force: "Also unregister an `active` node or one with an instance: maintenance on, then delete.",
    },
    responses: {
      200: { description: "The node, no longer registered.", schema: NodeView },
      202: {
        description:
          "Ironic still moves the node: the node, still registered, and the operation (`pending`) that settles " +
          "it and unregisters.",
        schema: UnregisterAcceptedView,
        headers: operationHeaders(),
      },
    },
    errors: {
      404: NOT_FOUND_NODE,
      409: `The node is not registered, is busy, ${OPERATION_IN_PROGRESS}, or is in use in Ironic (retry with \`force\`).`,
      502: "Ironic failed.",
      503: "Ironic could not be reached.",
    },
    example: { params: { id: "test-node" }, body: { force: false } },
  };
}
