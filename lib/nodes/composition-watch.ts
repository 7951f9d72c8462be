import { OperationInProgressError } from "../errors.ts";
import type { IronicNode } from "../ironic/index.ts";
import { logger } from "../log.ts";
import type { OperationService } from "../operations/service.ts";
import type { PodManagerRepository } from "../podmanagers/repository.ts";
import type { PodManagerSessions } from "../podmanagers/sessions.ts";
import {
  compositionRecord,
  compositionVerdict,
  describeChanges,
  hardwareChanges,
  hasChanges,
  linksOf,
  mayResync,
  mergedDrift,
} from "./hardware-drift.ts";
import type { NewHistoryEvent, NodeHistory } from "./history.ts";
import type { Node } from "./model.ts";
import type { NodeRepository } from "./repository.ts";
import { withHardwareDrift, withSyncedHardware } from "./transitions.ts";

export interface CompositionWatchDeps {
  nodes: NodeRepository;
  podManagers: Pick<PodManagerRepository, "get">;
  sessions: PodManagerSessions;
  history?: NodeHistory | undefined;
  /** Starts the `hardware_sync` operation; without it, drift is only flagged. */
  operations?: Pick<OperationService, "begin"> | undefined;
  now: () => Date;
}

/** What one node's check did, for the pass's summary. */
export type CompositionOutcome = "unchanged" | "recorded" | "flagged" | "syncing" | "updated";

/**
 * The reconciler's part in composition drift (`lib/nodes/hardware-drift.ts` says how it stays cheap): given the
 * links the pass's listing found for the node's system, and Ironic's node as the pass listed it, records a drift
 * (`hardware_drift` history event), and either starts a `hardware_sync` operation (Ironic rests the node unused,
 * nothing runs on it) or flags the node until it rests. A node Valence manages (not in Ironic) just takes the
 * new hardware.
 */
export async function watchComposition(
  node: Node,
  listedLinks: readonly string[] | undefined,
  ironic: Pick<IronicNode, "provision_state"> | undefined,
  pass: { requestId: string },
  deps: CompositionWatchDeps,
): Promise<CompositionOutcome> {
  // A pod manager that links nothing (an RSD node read through its system) gives nothing to compare.
  if (!listedLinks || listedLinks.length === 0 || node.status === "missing") return "unchanged";
  const verdict = compositionVerdict(node, listedLinks, ironic);
  if (verdict.do === "nothing") return "unchanged";
  if (verdict.do === "sync") return (await startSync(node, pass, deps)) ? "syncing" : "flagged";

  const podm = await deps.podManagers.get(node.podm_id);
  if (!podm) return "unchanged";
  const system = await deps.sessions.with(podm, pass.requestId, (client) => client.getSystem(node.index));
  const links = linksOf(system, listedLinks);
  const record = compositionRecord(links);
  const read = { hardware: system.hardware, links: record.links };
  // Against what Ironic has (the stored hardware, the links of the last sync): what a re-sync must write.
  const drift = mergedDrift(node, read, deps.now());
  if (!hasChanges(drift.changes)) {
    // Seen for the first time (a node recorded before links were kept) with the same hardware, or back to what
    // Ironic has (a block removed and added again): the links are kept, nothing to sync.
    await deps.nodes.update(node.uuid, { version: node.version }, withSyncedHardware(node.hardware, record));
    return "recorded";
  }
  // Since the last read: what this pass saw change.
  const seen = hardwareChanges(
    { hardware: node.hardware_drift?.hardware ?? node.hardware, links: node.composition?.links },
    read,
  );
  await append(deps.history, node, pass, {
    action: "hardware_drift",
    outcome: "succeeded",
    ironic_node_uuid: node.ironic_node_uuid,
    detail: `the composition changed: ${describeChanges(seen)}`,
  });
  if (node.managed_by !== "ironic") {
    await deps.nodes.update(node.uuid, { version: node.version }, withSyncedHardware(read.hardware, record));
    return "updated";
  }
  const flagged = await deps.nodes.update(
    node.uuid,
    { version: node.version },
    withHardwareDrift(record, drift),
  );
  if (!mayResync(flagged, ironic)) {
    logger.info("reconcile: the composition changed under a node Ironic uses; flagged", {
      node_uuid: node.uuid,
      provision_state: ironic?.provision_state,
      changes: describeChanges(drift.changes),
    });
    return "flagged";
  }
  return (await startSync(flagged, pass, deps)) ? "syncing" : "flagged";
}

/** Starts the node's `hardware_sync`; false when it could not (another operation took the node first). */
async function startSync(node: Node, pass: { requestId: string }, deps: CompositionWatchDeps) {
  if (!deps.operations) return false;
  try {
    await deps.operations.begin(
      node,
      { kind: "hardware_sync", steps: ["hardware_sync"] },
      { requestId: pass.requestId, principal: "reconciler" },
    );
    return true;
  } catch (error) {
    if (error instanceof OperationInProgressError) return false;
    throw error;
  }
}

async function append(
  history: NodeHistory | undefined,
  node: Node,
  pass: { requestId: string },
  event: Omit<NewHistoryEvent, "actor" | "request_id">,
) {
  await history?.append(node.uuid, { ...event, actor: "reconciler", request_id: pass.requestId });
}
