import { route } from "../lib/api/routes/list-pod-managers.ts";
import { httpRoute, json } from "../lib/http/route.ts";
import { toPodManagerView } from "../lib/podmanagers/model.ts";
import { podManagerRepository } from "../lib/runtime/store.ts";

/** A listing reads the store alone: no Redfish, Ironic or secret store in this function. */
export const handler = httpRoute(route, async () =>
  json(200, (await podManagerRepository().list()).map(toPodManagerView)),
);
