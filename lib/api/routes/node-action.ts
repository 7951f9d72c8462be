import { NodeActionBody } from "../../nodes/schemas.ts";
import { NodeIdParams } from "../common.ts";
import { NODE_ID, NOT_FOUND_NODE, PODM_UPSTREAM } from "../reference-text.ts";
import { defineRoute, type RouteReference } from "../route-definition.ts";

export const route = defineRoute({
  method: "POST",
  path: "/v1/nodes/{id}/action",
  summary: "Reset or set the boot override of a node",
  table: "read",
  readsSecrets: true,
  params: NodeIdParams,
  body: NodeActionBody,
});

export function reference(): RouteReference {
  return {
    tag: "nodes",
    description:
      "Resets the node's system or sets its boot override, through the pod manager. Refused while Ironic manages " +
      "the node: Ironic owns its power and boot then.",
    fields: {
      ...NODE_ID,
      Reset: "A Redfish reset.",
      "Reset.Type": "The Redfish `ResetType`.",
      Boot: "A Redfish boot source override.",
      "Boot.Enabled": "`Once` (next boot only), `Continuous` or `Disabled`.",
      "Boot.Target": "The boot source.",
    },
    responses: { 204: { description: "The pod manager accepted the action." } },
    errors: {
      404: `${NOT_FOUND_NODE} Or its pod manager no longer has the system.`,
      409: "Ironic manages the node (unregister it first), or it is busy.",
      502: PODM_UPSTREAM,
    },
    example: { params: { id: "test-node" }, body: { Reset: { Type: "ForceRestart" } } },
  };
}
