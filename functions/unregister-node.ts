import { route } from "../lib/api/routes/unregister-node.ts";
import { answerWithOperation } from "../lib/http/operation-answer.ts";
import { httpRoute } from "../lib/http/route.ts";
import { toNodeView } from "../lib/nodes/model.ts";
import { unregistrationService } from "../lib/runtime/unregistration.ts";

export const handler = httpRoute(route, async ({ params, body, baseUrl, ...context }) => {
  const { node, operation } = await unregistrationService().unregister(params.id, body, context);
  return answerWithOperation(toNodeView(node), operation, baseUrl);
});
