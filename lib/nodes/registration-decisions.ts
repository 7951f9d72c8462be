import {
  IronicNodeStateError,
  IronicResourceTakenError,
  NodeHasNoEnabledNicError,
  ValidationError,
} from "../errors.ts";
import type { IronicNode, IronicPort, JsonPatchOperation } from "../ironic/index.ts";
import { drivesSameSystem, type portPlan, REGISTER_REQUEST_MARK } from "./ironic-node.ts";
import type { Node } from "./model.ts";
import { DEPLOYMENT_MARK, NODE_MARK, ownershipOf } from "./ownership.ts";

/**
 * The decisions of the register and unregister sagas, without I/O: each takes what was read (the node, the
 * fresh system, what Ironic holds) and says what to do, so the sagas only read, act and record.
 */

export type PortPlan = ReturnType<typeof portPlan>;

/** An error when the system has nothing to register as a port, or the boot MAC is not one of its NICs. */
export function portPlanProblem(nodeName: string, plan: PortPlan): Error | undefined {
  if (plan.enabled.length === 0) return new NodeHasNoEnabledNicError(nodeName);
  if (plan.bootMac && !plan.enabled.includes(plan.bootMac)) {
    return new ValidationError(`body.boot_mac: ${plan.bootMac} is not an enabled NIC of node ${nodeName}`);
  }
  return undefined;
}

/** The Ironic nodes that hold one of our MACs and are not the node holding our name: to be read. */
export function portOwnersToRead(
  byName: Pick<IronicNode, "uuid"> | undefined,
  ports: readonly (Pick<IronicPort, "node_uuid"> | undefined)[],
): string[] {
  return [...new Set(ports.flatMap((port) => (port ? [port.node_uuid] : [])))].filter(
    (uuid) => uuid !== byName?.uuid,
  );
}

export interface ExistingResources {
  /** The Valence node being registered. */
  node: { uuid: string; name: string };
  deploymentId: string;
  /** Where the fresh system lives: its pod manager's address and its Redfish path. */
  podmUrl: string;
  resourceUri: string;
  /** The Ironic node that holds our name, if any. */
  byName: IronicNode | undefined;
  /** Ironic's port for each MAC of the plan, if any. */
  ports: readonly (Pick<IronicPort, "node_uuid" | "address"> | undefined)[];
  /** The Ironic nodes `portOwnersToRead` named. */
  owners: readonly IronicNode[];
}

export type ExistingDecision =
  | { action: "create" }
  | { action: "adopt"; node: IronicNode }
  | { action: "refuse"; error: IronicResourceTakenError };

/**
 * What to do with what Ironic already holds under our name or MACs: nothing there (`create`); one Ironic node
 * that is ours or drives this very system (`adopt`); anything else (`refuse`): another deployment's node, a node
 * driving other hardware, or two nodes for one system.
 */
export function decideExisting(found: ExistingResources): ExistingDecision {
  const candidates = new Map<string, { node: IronicNode; holds: string }>();
  if (found.byName)
    candidates.set(found.byName.uuid, { node: found.byName, holds: `the name ${found.node.name}` });
  for (const owner of found.owners) {
    if (candidates.has(owner.uuid)) continue;
    const macs = found.ports.filter((port) => port?.node_uuid === owner.uuid).map((port) => port?.address);
    candidates.set(owner.uuid, { node: owner, holds: `the MAC ${macs.join(", ")}` });
  }
  let existing: IronicNode | undefined;
  for (const { node: candidate, holds } of candidates.values()) {
    const label = `Ironic node ${candidate.uuid}${candidate.name ? ` (${candidate.name})` : ""}`;
    // Another deployment's node is never taken over, even for the same hardware.
    if (ownershipOf(candidate.extra, found.deploymentId) === "foreign") {
      return refuse(
        `${label} already holds ${holds} and belongs to another Valence deployment (${String(candidate.extra[DEPLOYMENT_MARK])})`,
      );
    }
    const ours =
      candidate.extra[NODE_MARK] === found.node.uuid ||
      drivesSameSystem(candidate.driver_info, found.podmUrl, found.resourceUri);
    if (!ours) return refuse(`${label} already holds ${holds} and drives other hardware`);
    if (existing && existing.uuid !== candidate.uuid) {
      return refuse(
        `Ironic nodes ${existing.uuid} and ${candidate.uuid} both drive this system; remove one in Ironic first`,
      );
    }
    existing = candidate;
  }
  return existing ? { action: "adopt", node: existing } : { action: "create" };
}

