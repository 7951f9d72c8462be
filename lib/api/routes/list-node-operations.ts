import { OperationListQuery } from "../../operations/schemas.ts";
import { NodeIdParams } from "../common.ts";
import { NODE_ID, NOT_FOUND_NODE, operationListReference } from "../reference-text.ts";
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
  return operationListReference({
    description: "The node's operations",
    id: NODE_ID,
    notFound: NOT_FOUND_NODE,
    example: { params: { id: "test-node" }, query: { limit: "20" } },
  });
}
