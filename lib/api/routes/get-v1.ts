import { V1DocumentSchema } from "../responses.ts";
import { defineRoute, type RouteReference } from "../route-definition.ts";

export const route = defineRoute({
  method: "GET",
  path: "/v1",
  summary: "The v1 API and its resources",
  table: "none",
});

export function reference(): RouteReference {
  return {
    tag: "versions",
    description: "The v1 API: its version range, media types and links to its resources.",
    responses: { 200: { description: "The v1 document.", schema: V1DocumentSchema } },
    errors: {},
    example: {},
  };
}
