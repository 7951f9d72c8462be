import { route } from "../lib/api/routes/list-node-operations.ts";
import { nextPageLink } from "../lib/http/pagination.ts";
import { httpRoute, json } from "../lib/http/route.ts";
import { toOperationView } from "../lib/operations/model.ts";
import { operationService } from "../lib/runtime/operations.ts";

export const handler = httpRoute(route, async ({ params, query, baseUrl, path }) => {
  const page = await operationService().listForNode(params.id, query);
  const link = page.next ? nextPageLink(baseUrl, path, query, page.next) : undefined;
  return json(200, page.items.map(toOperationView), link ? { link } : undefined);
});
