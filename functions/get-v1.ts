import { route } from "../lib/api/routes/get-v1.ts";
import { v1Document } from "../lib/api/versions.ts";
import { httpRoute, json } from "../lib/http/route.ts";

export const handler = httpRoute(route, async ({ baseUrl }) => json(200, v1Document(baseUrl)));
