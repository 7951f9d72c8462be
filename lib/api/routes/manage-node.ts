import { ManageNodeBody } from "../../nodes/schemas.ts";
import { EXAMPLE_PODM, PODM_UPSTREAM } from "../reference-text.ts";
import { NodeView } from "../responses.ts";
import { defineRoute, type RouteReference } from "../route-definition.ts";

export const route = defineRoute({
  method: "POST",
  path: "/v1/nodes/manage",
  summary: "Manage an already composed system",
  table: "write",
  readsSecrets: true,
  body: ManageNodeBody,
});

export function reference(): RouteReference {
  return {
    tag: "nodes",
    description:
      "Brings a system the pod manager composed already (outside Valence) under management as a node.",
    fields: {
      podm_id: "The pod manager of the system.",
      node_index: "The system's id at the pod manager (Redfish `Id`).",
      name: "Node name; default: the system's id (`node_index`).",
    },
    responses: { 201: { description: "The managed node.", schema: NodeView } },
    errors: {
      404: "No pod manager has this `podm_id`, or it has no such system.",
      409: "The system is managed already, or a node with this name exists.",
      502: PODM_UPSTREAM,
    },
    example: { body: { podm_id: EXAMPLE_PODM, node_index: "1", name: "node-2" } },
  };
}
