import { route } from "../lib/api/routes/get-node-history.ts";
import { nextPageLink } from "../lib/http/pagination.ts";
import { httpRoute, json } from "../lib/http/route.ts";
import { nodeHistory, nodeService } from "../lib/runtime/store.ts";

export const handler = httpRoute(route, async ({ params, query, baseUrl, path }) => {
  const node = await nodeService().find(params.id);
  const page = await nodeHistory().list(node.uuid, query);
  const link = page.next ? nextPageLink(baseUrl, path, query, page.next) : undefined;
  return json(200, page.items, link ? { link } : undefined);
});
