import { scrubTruncated } from "../scrub.ts";
import {
  DETAIL_VERSION,
  MESSAGE_MAX,
  NODE_DRIFT,
  NODE_REGISTERED,
  NODE_REGISTRATION_FAILED,
  NODE_UNREGISTERED,
  type NodeDetailType,
  type NodeEventDetail,
  OPERATION_FINISHED,
  OPERATION_STARTED,
  type OperationFinishedDetail,
  type OperationStartedDetail,
  type ValenceEvent,
} from "./schemas.ts";

/** Free text from upstreams may carry credentials: masked, and cut to what the schema allows. */
export function eventMessage(text: string): string {
  return scrubTruncated(text, MESSAGE_MAX - 1);
}

/** The node fields an event carries; anything else on the node (hardware, driver settings) stays out. */
export interface EventNodeSource {
  uuid: string;
  name: string;
  podm_id: string;
  ironic_node_uuid?: string | null;
}

export interface NodeEventInput {
  node: EventNodeSource;
  action: NodeEventDetail["action"];
  outcome: NodeEventDetail["outcome"];
  actor: string;
  requestId: string;
  at: Date;
  /** Overrides the node's own `ironic_node_uuid` (a register that created one, an unregister that removed it). */
  ironicNodeUuid?: string | null | undefined;
  provisionState?: string | null | undefined;
  message?: string | undefined;
}

/** A node event; its fields picked one by one, so nothing secret can ride along. */
export function nodeEvent(detailType: NodeDetailType, input: NodeEventInput): ValenceEvent {
  const ironicNodeUuid =
    input.ironicNodeUuid === undefined ? (input.node.ironic_node_uuid ?? null) : input.ironicNodeUuid;
  return {
    detailType,
    detail: {
      version: DETAIL_VERSION,
      node: {
        uuid: input.node.uuid,
        name: input.node.name,
        podm_id: input.node.podm_id,
        ironic_node_uuid: ironicNodeUuid,
      },
      action: input.action,
      outcome: input.outcome,
      actor: input.actor,
      request_id: input.requestId,
      at: input.at.toISOString(),
      ...(input.provisionState === undefined ? {} : { provision_state: input.provisionState }),
      ...(input.message === undefined ? {} : { message: eventMessage(input.message) }),
    },
  };
}

/**
 * The detail-type of a history entry the reconciler writes, or undefined when it is not published: what it
 * settled is a register that finished or was rolled back, an unregister that finished, or drift.
 */
export function reconcilerDetailType(action: string): NodeDetailType | undefined {
  switch (action) {
    case "adopt":
    case "finish-register":
      return NODE_REGISTERED;
    case "finish-unregister":
      return NODE_UNREGISTERED;
    case "drift":
      return NODE_DRIFT;
    case "rollback":
      return NODE_REGISTRATION_FAILED;
    default:
      return undefined;
  }
}

export interface OperationEventInput {
  operation: OperationStartedDetail["operation"];
  actor: string;
  requestId: string;
  at: Date;
}

function operationOf(operation: OperationStartedDetail["operation"]): OperationStartedDetail["operation"] {
  return {
    id: operation.id,
    kind: operation.kind,
    node_uuid: operation.node_uuid,
    ...(operation.node_name === undefined ? {} : { node_name: operation.node_name }),
  };
}

/** `Operation Started`. */
export function operationStarted(input: OperationEventInput): ValenceEvent {
  return {
    detailType: OPERATION_STARTED,
    detail: {
      version: DETAIL_VERSION,
      operation: operationOf(input.operation),
      actor: input.actor,
      request_id: input.requestId,
      at: input.at.toISOString(),
    },
  };
}

/** `Operation Finished`. */
export function operationFinished(
  input: OperationEventInput & {
    outcome: OperationFinishedDetail["outcome"];
    provisionState?: string | null;
    lastError?: string | null;
  },
): ValenceEvent {
  return {
    detailType: OPERATION_FINISHED,
    detail: {
      version: DETAIL_VERSION,
      operation: operationOf(input.operation),
      outcome: input.outcome,
      actor: input.actor,
      request_id: input.requestId,
      at: input.at.toISOString(),
      ...(input.provisionState === undefined ? {} : { provision_state: input.provisionState }),
      ...(input.lastError === undefined
        ? {}
        : { last_error: input.lastError === null ? null : eventMessage(input.lastError) }),
    },
  };
}