function refuse(message: string): ExistingDecision {
  return { action: "refuse", error: new IronicResourceTakenError(message) };
}

/** The patch that marks an adopted Ironic node as ours; undefined when it already carries our marks. */
export function adoptionMarks(
  existing: Pick<IronicNode, "extra">,
  node: { uuid: string; podm_id: string },
  deploymentId: string,
): JsonPatchOperation[] | undefined {
  if (existing.extra[NODE_MARK] === node.uuid && existing.extra[DEPLOYMENT_MARK] === deploymentId)
    return undefined;
  return [
    { op: "add", path: `/extra/${NODE_MARK}`, value: node.uuid },
    { op: "add", path: "/extra/valence_podm_id", value: node.podm_id },
    { op: "add", path: `/extra/${DEPLOYMENT_MARK}`, value: deploymentId },
  ];
}

/**
 * Whether an Ironic node that appeared under our name is the one this register created (a create whose answer
 * was lost, or a create run again): it names our Valence node and carries this deployment's mark.
 */
export function isOurCreation(
  candidate: Pick<IronicNode, "extra"> | undefined,
  nodeUuid: string,
  deploymentId: string,
): boolean {
  return candidate?.extra[NODE_MARK] === nodeUuid && ownershipOf(candidate.extra, deploymentId) === "ours";
}

/**
 * Whether the node holding our name was created by this very register request (a create whose answer was lost, or
 * run again): ours, and stamped with this request. Any other node of ours was there before: adopted, never deleted.
 */
export function isThisRegistersCreation(
  holder: Pick<IronicNode, "extra"> | undefined,
  nodeUuid: string,
  deploymentId: string,
  requestId: string | undefined,
): boolean {
  return (
    requestId !== undefined &&
    holder?.extra[REGISTER_REQUEST_MARK] === requestId &&
    isOurCreation(holder, nodeUuid, deploymentId)
  );
}

/**
 * What Ironic holds under our name and MACs, leaving out the Ironic node this register created itself: a conflict
 * met after the create is decided on what was there before it.
 */
export function holdersBesides(
  found: { byName: IronicNode | undefined; ports: readonly (IronicPort | undefined)[] },
  created: string | undefined,
): { byName: IronicNode | undefined; ports: (IronicPort | undefined)[] } {
  if (!created) return { byName: found.byName, ports: [...found.ports] };
  return {
    byName: found.byName?.uuid === created ? undefined : found.byName,
    ports: found.ports.map((port) => (port?.node_uuid === created ? undefined : port)),
  };
}

export interface PortChanges {
  /** Ports to create, one after another, in the system's order. */
  create: { mac: string; pxe_enabled: boolean }[];
  /** MACs the Ironic node has a port for already. */
  keep: string[];
}

/** Which ports of the plan the Ironic node still needs, given the MACs it has ports for. */
export function portChanges(
  plan: Pick<PortPlan, "macs" | "bootMac">,
  present: Iterable<string>,
): PortChanges {
  const has = new Set(present);
  const changes: PortChanges = { create: [], keep: [] };
  for (const mac of plan.macs) {
    if (has.has(mac)) changes.keep.push(mac);
    else changes.create.push({ mac, pxe_enabled: mac === plan.bootMac });
  }
  return changes;
}

