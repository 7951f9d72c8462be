import { ComposeNodeBody } from "../../nodes/schemas.ts";
import { EXAMPLE_PODM, PODM_UPSTREAM } from "../reference-text.ts";
import { NodeView } from "../responses.ts";
import { defineRoute, type RouteReference } from "../route-definition.ts";

export const route = defineRoute({
  method: "POST",
  path: "/v1/nodes",
  summary: "Compose a node on a pod manager",
  table: "write",
  readsSecrets: true,
  body: ComposeNodeBody,
});

export function reference(): RouteReference {
  return {
    tag: "nodes",
    description:
      "Asks the pod manager to compose a system and keeps it as a node managed by Valence. It needs " +
      "`resource_blocks`, or `properties` with `memory` or `processor`: without `resource_blocks`, the pod " +
      "manager picks blocks that meet `properties`.",
    fields: {
      name: "Node name, also the Ironic node name later: letters, digits and `-._~`, not uuid-like.",
      description: "Free text.",
      podm_id: "The pod manager to compose on.",
      properties: "Requirements the composed system must meet.",
      "properties.memory.capacity_mib": "Memory in MiB.",
      "properties.processor.total_cores": "CPU cores.",
      "properties.processor.model": "Processor model, as the pod manager names it.",
      resource_blocks: "Redfish paths of the resource blocks to compose from (a specific composition).",
    },
    responses: { 201: { description: "The composed node.", schema: NodeView } },
    errors: {
      404: "No pod manager has this `podm_id`.",
      409: "A node with this name exists, or the pod manager refused or cannot do this composition.",
      502: PODM_UPSTREAM,
    },
    example: {
      body: {
        name: "node-1",
        podm_id: EXAMPLE_PODM,
        properties: { memory: { capacity_mib: 32768 }, processor: { total_cores: 8 } },
      },
    },
  };
}
