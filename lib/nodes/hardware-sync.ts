import { VersionConflictError } from "../errors.ts";
import { IronicMacAlreadyExistsError } from "../ironic/errors.ts";
import { IronicFeatures } from "../ironic/features.ts";
import type { JsonPatchOperation } from "../ironic/index.ts";
import type { Operation } from "../operations/model.ts";
import { AT_REST_STATES, describeChanges } from "./hardware-drift.ts";
import { type HardwareRules, hardwareTraits } from "./hardware-traits.ts";
import type { NodeHistory } from "./history.ts";
import type { IronicNodesPort } from "./ironic-port.ts";
import type { Hardware, Node } from "./model.ts";
import { NODE_MARK } from "./ownership.ts";
import type { NodeRepository } from "./repository.ts";
import { withSyncedHardware } from "./transitions.ts";

export interface HardwareSyncDeps {
  nodes: NodeRepository;
  ironic: Pick<
    IronicNodesPort,
    "apiVersion" | "getNode" | "updateNode" | "listPorts" | "createPort" | "deletePort" | "setTraits"
  >;
  history?: NodeHistory | undefined;
  /** The deployment's hardware rules (traits, resource class). @default the shipped rules */
  hardwareRules?: HardwareRules | undefined;
}

type StepResult = { ok: true; detail: string } | { ok: false; detail: string };

/**
 * A `hardware_sync` operation's step: the node's drifted hardware (`hardware_drift.hardware`, as the reconciler
 * read it) into Ironic, then the drift cleared and the hardware stored. Only while Ironic rests the node unused
 * (`enroll`, `manageable`, `available`): otherwise the step fails, the drift stays, and the reconciler starts
 * another once the node rests. Safe to run again: it writes the same values, and ports are compared first.
 *
 * - properties: `cpus`, `memory_mb`, `local_gb`, `cpu_arch`, replaced;
 * - ports: a port for every enabled MAC Ironic lacks, marked as the register marks its own
 *   (`extra.valence_node_uuid`); ports carrying our mark whose MAC left the composition are deleted; a port
 *   without our mark is never touched, whatever its MAC;
 * - traits and resource class, as the configured rules give them for the new hardware (`syncCompositionTraits`).
 */
export async function syncHardwareForOperation(
  operation: Operation,
  deps: HardwareSyncDeps,
): Promise<StepResult> {
  const node = await deps.nodes.get(operation.node_uuid);
  if (node?.managed_by !== "ironic" || !node.ironic_node_uuid)
    return { ok: false, detail: "the node is not registered in Ironic" };
  const drift = node.hardware_drift;
  if (!drift) return { ok: true, detail: "nothing to sync: the node's hardware follows its composition" };
  const ironicNodeUuid = node.ironic_node_uuid;
  const current = await deps.ironic.getNode(ironicNodeUuid);
  if (!AT_REST_STATES.has(current.provision_state) || current.target_provision_state) {
    return {
      ok: false,
      detail: `Ironic is using the node (${current.provision_state}): left alone; re-synced once it rests`,
    };
  }
  const hardware = drift.hardware;
  await deps.ironic.updateNode(ironicNodeUuid, propertyPatch(hardware));
  const traits = await syncCompositionTraits(node, hardware, deps.ironic, deps.hardwareRules);
  const ports = await syncPorts(node, ironicNodeUuid, hardware, deps.ironic);
  await recordSynced(node, hardware, traits, deps.nodes);
  const detail = [describeChanges(drift.changes), traits.detail, ports].filter(Boolean).join("; ");
  await deps.history
    ?.append(node.uuid, {
      action: "hardware_sync",
      outcome: "succeeded",
      actor: operation.principal,
      request_id: operation.request_id,
      ironic_node_uuid: ironicNodeUuid,
      detail,
    })
    .catch(() => undefined);
  return { ok: true, detail };
}

function propertyPatch(hardware: Hardware): JsonPatchOperation[] {
  return (["cpus", "memory_mb", "local_gb", "cpu_arch"] as const).map((name) => ({
    op: "add" as const,
    path: `/properties/${name}`,
    value: hardware[name],
  }));
}

/** What the re-sync writes besides properties and ports: the node's traits and resource class. */
export interface TraitsSync {
  traits: string[] | null;
  resourceClass: string | null;
  detail: string;
}

/**
 * Traits and `resource_class` after the drift, as the configured rules compute them: the traits the rules gave the
 * old hardware and no longer give are removed, those they give the new hardware added, and every other trait of
 * the node (the register body's own) kept; the resource class changes only where a rule had set it. Written to
 * Ironic (`PUT /v1/nodes/{id}/traits` where the API version offers it; `resource_class` by PATCH, which Ironic
 * takes while the node is not in use, as here). Answers what the node holds now, and what it did in words.
 */
