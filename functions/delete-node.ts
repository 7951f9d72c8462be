import { NodeIdParams } from "../lib/api/common.ts";
import { httpRoute, noContent } from "../lib/http/route.ts";
import { compositionService } from "../lib/runtime/composition.ts";

export const handler = httpRoute({ params: NodeIdParams }, async ({ params, requestId }) => {
  await compositionService().decompose(params.id, requestId);
  return noContent();
});
