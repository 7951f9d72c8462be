import { OperationIdParams } from "../../operations/schemas.ts";
import { EXAMPLE_OPERATION, OPERATION_ID } from "../reference-text.ts";
import { OperationView } from "../responses.ts";
import { defineRoute, type RouteReference } from "../route-definition.ts";

export const route = defineRoute({
  method: "GET",
  path: "/v1/operations/{id}",
  summary: "Show an operation: its steps, Ironic's progress, its outcome",
  table: "read",
  params: OperationIdParams,
});

export function reference(): RouteReference {
  return {
    tag: "operations",
    description:
      "One operation: its state, each step with Ironic's `provision_state`, `target_provision_state` and " +
      "`last_error` as the step last saw them, its outcome once it ended, and the request that started it. " +
      "Operations are kept after they end.",
    fields: OPERATION_ID,
    responses: { 200: { description: "The operation.", schema: OperationView } },
    errors: { 404: "No operation has this id (`OperationNotFound`)." },
    example: { params: { id: EXAMPLE_OPERATION } },
  };
}
