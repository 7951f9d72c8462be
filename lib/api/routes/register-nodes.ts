import { EnrollNodesBody } from "../../operations/schemas.ts";
import { deadline, operationHeaders } from "../reference-text.ts";
import { OperationView } from "../responses.ts";
import { defineRoute, type RouteReference } from "../route-definition.ts";

export const route = defineRoute({
  method: "POST",
  path: "/v1/nodes/register",
  summary: "Enroll many nodes (a list, or a pod manager's): 202 and an enroll operation, one per node inside",
  // Finds the nodes and starts the workflow, which registers them: no Ironic or pod manager on this path.
  table: "write",
  startsOperations: true,
  body: EnrollNodesBody,
});

export function reference(): RouteReference {
  return {
    tag: "nodes",
    description:
      "Enrolls many nodes at once (a rack): the nodes listed in `nodes` (uuids or names, or objects with `node` " +
      "and any register body field for that node alone), or the `selector`'s (every node of the pod manager " +
      "that Valence manages, none registered yet), each with the register body's options (those of " +
      "`POST /v1/nodes/{id}/register`). Answers **202** at once with an `enroll` operation; follow it at " +
      "`Location` (`GET /v1/operations/{id}`). Its workflow registers the nodes and runs each one's lifecycle " +
      "steps (`manage`, `inspect`, `provide`) as that node's own operation (`nodes[].operation_id`), at most " +
      "`concurrency` nodes at once; `nodes[]` says how each ended (`state`, `code`: the register's error code " +
      "or the node operation's outcome code, `detail`) and `progress` counts them. One node failing (a MAC " +
      "Ironic holds for other hardware, a failed cleaning, a node registered meanwhile) fails only that node; " +
      "the enrollment ends `succeeded` when every node did, else `failed` with `EnrollmentIncomplete`. " +
      "Cancelling it (`POST /v1/operations/{id}/cancel`) cancels the nodes not started yet and the operations " +
      "of those under way (each stops as a cancelled operation does). The request is checked whole before anything starts: 400 names every problem.",
    fields: {
      nodes:
        "The nodes, 1 to 500, each a uuid or name, or `{node, <register body fields>}` whose fields override the " +
        "body's for that node. Each node at most once. Exactly one of `nodes` and `selector`.",
      selector:
        "Every node of a pod manager that Valence manages (not registered in Ironic yet), at most 500.",
      "selector.podm_id": "The pod manager's uuid.",
      "selector.managed_by": "Only `valence`: the nodes not registered yet.",
      concurrency: "Nodes registered and moved through Ironic at once, 1 to 64. Default 10.",
      manage: "Each node's manage step, as in the single register (so are `inspect` and `provide`).",
      wait_timeout: `${deadline()} Each node's operation's; the enrollment's own is that times the waves of nodes.`,
    },
    responses: {
      202: {
        description:
          "The `enroll` operation, `pending`: one step and one `nodes[]` entry per node, all `pending`.",
        schema: OperationView,
        headers: operationHeaders(),
      },
    },
    errors: {
      400:
        "A body that does not validate (neither or both of `nodes` and `selector`, an empty list, more than 500 " +
        "nodes, a node listed twice, a register field that is wrong for a node), a listed node that does not " +
        "exist, a `selector.podm_id` that is no pod manager, or a selector that selects no node.",
      503: "`OperationNotStarted`: the enrollment was recorded but its workflow could not be started; it is failed.",
    },
    example: {
      body: {
        nodes: ["node-1", { node: "node-2", resource_class: "gold" }],
        manage: true,
        provide: true,
        concurrency: 10,
      },
    },
  };
}
