import { NodeIdParams } from "../lib/api/common.ts";
import { httpRoute, noContent } from "../lib/http/route.ts";
import { NodeActionBody } from "../lib/nodes/schemas.ts";
import { compositionService } from "../lib/runtime/composition.ts";

export const handler = httpRoute(
  { params: NodeIdParams, body: NodeActionBody },
  async ({ params, body, requestId }) => {
    await compositionService().act(params.id, body, requestId);
    return noContent();
  },
);
