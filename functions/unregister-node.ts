import { NodeIdParams } from "../lib/api/common.ts";
import { httpRoute, json } from "../lib/http/route.ts";
import { toNodeView } from "../lib/nodes/model.ts";
import { UnregisterNodeBody } from "../lib/nodes/schemas.ts";
import { registrationService } from "../lib/runtime/registration.ts";

export const handler = httpRoute(
  { params: NodeIdParams, body: UnregisterNodeBody },
  async ({ params, body, ...context }) =>
    json(200, toNodeView(await registrationService().unregister(params.id, body, context))),
);
