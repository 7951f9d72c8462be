import type { IronicDriver } from "../../lib/ironic/index.ts";
import type { Node } from "../../lib/nodes/model.ts";

export interface InvariantReport {
  ironicNodes: number;
  ironicPorts: number;
  /** Store nodes that say `managed_by: ironic`. */
  storeIronic: number;
  /** Broken promises, each naming the node (Valence uuid or name) it is about. */
  violations: string[];
  /** Registered nodes whose Ironic node lacks a port for an enabled NIC (reported, not a violation). */
  incomplete: string[];
}

/**
 * The promises Valence makes about Ironic and its store, checked against the real Ironic and a table scan:
 * every Ironic node and port is owned by exactly one store node; the store says `ironic` only for a node Ironic
 * has; and (once the reconciler has run on stale intents) no operation is left in flight.
 * Assumes this Ironic serves one Valence only, as in the tests.
 */
export async function checkInvariants(
  ironic: IronicDriver,
  storeNodes: readonly Node[],
  options: { allowIntents?: boolean } = {},
): Promise<InvariantReport> {
  const [ironicNodes, ports] = await Promise.all([ironic.findNodes(), ironic.listPorts()]);
  const violations: string[] = [];
  const incomplete: string[] = [];
  const owners = new Map<string, Node[]>();
  for (const node of storeNodes) {
    if (node.managed_by !== "ironic") continue;
    if (!node.ironic_node_uuid) {
      violations.push(`store node ${node.uuid} (${node.name}) says ironic without an Ironic node uuid`);
      continue;
    }
    owners.set(node.ironic_node_uuid, [...(owners.get(node.ironic_node_uuid) ?? []), node]);
  }
  const ironicUuids = new Set(ironicNodes.map((node) => node.uuid));

  for (const node of ironicNodes) {
    const owner = owners.get(node.uuid);
    const mark = typeof node.extra.valence_node_uuid === "string" ? node.extra.valence_node_uuid : "none";
    if (!owner) {
      violations.push(
        `Ironic node ${node.uuid} (${node.name ?? "unnamed"}, marked for ${mark}) is owned by no store node`,
      );
    } else if (owner.length > 1) {
      violations.push(
        `Ironic node ${node.uuid} is claimed by ${owner.length} store nodes: ${owner.map((n) => n.uuid).join(", ")}`,
      );
    }
  }
  for (const port of ports) {
    if (!owners.has(port.node_uuid)) {
      const mark = typeof port.extra?.valence_node_uuid === "string" ? port.extra.valence_node_uuid : "none";
      violations.push(
        `Ironic port ${port.uuid} (${port.address}, marked for ${mark}) hangs on node ${port.node_uuid}, owned by no store node`,
      );
    }
  }
  for (const [uuid, nodes] of owners) {
    for (const node of nodes) {
      if (!ironicUuids.has(uuid)) {
        violations.push(
          `store node ${node.uuid} (${node.name}) says ironic ${uuid}, which Ironic does not have`,
        );
        continue;
      }
      const addresses = new Set(
        ports.filter((p) => p.node_uuid === uuid).map((p) => p.address.toLowerCase()),
      );
      const missing = node.hardware.nics.filter(
        (nic) => nic.enabled && !addresses.has(nic.mac.toLowerCase()),
      );
      if (missing.length > 0) {
        incomplete.push(
          `store node ${node.uuid} (${node.name}): Ironic node ${uuid} lacks ${missing.length} port(s)`,
        );
      }
    }
  }
  if (!options.allowIntents) {
    for (const node of storeNodes) {
      if (node.intent) {
        violations.push(`store node ${node.uuid} (${node.name}) still has a ${node.intent.op} intent`);
      }
    }
  }
  return {
    ironicNodes: ironicNodes.length,
    ironicPorts: ports.length,
    storeIronic: storeNodes.filter((node) => node.managed_by === "ironic").length,
    violations,
    incomplete,
  };
}
