import { UuidParams } from "../lib/api/common.ts";
import { httpRoute, json } from "../lib/http/route.ts";
import { toPodManagerView } from "../lib/podmanagers/model.ts";
import { UpdatePodManagerBody } from "../lib/podmanagers/schemas.ts";
import { podManagerService } from "../lib/runtime/pod-managers.ts";

export const handler = httpRoute(
  { params: UuidParams, body: UpdatePodManagerBody },
  async ({ params, body }) => json(200, toPodManagerView(await podManagerService().update(params.id, body))),
);
