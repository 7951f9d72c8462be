import { route } from "../lib/api/routes/get-node.ts";
import { httpRoute, json } from "../lib/http/route.ts";
import { toNodeView } from "../lib/nodes/model.ts";
import { nodeIronicView } from "../lib/runtime/ironic-view.ts";
import { nodeService } from "../lib/runtime/store.ts";

export const handler = httpRoute(route, async ({ params, query, ...context }) => {
  if (!query.refresh) return json(200, toNodeView(await nodeService().find(params.id)));
  const { node, ironic } = await nodeIronicView().show(params.id, context);
  return json(200, { ...toNodeView(node), ironic });
});
