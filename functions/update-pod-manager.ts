import { route } from "../lib/api/routes/update-pod-manager.ts";
import { accepted, httpRoute, json } from "../lib/http/route.ts";
import { toOperationView } from "../lib/operations/model.ts";
import { OPERATION_RETRY_AFTER_SECONDS } from "../lib/operations/schemas.ts";
import { toPodManagerView } from "../lib/podmanagers/model.ts";
import { podManagerService } from "../lib/runtime/pod-managers.ts";

/** 200 with the pod manager; 202 with it and the `resync` of its Ironic nodes when new credentials must reach them. */
export const handler = httpRoute(route, async ({ params, body, baseUrl, requestId, principal }) => {
  const { podManager, operation } = await podManagerService().update(params.id, body, {
    requestId,
    principal,
  });
  const view = toPodManagerView(podManager);
  if (!operation) return json(200, view);
  return accepted(
    { ...view, operation: toOperationView(operation) },
    operation,
    baseUrl,
    OPERATION_RETRY_AFTER_SECONDS,
  );
});
