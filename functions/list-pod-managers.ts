import { NoQuery } from "../lib/api/common.ts";
import { httpRoute, json } from "../lib/http/route.ts";
import { toPodManagerView } from "../lib/podmanagers/model.ts";
import { podManagerService } from "../lib/runtime/pod-managers.ts";

export const handler = httpRoute({ query: NoQuery }, async () =>
  json(200, (await podManagerService().list()).map(toPodManagerView)),
);
