import { OperationListQuery } from "../../operations/schemas.ts";
import { UuidParams } from "../common.ts";
import { EXAMPLE_PODM, NOT_FOUND_PODM, operationListReference, PODM_ID } from "../reference-text.ts";
import { defineRoute, type RouteReference } from "../route-definition.ts";

export const route = defineRoute({
  method: "GET",
  path: "/v1/pod_managers/{id}/operations",
  summary: "A pod manager's operations (its resyncs), newest first",
  table: "read",
  params: UuidParams,
  query: OperationListQuery,
});

export function reference(): RouteReference {
  return operationListReference({
    description:
      "The pod manager's operations (each `resync` of its credentials or address into its Ironic nodes)",
    id: PODM_ID,
    notFound: NOT_FOUND_PODM,
    example: { params: { id: EXAMPLE_PODM }, query: { limit: "20" } },
  });
}
