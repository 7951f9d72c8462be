import { route } from "../lib/api/routes/register-node.ts";
import { answerWithOperation } from "../lib/http/operation-answer.ts";
import { httpRoute, json } from "../lib/http/route.ts";
import { toNodeView } from "../lib/nodes/model.ts";
import { registrationService } from "../lib/runtime/registration.ts";

export const handler = httpRoute(route, async ({ params, query, body, baseUrl, ...context }) => {
  if (query.dry_run) return json(200, await registrationService().plan(params.id, body, context));
  const { node, ironic, operation } = await registrationService().register(params.id, body, context);
  return answerWithOperation({ ...toNodeView(node), ironic }, operation, baseUrl);
});
