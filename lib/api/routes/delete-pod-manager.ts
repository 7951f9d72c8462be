import { UuidParams } from "../common.ts";
import { EXAMPLE_PODM, NOT_FOUND_PODM, PODM_ID } from "../reference-text.ts";
import { defineRoute, type RouteReference } from "../route-definition.ts";

export const route = defineRoute({
  method: "DELETE",
  path: "/v1/pod_managers/{id}",
  summary: "Remove a pod manager",
  table: "write",
  writesSecrets: true,
  params: UuidParams,
});

export function reference(): RouteReference {
  return {
    tag: "pod managers",
    description: "Forgets a pod manager and deletes its secret. Refused while nodes of it are still known.",
    fields: PODM_ID,
    responses: { 204: { description: "Deleted." } },
    errors: { 404: NOT_FOUND_PODM, 409: "The pod manager still has nodes: delete or unregister them first." },
    example: { params: { id: EXAMPLE_PODM } },
  };
}
