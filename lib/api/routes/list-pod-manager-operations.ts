import { MAX_PAGE_SIZE } from "../../nodes/schemas.ts";
import { OperationListQuery } from "../../operations/schemas.ts";
import { UuidParams } from "../common.ts";
import { EXAMPLE_PODM, NOT_FOUND_PODM, PODM_ID } from "../reference-text.ts";
import { OperationList } from "../responses.ts";
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
  return {
    tag: "operations",
    description:
      "The pod manager's operations (each `resync` of its credentials or address into its Ironic nodes), newest " +
      "first, those that ended included. When more remain, the `Link` header holds the next page's URL.",
    fields: {
      ...PODM_ID,
      limit: `Page size, 1–${MAX_PAGE_SIZE}.`,
      marker: "The `id` of the last operation of the previous page.",
    },
    responses: {
      200: {
        description: "One page of operations.",
        schema: OperationList,
        headers: {
          Link: 'RFC 8288 link to the next page, `<url>; rel="next"`, when more operations remain.',
        },
      },
    },
    errors: { 404: NOT_FOUND_PODM },
    example: { params: { id: EXAMPLE_PODM }, query: { limit: "20" } },
  };
}
