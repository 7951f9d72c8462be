import { LifecycleActionBody } from "../../operations/schemas.ts";
import { NodeIdParams } from "../common.ts";
import {
  deadline,
  NODE_ID,
  NOT_FOUND_NODE,
  OPERATION_IN_PROGRESS,
  OPERATION_NOT_STARTED,
  operationHeaders,
} from "../reference-text.ts";
import { OperationView } from "../responses.ts";
import { defineRoute, type RouteReference } from "../route-definition.ts";

export const route = defineRoute({
  method: "POST",
  // One function for Ironic's four lifecycle verbs: the action is the path's last segment.
  path: ["/v1/nodes/{id}/manage", "/v1/nodes/{id}/provide", "/v1/nodes/{id}/inspect", "/v1/nodes/{id}/clean"],
  summary: (path) =>
    `Start Ironic's ${path.slice(path.lastIndexOf("/") + 1)} on a registered node: 202 and an operation`,
  table: "write",
  ironic: true,
  startsOperations: true,
  params: NodeIdParams,
  body: LifecycleActionBody,
});

export function reference(): RouteReference {
  return {
    tag: "operations",
    description:
      "Starts Ironic's lifecycle action on a registered node as an operation, run durably however long Ironic " +
      "takes, and answers **202** at once with it; follow it at `Location` (`GET /v1/operations/{id}`). With " +
      "Ironic's semantics: `manage` moves the node to `manageable` (from `enroll`, verifying the BMC; from " +
      "`available`; out of `clean failed` after a failed `provide`); `provide` moves the node to `available`, " +
      "Ironic cleaning it first when automated cleaning is on, running `manage` first where Ironic needs it " +
      "(from `enroll` or `clean failed`, so retrying a failed `provide` is one call); `inspect` inspects a `manageable` " +
      "(or `inspect failed`) node; `clean` runs Ironic's manual cleaning with the `clean_steps` given, from " +
      "`manageable` and back. The " +
      "action is not sent when the node already rests in, or moves to, its target. Maintenance Ironic set after " +
      "a failed clean step (`fault: clean failure`) is cleared before the verb; maintenance an operator set " +
      "fails the step at once. A verb Ironic refuses in the " +
      "node's state, or a step that ends in a failed state, fails the operation with Ironic's `last_error` and " +
      "leaves the Ironic node as Ironic left it; the node stays registered.",
    fields: {
      ...NODE_ID,
      clean_steps:
        "`clean` only, and required there: the steps of Ironic's manual cleaning, run in this order (400 on " +
        "another action).",
      "clean_steps[].interface": "The driver interface the step belongs to.",
      "clean_steps[].step": "The step's name, e.g. `erase_devices_metadata`.",
      "clean_steps[].args": "The step's arguments, as Ironic takes them.",
      wait_timeout: deadline(),
    },
    responses: {
      202: {
        description: "The operation, `pending`: its one step is named after the action.",
        schema: OperationView,
        headers: operationHeaders(),
      },
    },
    errors: {
      400: "`clean` without `clean_steps`, `clean_steps` on another action, or a body that does not validate.",
      404: NOT_FOUND_NODE,
      409:
        `${OPERATION_IN_PROGRESS}; \`NodeNotRegistered\`: the node is not in Ironic (register it first); ` +
        "`NodeBusy`: a register or unregister of it is in flight.",
      503: OPERATION_NOT_STARTED,
    },
    example: { params: { id: "test-node" }, body: { wait_timeout: 3600 } },
    routeExamples: {
      "/v1/nodes/{id}/clean": {
        params: { id: "test-node" },
        body: { clean_steps: [{ interface: "deploy", step: "erase_devices_metadata" }] },
      },
    },
  };
}
