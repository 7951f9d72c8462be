import { NodeIdParams } from "../lib/api/common.ts";
import { httpRoute, json } from "../lib/http/route.ts";
import { toNodeView } from "../lib/nodes/model.ts";
import { nodeService } from "../lib/runtime.ts";

export const handler = httpRoute({ params: NodeIdParams }, async ({ params }) =>
  json(200, toNodeView(await nodeService().find(params.id))),
);
