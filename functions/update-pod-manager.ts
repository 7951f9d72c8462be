import { route } from "../lib/api/routes/update-pod-manager.ts";
import { answerWithOperation } from "../lib/http/operation-answer.ts";
import { httpRoute } from "../lib/http/route.ts";
import { toPodManagerView } from "../lib/podmanagers/model.ts";
import { podManagerService } from "../lib/runtime/pod-managers.ts";

/** 200 with the pod manager; 202 with it and the `resync` of its Ironic nodes when new credentials must reach them. */
export const handler = httpRoute(route, async ({ params, body, baseUrl, requestId, principal }) => {
  const { podManager, operation } = await podManagerService().update(params.id, body, {
    requestId,
    principal,
  });
  return answerWithOperation(toPodManagerView(podManager), operation, baseUrl);
});