/** The ports a register would create, keep (already on the node it adopts) and find held by another node. */
export interface PortsPlan {
  create: { address: string; pxe_enabled: boolean }[];
  keep: string[];
  conflicting: { address: string; ironic_node_uuid: string }[];
}

/**
 * The ports of a dry run: per MAC of the plan, Ironic's port for it (if any) decides. On the node the register
 * adopts it is kept; on any other node it conflicts; else it is to be created.
 */
export function portsPlan(
  plan: Pick<PortPlan, "macs" | "bootMac">,
  ports: readonly (Pick<IronicPort, "node_uuid" | "address"> | undefined)[],
  adopted: string | undefined,
): PortsPlan {
  const result: PortsPlan = { create: [], keep: [], conflicting: [] };
  plan.macs.forEach((mac, index) => {
    const port = ports[index];
    if (!port) result.create.push({ address: mac, pxe_enabled: mac === plan.bootMac });
    else if (port.node_uuid === adopted) result.keep.push(mac);
    else result.conflicting.push({ address: mac, ironic_node_uuid: port.node_uuid });
  });
  return result;
}

/**
 * A port create refused because the MAC exists: `ours` when the port is on our Ironic node (this register's own
 * create, whose answer was lost or which runs again), `conflict` when another node holds it.
 */
export function claimExistingPort(
  port: Pick<IronicPort, "node_uuid"> | undefined,
  ironicNodeUuid: string,
): "ours" | "conflict" {
  return port?.node_uuid === ironicNodeUuid ? "ours" : "conflict";
}

/**
 * The node's record shows this register's final write: the version right after the intent's, managed by Ironic
 * through this Ironic node, nothing in flight. Nothing else writes that version (the intent holds off others).
 */
export function registrationLanded(
  current: Pick<Node, "version" | "managed_by" | "ironic_node_uuid" | "intent">,
  markedVersion: number,
  ironicNodeUuid: string,
): boolean {
  return (
    current.version === markedVersion + 1 &&
    current.managed_by === "ironic" &&
    current.ironic_node_uuid === ironicNodeUuid &&
    !current.intent
  );
}

/** Ironic states from which a node may be deleted without force. */
export const DELETABLE_STATES: ReadonlySet<string> = new Set([
  "enroll",
  "manageable",
  "available",
  "adopt failed",
  "inspect failed",
  "clean failed",
]);

export function isTransitional(state: string): boolean {
  return state.endsWith("ing") || state.endsWith("wait");
}

export type UnregisterDecision =
  | { action: "refuse"; error: IronicNodeStateError }
  /** Delete the Ironic node, first putting it in maintenance and/or removing its instance when told. */
  | { action: "delete"; maintenance: boolean; removeInstance: boolean };

/** How to take an Ironic node out: refused while it moves or is in use (unless forced), or deleted. */
export function decideUnregister(
  current: Pick<IronicNode, "uuid" | "provision_state" | "instance_uuid" | "maintenance">,
  force: boolean,
): UnregisterDecision {
  const busy = current.instance_uuid !== null || current.provision_state === "active";
  const restricted = busy || !DELETABLE_STATES.has(current.provision_state);
  if (isTransitional(current.provision_state)) {
    return {
      action: "refuse",
      error: new IronicNodeStateError(
        `Ironic node ${current.uuid} is ${current.provision_state}; wait for it to settle before unregistering`,
      ),
    };
  }
  if (restricted && !current.maintenance && !force) {
    return {
      action: "refuse",
      error: new IronicNodeStateError(
        `Ironic node ${current.uuid} is ${current.provision_state}${current.instance_uuid ? ` with instance ${current.instance_uuid}` : ""}; unregister with {"force": true} to put it in maintenance and delete it`,
      ),
    };
  }
  const forced = force && restricted;
  return {
    action: "delete",
    maintenance: forced && !current.maintenance,
    removeInstance: forced && Boolean(current.instance_uuid),
  };
}
