import { V1DocumentSchema } from "../responses.ts";
import { answersOnly, defineRoute, type RouteReference } from "../route-definition.ts";

export const route = defineRoute({
  method: "GET",
  path: "/v1",
  summary: "The v1 API and its resources",
  table: "none",
});

export function reference(): RouteReference {
  return answersOnly("versions", "The v1 API: its version range, media types and links to its resources.", {
    description: "The v1 document.",
    schema: V1DocumentSchema,
  });
}
