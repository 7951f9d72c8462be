import { route } from "../lib/api/routes/delete-node.ts";
import { httpRoute, noContent } from "../lib/http/route.ts";
import { compositionService } from "../lib/runtime/composition.ts";

export const handler = httpRoute(route, async ({ params, requestId }) => {
  await compositionService().decompose(params.id, requestId);
  return noContent();
});
