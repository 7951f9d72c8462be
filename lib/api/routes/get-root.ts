import { RootDocumentSchema } from "../responses.ts";
import { defineRoute, type RouteReference } from "../route-definition.ts";

export const route = defineRoute({
  method: "GET",
  path: "/",
  summary: "API versions",
  table: "none",
});

export function reference(): RouteReference {
  return {
    tag: "versions",
    description: "The API versions this service offers, in Valence's shape.",
    responses: { 200: { description: "The versions document.", schema: RootDocumentSchema } },
    errors: {},
    example: {},
  };
}