export async function syncCompositionTraits(
  node: Node,
  hardware: Hardware,
  ironic: HardwareSyncDeps["ironic"],
  rules: HardwareRules | undefined,
): Promise<TraitsSync> {
  const before = hardwareTraits(node.hardware, rules);
  const after = hardwareTraits(hardware, rules);
  const kept = (node.traits ?? []).filter((trait) => !before.traits.includes(trait));
  const traits = [...new Set([...kept, ...after.traits])].sort();
  const done: string[] = [];
  const ironicNodeUuid = node.ironic_node_uuid as string;
  let heldTraits = node.traits ?? null;
  const traitsChanged = JSON.stringify(traits) !== JSON.stringify([...(node.traits ?? [])].sort());
  if (traitsChanged && new IronicFeatures(await ironic.apiVersion()).setsTraits) {
    await ironic.setTraits(ironicNodeUuid, traits);
    heldTraits = traits;
    done.push(`traits ${traits.length > 0 ? traits.join(", ") : "none"}`);
  }
  let resourceClass = node.resource_class ?? null;
  const ruleSetIt = before.resource_class !== undefined && resourceClass === before.resource_class;
  if (ruleSetIt && after.resource_class !== undefined && after.resource_class !== resourceClass) {
    await ironic.updateNode(ironicNodeUuid, [
      { op: "replace", path: "/resource_class", value: after.resource_class },
    ]);
    resourceClass = after.resource_class;
    done.push(`resource_class ${resourceClass}`);
  }
  return { traits: heldTraits, resourceClass, detail: done.join(", ") };
}

/** Ports for new MACs (ours), ours whose MAC vanished deleted; what it did, in words (empty: nothing). */
async function syncPorts(
  node: Node,
  ironicNodeUuid: string,
  hardware: Hardware,
  ironic: HardwareSyncDeps["ironic"],
): Promise<string> {
  const wanted = new Set(hardware.nics.filter((nic) => nic.enabled).map((nic) => nic.mac.toLowerCase()));
  const ports = await ironic.listPorts({ node_uuid: ironicNodeUuid });
  const present = new Set(ports.map((port) => port.address.toLowerCase()));
  const ours = ports.filter((port) => port.extra?.[NODE_MARK] === node.uuid);
  const added: string[] = [];
  const removed: string[] = [];
  const conflicts: string[] = [];
  for (const port of ours) {
    if (wanted.has(port.address.toLowerCase())) continue;
    await ironic.deletePort(port.uuid);
    removed.push(port.address);
  }
  // PXE stays where it is; a node left with no PXE port of ours gets its first new one.
  let pxe = !ours.some((port) => port.pxe_enabled && wanted.has(port.address.toLowerCase()));
  for (const mac of [...wanted].sort()) {
    if (present.has(mac)) continue;
    try {
      await ironic.createPort({
        node_uuid: ironicNodeUuid,
        address: mac,
        pxe_enabled: pxe,
        extra: { [NODE_MARK]: node.uuid },
      });
      pxe = false;
      added.push(mac);
    } catch (error) {
      // Another Ironic node holds the MAC: not ours to move.
      if (!(error instanceof IronicMacAlreadyExistsError)) throw error;
      conflicts.push(mac);
    }
  }
  return [
    added.length ? `ports added ${added.join(", ")}` : "",
    removed.length ? `ports removed ${removed.join(", ")}` : "",
    conflicts.length ? `MACs held by another Ironic node, not added: ${conflicts.join(", ")}` : "",
  ]
    .filter(Boolean)
    .join("; ");
}

/** The hardware stored and the drift cleared; read again when the node moved meanwhile. */
async function recordSynced(
  node: Node,
  hardware: Hardware,
  traits: TraitsSync,
  nodes: NodeRepository,
): Promise<void> {
  let current: Node | undefined = node;
  for (let attempt = 0; current && attempt < 5; attempt++) {
    // A newer drift (read meanwhile) is left for the next re-sync.
    if (JSON.stringify(current.hardware_drift?.hardware) !== JSON.stringify(hardware)) return;
    try {
      await nodes.update(
        current.uuid,
        { version: current.version },
        withSyncedHardware(hardware, undefined, {
          traits: traits.traits,
          resourceClass: traits.resourceClass,
        }),
      );
      return;
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
      current = await nodes.get(node.uuid);
    }
  }
}
