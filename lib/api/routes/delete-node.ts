import { NodeIdParams } from "../common.ts";
import { NODE_ID, NOT_FOUND_NODE, PODM_UPSTREAM } from "../reference-text.ts";
import { defineRoute, type RouteReference } from "../route-definition.ts";

export const route = defineRoute({
  method: "DELETE",
  path: "/v1/nodes/{id}",
  summary: "Decompose a node and forget it",
  table: "write",
  readsSecrets: true,
  params: NodeIdParams,
});

export function reference(): RouteReference {
  return {
    tag: "nodes",
    description:
      "Decomposes the node's system on its pod manager and forgets the node. Refused while Ironic manages it.",
    fields: NODE_ID,
    responses: { 204: { description: "Decomposed and deleted." } },
    errors: {
      404: `${NOT_FOUND_NODE} Or its pod manager no longer has the system.`,
      409: "Ironic manages the node (unregister it first), or it is busy.",
      502: PODM_UPSTREAM,
    },
    example: { params: { id: "node-1" } },
  };
}
