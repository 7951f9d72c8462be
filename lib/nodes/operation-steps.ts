import { nodeEvent } from "../events/build.ts";
import { type EventPublisher, publishQuietly } from "../events/publisher.ts";
import { NODE_REGISTRATION_FAILED, NODE_UNREGISTERED } from "../events/schemas.ts";
import { logger } from "../log.ts";
import type { Operation } from "../operations/model.ts";
import type { NewHistoryEvent, NodeHistory } from "./history.ts";
import { deleteIronicNode } from "./ironic-node.ts";
import type { IronicNodesPort } from "./ironic-port.ts";
import { type UnregisterState, unregisterSteps } from "./registration-saga.ts";
import type { NodeRepository } from "./repository.ts";
import { Saga } from "./saga.ts";
import { toUnregistered } from "./transitions.ts";

/** What operations do to the node records themselves: undo a register, unregister once Ironic settled. */
export interface EnrollmentRollbackDeps {
  nodes: NodeRepository;
  ironic: Pick<IronicNodesPort, "deleteNode" | "setMaintenance">;
  history?: NodeHistory | undefined;
  events?: EventPublisher | undefined;
  now?: () => Date;
}

/**
 * Undoes a register whose verification failed in its operation (Ironic could not reach or log in to the BMC and
 * left the node `enroll` with `last_error`): deletes the Ironic node the register created and makes the node
 * Valence's again, as a synchronous register that failed would have. Safe to run again: a registration no longer
 * carried by this operation is left alone. Answers what it did.
 */
export async function rollBackEnrollment(
  operation: Operation,
  reason: string,
  deps: EnrollmentRollbackDeps,
): Promise<string> {
  const node = await deps.nodes.get(operation.node_uuid);
  if (node?.managed_by !== "ironic" || node.operation?.id !== operation.id)
    return "rolled back: the registration was already undone";
  const ironicNodeUuid = node.ironic_node_uuid;
  if (ironicNodeUuid) {
    await deleteIronicNode(deps.ironic, ironicNodeUuid, `register of ${node.name} failed verification`);
  }
  await deps.nodes.update(node.uuid, { version: node.version }, toUnregistered());
  const summary = `rolled back: deleted Ironic node ${ironicNodeUuid ?? "(none)"}`;
  const detail = `verification failed: ${reason}; ${summary}`;
  const at = (deps.now ?? (() => new Date()))();
  await appendQuietly(deps.history, node.uuid, operation, {
    action: "register",
    outcome: "failed",
    ironic_node_uuid: ironicNodeUuid,
    detail,
  });
  await publishQuietly(deps.events, [
    nodeEvent(NODE_REGISTRATION_FAILED, {
      node,
      action: "register",
      outcome: "failed",
      actor: operation.principal,
      requestId: operation.request_id,
      at,
      ironicNodeUuid,
      message: detail,
    }),
  ]);
  return summary;
}

export interface OperationUnregisterDeps {
  nodes: NodeRepository;
  ironic: IronicNodesPort;
  history?: NodeHistory | undefined;
  events?: EventPublisher | undefined;
  now?: () => Date;
}

/**
 * An unregister operation's last step, once Ironic settled: the unregister saga (the node held by the operation
 * stands in for the `unregistering` intent), its history and event. A refusal (an `active` node without force) is
 * the step's failure, not an error. Safe to run again: a node no longer registered by this operation is done.
 */
export async function unregisterForOperation(
  operation: Operation,
  deps: OperationUnregisterDeps,
): Promise<{ ok: true; detail: string } | { ok: false; detail: string }> {
  const node = await deps.nodes.get(operation.node_uuid);
  if (node?.managed_by !== "ironic" || !node.ironic_node_uuid || node.operation?.id !== operation.id)
    return { ok: true, detail: "the node was unregistered already" };
  const force = operation.arguments?.force ?? false;
  const state: UnregisterState = { node, force, ironicNodeUuid: node.ironic_node_uuid, marked: node };
  const outcome = await new Saga(
    unregisterSteps({
      connect: async () => deps.ironic,
      nodes: deps.nodes,
      maintenanceReason: `unregistered by Valence (operation ${operation.id})`,
    }),
    "unregistering",
  ).run(state);
  const action = force ? "force-unregister" : "unregister";
  const at = (deps.now ?? (() => new Date()))();
  const detail = outcome.ok
    ? state.current
      ? `deleted Ironic node ${state.ironicNodeUuid}`
      : "the Ironic node was already gone"
    : `${(outcome.error as Error).message}`;
  await appendQuietly(deps.history, node.uuid, operation, {
    action,
    outcome: outcome.ok ? "succeeded" : "failed",
    ironic_node_uuid: state.ironicNodeUuid,
    detail,
  });
  if (!outcome.ok) return { ok: false, detail };
  await publishQuietly(deps.events, [
    nodeEvent(NODE_UNREGISTERED, {
      node,
      action,
      outcome: "succeeded",
      actor: operation.principal,
      requestId: operation.request_id,
      at,
      ironicNodeUuid: state.ironicNodeUuid,
      message: detail,
    }),
  ]);
  return { ok: true, detail };
}

/** History is the audit trail, not the state: an append that fails is logged and never fails the operation. */
async function appendQuietly(
  history: NodeHistory | undefined,
  nodeUuid: string,
  operation: Pick<Operation, "principal" | "request_id">,
  event: Omit<NewHistoryEvent, "actor" | "request_id">,
): Promise<void> {
  try {
    await history?.append(nodeUuid, {
      ...event,
      actor: operation.principal,
      request_id: operation.request_id,
    });
  } catch (error) {
    logger.error("could not append to the node's history", {
      node_uuid: nodeUuid,
      error: (error as Error).message,
    });
  }
}
