import { route } from "../lib/api/routes/register-node.ts";
import { accepted, httpRoute, json } from "../lib/http/route.ts";
import { toNodeView } from "../lib/nodes/model.ts";
import { toOperationView } from "../lib/operations/model.ts";
import { OPERATION_RETRY_AFTER_SECONDS } from "../lib/operations/schemas.ts";
import { registrationService } from "../lib/runtime/registration.ts";

export const handler = httpRoute(route, async ({ params, query, body, baseUrl, ...context }) => {
  if (query.dry_run) return json(200, await registrationService().plan(params.id, body, context));
  const { node, ironic, operation } = await registrationService().register(params.id, body, context);
  const view = { ...toNodeView(node), ironic };
  if (!operation) return json(200, view);
  return accepted(
    { ...view, operation: toOperationView(operation) },
    operation,
    baseUrl,
    OPERATION_RETRY_AFTER_SECONDS,
  );
});
