import { OpenApiDocumentSchema } from "../responses.ts";
import { answersOnly, defineRoute, type RouteReference } from "../route-definition.ts";

export const route = defineRoute({
  method: "GET",
  path: "/v1/openapi.json",
  summary: "This API's reference as an OpenAPI 3.1 document",
  table: "none",
});

export function reference(): RouteReference {
  return answersOnly(
    "versions",
    "This reference as an OpenAPI 3.1 document, generated from the zod schemas the handlers validate with. " +
      "`servers` names the API's own origin.",
    { description: "The OpenAPI document.", schema: OpenApiDocumentSchema },
  );
}
