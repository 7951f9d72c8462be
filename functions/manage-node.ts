import { route } from "../lib/api/routes/manage-node.ts";
import { httpRoute, json } from "../lib/http/route.ts";
import { toNodeView } from "../lib/nodes/model.ts";
import { compositionService } from "../lib/runtime/composition.ts";

export const handler = httpRoute(route, async ({ body, requestId }) =>
  json(201, toNodeView(await compositionService().manage(body, requestId))),
);
