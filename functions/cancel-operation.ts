import { route } from "../lib/api/routes/cancel-operation.ts";
import { httpRoute, json } from "../lib/http/route.ts";
import { toOperationView } from "../lib/operations/model.ts";
import { operationService } from "../lib/runtime/operations.ts";

export const handler = httpRoute(route, async ({ params }) =>
  json(202, toOperationView(await operationService().cancel(params.id))),
);
