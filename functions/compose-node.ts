import { httpRoute, json } from "../lib/http/route.ts";
import { toNodeView } from "../lib/nodes/model.ts";
import { ComposeNodeBody } from "../lib/nodes/schemas.ts";
import { compositionService } from "../lib/runtime/composition.ts";

export const handler = httpRoute({ body: ComposeNodeBody }, async ({ body, requestId }) =>
  json(201, toNodeView(await compositionService().compose(body, requestId))),
);
