import { route } from "../lib/api/routes/start-node-operation.ts";
import { accepted, httpRoute } from "../lib/http/route.ts";
import { toOperationView } from "../lib/operations/model.ts";
import { OPERATION_RETRY_AFTER_SECONDS } from "../lib/operations/schemas.ts";
import { LIFECYCLE_ACTIONS, type LifecycleAction } from "../lib/operations/service.ts";
import { operationService } from "../lib/runtime/operations.ts";

/** The action is the route's last segment: `POST /v1/nodes/{id}/provide`. */
function actionOf(path: string): LifecycleAction {
  const action = path.slice(path.lastIndexOf("/") + 1);
  if (!(LIFECYCLE_ACTIONS as readonly string[]).includes(action))
    throw new Error(`start-node-operation serves ${LIFECYCLE_ACTIONS.join(", ")}, not ${path}`);
  return action as LifecycleAction;
}

export const handler = httpRoute(route, async ({ params, body, path, baseUrl, requestId, principal }) => {
  const operation = await operationService().act(params.id, actionOf(path), body, { requestId, principal });
  return accepted(toOperationView(operation), operation, baseUrl, OPERATION_RETRY_AFTER_SECONDS);
});
