import { route } from "../lib/api/routes/list-nodes.ts";
import { nextPageLink } from "../lib/http/pagination.ts";
import { httpRoute, json } from "../lib/http/route.ts";
import { toNodeView } from "../lib/nodes/model.ts";
import { nodeService } from "../lib/runtime/store.ts";

export const handler = httpRoute(route, async ({ query, baseUrl, path }) => {
  const page = await nodeService().list(query);
  const link = page.next ? nextPageLink(baseUrl, path, query, page.next) : undefined;
  return json(200, page.items.map(toNodeView), link ? { link } : undefined);
});
