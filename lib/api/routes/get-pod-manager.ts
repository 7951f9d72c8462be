import { UuidParams } from "../common.ts";
import { EXAMPLE_PODM, NOT_FOUND_PODM, PODM_ID } from "../reference-text.ts";
import { PodManagerView } from "../responses.ts";
import { defineRoute, type RouteReference } from "../route-definition.ts";

export const route = defineRoute({
  method: "GET",
  path: "/v1/pod_managers/{id}",
  summary: "Show a pod manager (and probe it)",
  table: "write",
  readsSecrets: true,
  params: UuidParams,
});

export function reference(): RouteReference {
  return {
    tag: "pod managers",
    description:
      "One pod manager. Valence probes it first, so `status` says whether it answers now (`online`/`offline`).",
    fields: PODM_ID,
    responses: { 200: { description: "The pod manager with its current status.", schema: PodManagerView } },
    errors: { 404: NOT_FOUND_PODM },
    example: { params: { id: EXAMPLE_PODM } },
  };
}
