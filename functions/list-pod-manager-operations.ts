import { route } from "../lib/api/routes/list-pod-manager-operations.ts";
import { PodManagerNotFoundError } from "../lib/errors.ts";
import { nextPageLink } from "../lib/http/pagination.ts";
import { httpRoute, json } from "../lib/http/route.ts";
import { toOperationView } from "../lib/operations/model.ts";
import { operationService } from "../lib/runtime/operations.ts";
import { podManagerRepository } from "../lib/runtime/store.ts";

export const handler = httpRoute(route, async ({ params, query, baseUrl, path }) => {
  // The store alone says whether the pod manager exists: no Redfish, Ironic or secret store in this function.
  const podm = await podManagerRepository().get(params.id);
  if (!podm) throw new PodManagerNotFoundError(params.id);
  const page = await operationService().listForPodManager(podm.uuid, query);
  const link = page.next ? nextPageLink(baseUrl, path, query, page.next) : undefined;
  return json(200, page.items.map(toOperationView), link ? { link } : undefined);
});
