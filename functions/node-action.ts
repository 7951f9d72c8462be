import { route } from "../lib/api/routes/node-action.ts";
import { httpRoute, noContent } from "../lib/http/route.ts";
import { compositionService } from "../lib/runtime/composition.ts";

export const handler = httpRoute(route, async ({ params, body, requestId }) => {
  await compositionService().act(params.id, body, requestId);
  return noContent();
});
