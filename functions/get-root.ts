import { route } from "../lib/api/routes/get-root.ts";
import { rootDocument } from "../lib/api/versions.ts";
import { httpRoute, json } from "../lib/http/route.ts";

export const handler = httpRoute(route, async ({ baseUrl }) => json(200, rootDocument(baseUrl)));
