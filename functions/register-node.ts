import { NodeIdParams } from "../lib/api/common.ts";
import { httpRoute, json } from "../lib/http/route.ts";
import { toNodeView } from "../lib/nodes/model.ts";
import { RegisterNodeBody } from "../lib/nodes/schemas.ts";
import { registrationService } from "../lib/runtime/registration.ts";

export const handler = httpRoute(
  { params: NodeIdParams, body: RegisterNodeBody },
  async ({ params, body, ...context }) => {
    const { node, ironic } = await registrationService().register(params.id, body, context);
    return json(200, { ...toNodeView(node), ironic });
  },
);
