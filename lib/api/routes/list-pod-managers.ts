import { NoQuery } from "../common.ts";
import { PodManagerList } from "../responses.ts";
import { defineRoute, type RouteReference } from "../route-definition.ts";

export const route = defineRoute({
  method: "GET",
  path: "/v1/pod_managers",
  summary: "List pod managers",
  table: "read",
  query: NoQuery,
});

export function reference(): RouteReference {
  return {
    tag: "pod managers",
    description: "Every pod manager, passwords masked. Takes no query parameters.",
    responses: { 200: { description: "All pod managers.", schema: PodManagerList } },
    errors: {},
    example: {},
  };
}
