import { OperationIdParams } from "../../operations/schemas.ts";
import { EXAMPLE_OPERATION, OPERATION_ID } from "../reference-text.ts";
import { OperationView } from "../responses.ts";
import { defineRoute, type RouteReference } from "../route-definition.ts";

export const route = defineRoute({
  method: "POST",
  path: "/v1/operations/{id}/cancel",
  summary: "Cancel an operation (Ironic aborts in clean wait or inspect wait)",
  table: "write",
  params: OperationIdParams,
});

export function reference(): RouteReference {
  return {
    tag: "operations",
    description:
      "Asks the operation to stop and answers **202** with it, `cancelling`. Where Ironic allows it (`clean " +
      "wait`, `inspect wait`) the workflow aborts in Ironic (the node goes to `clean failed` / `inspect " +
      "failed`); otherwise it stops at the next step boundary, Ironic finishing what it is doing. The operation " +
      "then ends `cancelled`. Cancelling an `enroll` operation also cancels the operations of its nodes under " +
      "way; its nodes not started yet end `cancelled`. Cancelling a `cancelling` operation again is harmless.",
    fields: OPERATION_ID,
    responses: { 202: { description: "The operation, `cancelling`.", schema: OperationView } },
    errors: {
      404: "No operation has this id (`OperationNotFound`).",
      409: "`OperationState`: the operation already ended (`succeeded`, `failed` or `cancelled`).",
    },
    example: { params: { id: EXAMPLE_OPERATION } },
  };
}
