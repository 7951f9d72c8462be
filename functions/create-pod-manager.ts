import { route } from "../lib/api/routes/create-pod-manager.ts";
import { httpRoute, json } from "../lib/http/route.ts";
import { toPodManagerView } from "../lib/podmanagers/model.ts";
import { podManagerService } from "../lib/runtime/pod-managers.ts";

export const handler = httpRoute(route, async ({ body }) =>
  json(201, toPodManagerView(await podManagerService().create(body))),
);
