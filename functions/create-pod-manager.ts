import { httpRoute, json } from "../lib/http/route.ts";
import { toPodManagerView } from "../lib/podmanagers/model.ts";
import { CreatePodManagerBody } from "../lib/podmanagers/schemas.ts";
import { podManagerService } from "../lib/runtime/pod-managers.ts";

export const handler = httpRoute({ body: CreatePodManagerBody }, async ({ body }) =>
  json(201, toPodManagerView(await podManagerService().create(body))),
);
