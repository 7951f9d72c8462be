import { compositionRecord } from "./hardware-drift.ts";
import type {
  CompositionRecord,
  Hardware,
  HardwareDrift,
  Intent,
  IronicState,
  NodeChanges,
  NodeOperation,
} from "./model.ts";

declare const transition: unique symbol;

/**
 * The complete change of one node transition, as the repository writes it in one conditional update. Only this
 * module makes them, so no path can forget a field (a stale `ironic_state` after an unregister, an intent left
 * behind by a register); the repository alone bumps `version` and `updated_at`.
 */
export type Transition = Readonly<NodeChanges> & { readonly [transition]: true };

const make = (changes: NodeChanges) => changes as Transition;

/** A register, unregister or decompose in flight: written before the work, so a crash leaves a trace. */
export function withIntent(
  op: Intent["op"],
  requestId: string,
  at: Date,
  ironicNodeUuid: string | null = null,
  operationId: string | null = null,
): Transition {
  return make({
    intent: {
      op,
      request_id: requestId,
      started_at: at.toISOString(),
      ironic_node_uuid: ironicNodeUuid,
      ...(operationId ? { operation_id: operationId } : {}),
    },
  });
}

/** An operation starts on the node: the node's one operation until it ends. */
export function withOperation(operation: NodeOperation): Transition {
  return make({ operation });
}

/** The node's operation ended. */
export function withoutOperation(): Transition {
  return make({ operation: null });
}

/** The operation in flight ended without changing who manages the node (failed, or rolled back). */
export function withoutIntent(): Transition {
  return make({ intent: null });
}

export interface Registration {
  ironicNodeUuid: string;
  at: Date;
  /** Ironic's state when the reconciler saw it; a register leaves it for the reconciler's next pass. */
  ironicState?: IronicState | null;
  /** The system as its pod manager described it during the register, when read. */
  system?: { hardware: Hardware; resourceUri: string; composition?: string[] | undefined };
  /** The operation that carries the register's lifecycle steps on (manage, inspect, provide). */
  operation?: NodeOperation | null;
  /** The traits the register set on the Ironic node (null: the Ironic in use has none). */
  traits?: string[] | null;
  /** The Ironic node's `resource_class`. */
  resourceClass?: string | null;
}

/** Ironic manages the node now: nothing in flight, and no state cached from an earlier registration. */
export function toRegistered(registration: Registration): Transition {
  return make({
    managed_by: "ironic",
    ironic_node_uuid: registration.ironicNodeUuid,
    registered_at: registration.at.toISOString(),
    intent: null,
    operation: registration.operation ?? null,
    ironic_state: registration.ironicState ?? null,
    ...(registration.traits !== undefined ? { traits: registration.traits } : {}),
    ...(registration.resourceClass !== undefined ? { resource_class: registration.resourceClass } : {}),
    ...(registration.system
      ? {
          hardware: registration.system.hardware,
          resource_uri: registration.system.resourceUri,
          hardware_drift: null,
          // The composition the hardware was read from: the reconciler compares the next listings with it.
          ...(registration.system.composition
            ? { composition: compositionRecord(registration.system.composition) }
            : {}),
        }
      : {}),
  });
}

/** Valence's again: no Ironic node, nothing cached of one, nothing in flight. */
export function toUnregistered(): Transition {
  return make({
    managed_by: "valence",
    ironic_node_uuid: null,
    registered_at: null,
    intent: null,
    operation: null,
    ironic_state: null,
    traits: null,
    resource_class: null,
    hardware_drift: null,
  });
}

/** The composition as read now, its hardware unchanged: kept so the next pass compares with it. */
export function withComposition(composition: CompositionRecord): Transition {
  return make({ composition });
}

/**
 * The composition changed under the node and Ironic has not followed yet: the new composition, and the drift
 * (what changed, the hardware to write) until a re-sync clears it.
 */
export function withHardwareDrift(composition: CompositionRecord, drift: HardwareDrift): Transition {
  return make({ composition, hardware_drift: drift });
}

/** The node's hardware follows its composition (Ironic re-synced, or the node is not in Ironic): no drift left. */
export function withSyncedHardware(
  hardware: Hardware,
  composition?: CompositionRecord,
  placement?: { traits: string[] | null; resourceClass: string | null },
): Transition {
  return make({
    hardware,
    hardware_drift: null,
    ...(composition ? { composition } : {}),
    ...(placement ? { traits: placement.traits, resource_class: placement.resourceClass } : {}),
  });
}

/** The pod manager no longer has the composed system. */
export function toMissing(): Transition {
  return make({ status: "missing" });
}

/** The pod manager has the composed system again. */
export function toFound(): Transition {
  return make({ status: "ok" });
}

/** Ironic's state as the reconciler saw it just now. */
export function withIronicState(state: IronicState): Transition {
  return make({ ironic_state: state });
}

/** The fields of Ironic's node that the store caches. */
export interface IronicStateSource {
  provision_state: string;
  power_state?: string | null | undefined;
  maintenance: boolean;
  last_error?: string | null | undefined;
}

/**
 * Ironic's state to cache when it differs from the cached one; undefined when nothing changed, so an unchanged
 * node is not written (and its `version` stays).
 */
export function changedIronicState(
  current: IronicStateSource,
  cached: IronicState | null | undefined,
  at: Date,
): IronicState | undefined {
  const next = {
    provision_state: current.provision_state,
    power_state: current.power_state ?? null,
    maintenance: current.maintenance,
    last_error: current.last_error ?? null,
  };
  if (
    cached &&
    cached.provision_state === next.provision_state &&
    cached.power_state === next.power_state &&
    cached.maintenance === next.maintenance &&
    cached.last_error === next.last_error
  ) {
    return undefined;
  }
  return { ...next, synced_at: at.toISOString() };
}
