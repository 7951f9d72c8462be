import { route } from "../lib/api/routes/list-pod-managers.ts";
import { httpRoute, json } from "../lib/http/route.ts";
import { toPodManagerView } from "../lib/podmanagers/model.ts";
import { podManagerService } from "../lib/runtime/pod-managers.ts";

export const handler = httpRoute(route, async () =>
  json(200, (await podManagerService().list()).map(toPodManagerView)),
);
