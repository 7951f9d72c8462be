import { v1Document } from "../lib/api/versions.ts";
import { httpRoute, json } from "../lib/http/route.ts";

export const handler = httpRoute({}, async ({ baseUrl }) => json(200, v1Document(baseUrl)));
