import { RootDocumentSchema } from "../responses.ts";
import { answersOnly, defineRoute, type RouteReference } from "../route-definition.ts";

export const route = defineRoute({
  method: "GET",
  path: "/",
  summary: "API versions",
  table: "none",
});

export function reference(): RouteReference {
  return answersOnly("versions", "The API versions this service offers, in Valence's shape.", {
    description: "The versions document.",
    schema: RootDocumentSchema,
  });
}
