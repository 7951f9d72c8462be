import { route } from "../lib/api/routes/unregister-node.ts";
import { accepted, httpRoute, json } from "../lib/http/route.ts";
import { toNodeView } from "../lib/nodes/model.ts";
import { toOperationView } from "../lib/operations/model.ts";
import { OPERATION_RETRY_AFTER_SECONDS } from "../lib/operations/schemas.ts";
import { unregistrationService } from "../lib/runtime/unregistration.ts";

export const handler = httpRoute(route, async ({ params, body, baseUrl, ...context }) => {
  const { node, operation } = await unregistrationService().unregister(params.id, body, context);
  if (!operation) return json(200, toNodeView(node));
  return accepted(
    { ...toNodeView(node), operation: toOperationView(operation) },
    operation,
    baseUrl,
    OPERATION_RETRY_AFTER_SECONDS,
  );
});
