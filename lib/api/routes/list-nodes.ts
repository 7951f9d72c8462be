import { ListNodesQuery, MAX_PAGE_SIZE } from "../../nodes/schemas.ts";
import { NodeList } from "../responses.ts";
import { defineRoute, type RouteReference } from "../route-definition.ts";

export const route = defineRoute({
  method: "GET",
  path: "/v1/nodes",
  summary: "List nodes",
  table: "read",
  query: ListNodesQuery,
});

export function reference(): RouteReference {
  return {
    tag: "nodes",
    description:
      "Nodes in name order, filtered and paginated. When more remain, the `Link` header holds the next page's URL.",
    fields: {
      managed_by: "Only nodes managed by `valence` (composed, not registered) or `ironic` (registered).",
      podm_id: "Only nodes of this pod manager.",
      name: "Only the node with this name.",
      limit: `Page size, 1–${MAX_PAGE_SIZE}.`,
      marker: "The uuid of the last node of the previous page.",
    },
    responses: {
      200: {
        description: "One page of nodes.",
        schema: NodeList,
        headers: { Link: 'RFC 8288 link to the next page, `<url>; rel="next"`, when more nodes remain.' },
      },
    },
    errors: {},
    example: { query: { managed_by: "valence", limit: "50" } },
  };
}
