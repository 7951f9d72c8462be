import { NodeIdParams } from "../lib/api/common.ts";
import { nextPageLink } from "../lib/http/pagination.ts";
import { httpRoute, json } from "../lib/http/route.ts";
import { toOperationView } from "../lib/operations/model.ts";
import { OperationListQuery } from "../lib/operations/schemas.ts";
import { operationService } from "../lib/runtime/operations.ts";

export const handler = httpRoute(
  { params: NodeIdParams, query: OperationListQuery },
  async ({ params, query, baseUrl, path }) => {
    const page = await operationService().listForNode(params.id, query);
    const link = page.next ? nextPageLink(baseUrl, path, query, page.next) : undefined;
    return json(200, page.items.map(toOperationView), link ? { link } : undefined);
  },
);
