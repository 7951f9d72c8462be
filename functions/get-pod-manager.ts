import { route } from "../lib/api/routes/get-pod-manager.ts";
import { httpRoute, json } from "../lib/http/route.ts";
import { toPodManagerView } from "../lib/podmanagers/model.ts";
import { podManagerService } from "../lib/runtime/pod-managers.ts";

export const handler = httpRoute(route, async ({ params }) =>
  json(200, toPodManagerView(await podManagerService().show(params.id))),
);
