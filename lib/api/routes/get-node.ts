import { GetNodeQuery } from "../../nodes/schemas.ts";
import { NodeIdParams } from "../common.ts";
import { NODE_ID, NOT_FOUND_NODE } from "../reference-text.ts";
import { ShownNodeView } from "../responses.ts";
import { defineRoute, type RouteReference } from "../route-definition.ts";

export const route = defineRoute({
  method: "GET",
  path: "/v1/nodes/{id}",
  summary: "Show a node (uuid or name); ?refresh=true adds Ironic's live state",
  table: "read",
  ironic: true,
  params: NodeIdParams,
  query: GetNodeQuery,
});

export function reference(): RouteReference {
  return {
    tag: "nodes",
    description:
      "One node. With `refresh=true`, a registered node also has Ironic's live state, read from Ironic, nested " +
      "under `ironic` (`null` when Ironic no longer has the node).",
    fields: { ...NODE_ID, refresh: "`true`: also read the node's state from Ironic." },
    responses: { 200: { description: "The node.", schema: ShownNodeView } },
    errors: {
      404: NOT_FOUND_NODE,
      502: "Ironic failed while reading the live state.",
      503: "Ironic could not be reached.",
    },
    example: { params: { id: "test-node" }, query: { refresh: "true" } },
  };
}
