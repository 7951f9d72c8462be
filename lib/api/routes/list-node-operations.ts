import { MAX_PAGE_SIZE } from "../../nodes/schemas.ts";
import { OperationListQuery } from "../../operations/schemas.ts";
import { NodeIdParams } from "../common.ts";
import { NODE_ID, NOT_FOUND_NODE } from "../reference-text.ts";
import { OperationList } from "../responses.ts";
import { defineRoute, type RouteReference } from "../route-definition.ts";

export const route = defineRoute({
  method: "GET",
  path: "/v1/nodes/{id}/operations",
  summary: "A node's operations, newest first",
  table: "read",
  params: NodeIdParams,
  query: OperationListQuery,
});

export function reference(): RouteReference {
  return {
    tag: "operations",
    description:
      "The node's operations, newest first, those that ended included. When more remain, the `Link` header " +
      "holds the next page's URL.",
    fields: {
      ...NODE_ID,
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
    errors: { 404: NOT_FOUND_NODE },
    example: { params: { id: "test-node" }, query: { limit: "20" } },
  };
}
