import { HistoryQuery, MAX_PAGE_SIZE } from "../../nodes/schemas.ts";
import { NodeIdParams } from "../common.ts";
import { NODE_ID, NOT_FOUND_NODE } from "../reference-text.ts";
import { HistoryEventList } from "../responses.ts";
import { defineRoute, type RouteReference } from "../route-definition.ts";

export const route = defineRoute({
  method: "GET",
  path: "/v1/nodes/{id}/history",
  summary: "A node's history: registers, unregisters and what the reconciler settled, newest first",
  table: "read",
  params: NodeIdParams,
  query: HistoryQuery,
});

export function reference(): RouteReference {
  return {
    tag: "nodes",
    description:
      "The node's audit trail, newest first: registers and unregisters (who, which request, the outcome) and " +
      "what the reconciler settled. When more remain, the `Link` header holds the next page's URL.",
    fields: {
      ...NODE_ID,
      limit: `Page size, 1–${MAX_PAGE_SIZE}.`,
      marker: "The `id` of the last event of the previous page.",
    },
    responses: {
      200: {
        description: "One page of events.",
        schema: HistoryEventList,
        headers: { Link: 'RFC 8288 link to the next page, `<url>; rel="next"`, when more events remain.' },
      },
    },
    errors: { 404: NOT_FOUND_NODE },
    example: { params: { id: "test-node" }, query: { limit: "20" } },
  };
}
