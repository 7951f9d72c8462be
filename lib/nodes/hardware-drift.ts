import { createHash } from "node:crypto";
import type { IronicNode } from "../ironic/index.ts";
import type { ComposedSystem } from "../redfish/index.ts";
import type { CompositionRecord, Hardware, HardwareChanges, HardwareDrift, Node } from "./model.ts";

/**
 * Composition drift: the pod manager's composition can change under a registered node (a resource block added
 * or removed). How the reconciler notices it cheaply:
 *
 * - Every pass already GETs each composed system (DMTF) or ComposedNode (RSD) to list them; what defines the
 *   hardware is linked from that very resource (`Links.ResourceBlocks`, RSD device links), so the listing carries
 *   it (`lib/redfish/composition.ts`) at no extra request. The node keeps the sha256 of those links
 *   (`composition.digest`); an unchanged digest costs no request and no write.
 * - Only when the digest moved (or the node has none yet) is the system read in full, and its hardware compared
 *   with the stored one. ETags were not used: DMTF does not require them on a system, the emulator and RSD PODMs
 *   send none, and a resource's ETag also changes with its power state and boot override, which are no drift.
 */

/** Ironic provision states a node rests in without being used: Valence may change its properties and ports. */
export const AT_REST_STATES: ReadonlySet<string> = new Set(["enroll", "manageable", "available"]);

/** The record of a composition's links: their digest and the links themselves (what a diff names). */
export function compositionRecord(links: readonly string[]): CompositionRecord {
  const sorted = [...new Set(links)].sort();
  return { digest: createHash("sha256").update(JSON.stringify(sorted)).digest("hex"), links: sorted };
}

const PROPERTIES = ["cpus", "memory_mb", "local_gb", "cpu_arch"] as const;

const enabledMacs = (hardware: Hardware) =>
  new Set(hardware.nics.filter((nic) => nic.enabled).map((nic) => nic.mac.toLowerCase()));

const minus = <T>(a: Iterable<T>, b: ReadonlySet<T>) => [...a].filter((item) => !b.has(item)).sort();

/**
 * What changed from one read of a composition to the next: links (resource blocks) gained and lost — none when
 * the earlier links are unknown (a node recorded before they were kept) — properties before → after, enabled MACs
 * gained and lost.
 */
export function hardwareChanges(
  before: { hardware: Hardware; links?: readonly string[] | undefined },
  after: { hardware: Hardware; links: readonly string[] },
): HardwareChanges {
  const beforeLinks = new Set(before.links ?? after.links);
  const afterLinks = new Set(after.links);
  const beforeMacs = enabledMacs(before.hardware);
  const afterMacs = enabledMacs(after.hardware);
  return {
    blocks_added: minus(afterLinks, beforeLinks),
    blocks_removed: minus(beforeLinks, afterLinks),
    properties: PROPERTIES.flatMap((name) => {
      const was = String(before.hardware[name]);
      const now = String(after.hardware[name]);
      return was === now ? [] : [{ name, before: was, after: now }];
    }),
    macs_added: minus(afterMacs, beforeMacs),
    macs_removed: minus(beforeMacs, afterMacs),
  };
}

export function hasChanges(changes: HardwareChanges): boolean {
  return (
    changes.blocks_added.length +
      changes.blocks_removed.length +
      changes.properties.length +
      changes.macs_added.length +
      changes.macs_removed.length >
    0
  );
}

/** One sentence for the history: `blocks added ...; cpus 16 → 32; MACs removed ...`. */
export function describeChanges(changes: HardwareChanges): string {
  const parts: string[] = [];
  if (changes.blocks_added.length) parts.push(`blocks added ${changes.blocks_added.join(", ")}`);
  if (changes.blocks_removed.length) parts.push(`blocks removed ${changes.blocks_removed.join(", ")}`);
  for (const { name, before, after } of changes.properties) parts.push(`${name} ${before} → ${after}`);
  if (changes.macs_added.length) parts.push(`MACs added ${changes.macs_added.join(", ")}`);
  if (changes.macs_removed.length) parts.push(`MACs removed ${changes.macs_removed.join(", ")}`);
  return parts.length ? parts.join("; ") : "no change";
}

/**
 * The node's drift after this read: from the hardware Ironic has (the stored one) to the latest read. A second
 * change while one is pending (a block added, then another, while `active`) is one drift, first seen then: its
 * links are compared with those of the last sync (the recorded ones, the pending drift's blocks undone).
 */
export function mergedDrift(
  node: Pick<Node, "hardware" | "hardware_drift" | "composition">,
  read: { hardware: Hardware; links: readonly string[] },
  at: Date,
): HardwareDrift {
  return {
    since: node.hardware_drift?.since ?? at.toISOString(),
    changes: hardwareChanges({ hardware: node.hardware, links: syncedLinks(node) }, read),
    hardware: read.hardware,
  };
}

/** The links Ironic's hardware was read from: the recorded ones, a pending drift's blocks undone. */
export function syncedLinks(node: Pick<Node, "hardware_drift" | "composition">): string[] | undefined {
  const recorded = node.composition?.links;
  const pending = node.hardware_drift?.changes;
  if (!recorded || !pending) return recorded;
  const added = new Set(pending.blocks_added);
  return [...recorded.filter((link) => !added.has(link)), ...pending.blocks_removed].sort();
}

/** What the reconciler does about one node's composition this pass. */
export type CompositionVerdict =
  /** Unchanged, nothing pending: no request, no write. */
  | { do: "nothing" }
  /** The digest moved (or was never kept): read the system in full. */
  | { do: "read" }
  /** A drift is pending and the node may be synced now. */
  | { do: "sync" };

/** Pure: from the listing's links and the node as stored, what this pass does (before any full read). */
export function compositionVerdict(
  node: Pick<Node, "composition" | "hardware_drift" | "managed_by" | "operation" | "intent">,
  listedLinks: readonly string[],
  ironic: Pick<IronicNode, "provision_state"> | undefined,
): CompositionVerdict {
  if (node.composition?.digest !== compositionRecord(listedLinks).digest) return { do: "read" };
  if (node.hardware_drift && mayResync(node, ironic)) return { do: "sync" };
  return { do: "nothing" };
}

/** Ironic rests with the node unused and Valence runs nothing on it: its properties and ports may change. */
export function mayResync(
  node: Pick<Node, "managed_by" | "operation" | "intent">,
  ironic: Pick<IronicNode, "provision_state"> | undefined,
): boolean {
  return (
    node.managed_by === "ironic" &&
    !node.operation &&
    !node.intent &&
    ironic !== undefined &&
    AT_REST_STATES.has(ironic.provision_state)
  );
}

/** The links a full read found, the listing's when the client gave none. */
export function linksOf(system: Pick<ComposedSystem, "composition">, listed: readonly string[]): string[] {
  return system.composition ?? [...listed];
}
