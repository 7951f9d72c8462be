import { UuidParams } from "../lib/api/common.ts";
import { httpRoute, json } from "../lib/http/route.ts";
import { toPodManagerView } from "../lib/podmanagers/model.ts";
import { podManagerService } from "../lib/runtime/pod-managers.ts";

export const handler = httpRoute({ params: UuidParams }, async ({ params }) =>
  json(200, toPodManagerView(await podManagerService().show(params.id))),
);
