import { NoQuery } from "../common.ts";
import { PodManagerList } from "../responses.ts";
import { answersOnly, defineRoute, type RouteReference } from "../route-definition.ts";

export const route = defineRoute({
  method: "GET",
  path: "/v1/pod_managers",
  summary: "List pod managers",
  table: "read",
  query: NoQuery,
});

export function reference(): RouteReference {
  return answersOnly("pod managers", "Every pod manager, passwords masked. Takes no query parameters.", {
    description: "All pod managers.",
    schema: PodManagerList,
  });
}
