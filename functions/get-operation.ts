import { route } from "../lib/api/routes/get-operation.ts";
import { httpRoute, json } from "../lib/http/route.ts";
import { toOperationView } from "../lib/operations/model.ts";
import { operationService } from "../lib/runtime/operations.ts";

export const handler = httpRoute(route, async ({ params }) =>
  json(200, toOperationView(await operationService().get(params.id))),
);
