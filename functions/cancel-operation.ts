import { httpRoute, json } from "../lib/http/route.ts";
import { toOperationView } from "../lib/operations/model.ts";
import { OperationIdParams } from "../lib/operations/schemas.ts";
import { operationService } from "../lib/runtime/operations.ts";

export const handler = httpRoute({ params: OperationIdParams }, async ({ params }) =>
  json(202, toOperationView(await operationService().cancel(params.id))),
);
