import document from "../docs/api-ref/openapi.json" with { type: "json" };
import { route } from "../lib/api/routes/get-openapi.ts";
import { httpRoute, json } from "../lib/http/route.ts";

/**
 * Serves the committed reference that `npm run docs` generates (a unit test fails when it is stale): nothing is
 * built at run time, so this bundle carries no schema conversion. `servers` names the host the caller used.
 */
export const handler = httpRoute(route, async ({ baseUrl }) =>
  json(200, { ...document, servers: [{ url: baseUrl }] }),
);
