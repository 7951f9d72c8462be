import { randomUUID } from "node:crypto";
import { VersionConflictError } from "../errors.ts";
import type { IronicDriver, IronicNode } from "../ironic/index.ts";
import { logger } from "../log.ts";
import type { PodManager } from "../podmanagers/model.ts";
import type { PodManagerRepository } from "../podmanagers/repository.ts";
import type { PodManagerSessions } from "../podmanagers/sessions.ts";
import type { NewHistoryEvent, NodeHistory } from "./history.ts";
import { deleteIronicNode } from "./ironic-node.ts";
import type { IronicState, Node, NodeChanges } from "./model.ts";
import type { ReconcileCursor } from "./reconcile-cursor.ts";
import type { NodeRepository } from "./repository.ts";

/** What one pass did. Logged as one line and published as metrics. */
export interface ReconcileSummary {
  checked: number;
  drift: number;
  finished: number;
  rolled_back: number;
  adopted: number;
  missing: number;
  /** Cached Ironic state refreshed on this many nodes. */
  synced: number;
  errors: number;
  /** True when the pass stopped early to stay within its time; the next pass goes on from where it stopped. */
  partial: boolean;
  duration_ms: number;
}

export interface ReconcilerDeps {
  nodes: NodeRepository;
  podManagers: PodManagerRepository;
  sessions: PodManagerSessions;
  ironic: () => Promise<IronicDriver>;
  history?: NodeHistory;
  /** Where an interrupted pass stopped; without one, every pass starts from the beginning. */
  cursor?: ReconcileCursor;
  /** Nodes settled at once. @default 16 */
  concurrency?: number;
  /** An intent older than this belongs to a register/unregister that died. */
  staleIntentMs: number;
  now?: () => Date;
}

export interface ReconcileContext {
  requestId?: string;
  /** Time left; the pass stops well before it runs out. */
  remainingMs: () => number;
}

/** Time kept back at the end of a pass: no node is ever left half-updated by a timeout. */
const SAFETY_MS = 10_000;
const PAGE = 1000;
/** Nodes settled at once. */
const CONCURRENCY = 16;
const IRONIC_FIELDS = [
  "uuid",
  "name",
  "provision_state",
  "power_state",
  "maintenance",
  "last_error",
  "extra",
  "instance_uuid",
] as const;
type IronicSummary = Pick<IronicNode, (typeof IRONIC_FIELDS)[number]>;

/**
 * Makes the store tell the truth again: Ironic and pod managers can change under Valence, and a Lambda can die
 * between two steps of a register. Reads Ironic in bulk (one paginated listing, never a GET per node) and the
 * store through its indexes; every change is one conditional update on the node's `version`, so two passes at
 * once settle on the same end state.
 */
export class Reconciler {
  private readonly now: () => Date;

  constructor(private readonly deps: ReconcilerDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async run(context: ReconcileContext): Promise<ReconcileSummary> {
    const started = Date.now();
    const requestId = context.requestId ?? randomUUID();
    const summary: ReconcileSummary = {
      checked: 0,
      drift: 0,
      finished: 0,
      rolled_back: 0,
      adopted: 0,
      missing: 0,
      synced: 0,
      errors: 0,
      partial: false,
      duration_ms: 0,
    };
    const ironic = (await this.deps.ironic()).withContext({
      requestId: `req-${randomUUID()}`,
      deadline: () => context.remainingMs() - SAFETY_MS,
    });

    // Ironic in bulk, and each pod manager's composed systems, all at once.
    const [ironicListing, systems] = await Promise.all([
      this.listIronic(ironic, summary),
      this.listSystems(requestId, summary),
    ]);
    const ironicNodes = ironicListing?.byUuid;
    const byValenceUuid = ironicListing?.byValenceUuid ?? new Map<string, IronicSummary>();

    const seen = new Set<string>();
    const resumed = await this.startingPoint();
    let marker = resumed;
    let lastSettled: string | undefined;
    const pass: Pass = { ironic, ironicNodes, byValenceUuid, systems, summary, requestId };
    pages: do {
      const page = await this.deps.nodes.list({ limit: PAGE, marker });
      // A few nodes at a time: each is independent (its own conditional update), and a first pass that caches
      // state on every node is write-bound.
      const concurrency = this.deps.concurrency ?? CONCURRENCY;
      for (let start = 0; start < page.items.length; start += concurrency) {
        if (context.remainingMs() < SAFETY_MS) {
          summary.partial = true;
          break pages;
        }
        const batch = page.items.slice(start, start + concurrency);
        await Promise.all(batch.map((node) => this.settleSafely(node, pass)));
        for (const node of batch) seen.add(node.uuid);
        lastSettled = batch.at(-1)?.uuid ?? lastSettled;
        summary.checked += batch.length;
      }
      marker = page.next;
    } while (marker);
    // Written only when it changes: a pass that starts and ends at the beginning leaves it alone.
    if (summary.partial) await this.deps.cursor?.set(lastSettled ?? resumed);
    else if (resumed !== undefined) await this.deps.cursor?.set(undefined);

    // Ironic nodes that carry our mark for a node we no longer have at all: debris of a lost register. Only a
    // pass that saw every node can tell.
    if (ironicNodes && !summary.partial && resumed === undefined) {
      for (const [owner, orphan] of byValenceUuid) {
        if (seen.has(owner) || (await this.deps.nodes.get(owner))) continue;
        if (orphan.instance_uuid || orphan.provision_state === "active") continue; // a workload: an operator decides
        try {
          await deleteIronicNode(ironic, orphan.uuid, "orphan of a lost Valence register");
          summary.rolled_back++;
        } catch (error) {
          summary.errors++;
          logger.error("reconcile: cannot remove an orphan", {
            ironic_node_uuid: orphan.uuid,
            error: (error as Error).message,
          });
        }
      }
    }

    summary.duration_ms = Date.now() - started;
    return summary;
  }

  /** Every Ironic node, one paginated listing. Undefined when Ironic cannot be read: those cases wait. */
  private async listIronic(ironic: IronicDriver, summary: ReconcileSummary) {
    try {
      const byUuid = new Map<string, IronicSummary>();
      const byValenceUuid = new Map<string, IronicSummary>();
      for await (const node of ironic.listNodes({ limit: PAGE, fields: IRONIC_FIELDS })) {
        byUuid.set(node.uuid, node);
        const owner = node.extra?.valence_node_uuid;
        if (typeof owner === "string") byValenceUuid.set(owner, node);
      }
      return { byUuid, byValenceUuid };
    } catch (error) {
      summary.errors++;
      logger.error("reconcile: cannot list Ironic nodes", { error: (error as Error).message });
      return undefined;
    }
  }

  /** Each pod manager's composed systems, in parallel; a failing one only blinds us to its own nodes. */
  private async listSystems(requestId: string, summary: ReconcileSummary) {
    const systems = new Map<string, Set<string>>();
    const podms = await this.deps.podManagers.list();
    await Promise.all(
      podms.map(async (podm: PodManager) => {
        try {
          const listed = await this.deps.sessions.with(podm, requestId, (client) =>
            client.listComposedSystems(),
          );
          systems.set(podm.uuid, new Set(listed.map((system) => system.index)));
        } catch (error) {
          summary.errors++;
          logger.error("reconcile: cannot list a pod manager's systems", {
            podm_id: podm.uuid,
            error: (error as Error).message,
          });
        }
      }),
    );
    return systems;
  }

  /** The node after which an earlier, interrupted pass stopped; undefined to start from the beginning. */
  private async startingPoint(): Promise<string | undefined> {
    const marker = await this.deps.cursor?.get();
    // The marker node may have been deleted since; then start over rather than fail.
    if (marker && !(await this.deps.nodes.get(marker))) return undefined;
    return marker;
  }

  private async settleSafely(node: Node, pass: Pass): Promise<void> {
    try {
      await this.settle(node, pass);
    } catch (error) {
      if (error instanceof VersionConflictError) return; // someone else changed it: their write stands
      pass.summary.errors++;
      logger.error("reconcile: node not settled", { node_uuid: node.uuid, error: (error as Error).message });
    }
  }

  private async settle(node: Node, pass: Pass): Promise<void> {
    const { ironicNodes, byValenceUuid, systems, summary } = pass;
    const intent = node.intent;
    if (intent) {
      const age = this.now().getTime() - Date.parse(intent.started_at);
      if (age < this.deps.staleIntentMs || !ironicNodes) return; // still running, or we cannot see Ironic
      if (intent.op === "registering") return this.finishOrUndoRegister(node, pass);
      if (intent.op === "unregistering") return this.finishUnregister(node, pass);
      // An interrupted decompose: the record stays until someone deletes it again.
      await this.update(node, { intent: null });
      return;
    }

    const system = systems.get(node.podm_id);
    if (system) {
      const gone = !system.has(node.index);
      if (gone && node.status !== "missing") {
        await this.update(node, { status: "missing" }, pass, {
          action: "missing",
          outcome: "succeeded",
          detail: `pod manager ${node.podm_id} no longer has system ${node.index}`,
        });
        summary.missing++;
        node = { ...node, status: "missing", version: node.version + 1 };
      } else if (!gone && node.status === "missing") {
        await this.update(node, { status: "ok" }, pass, { action: "found", outcome: "succeeded" });
        node = { ...node, status: "ok", version: node.version + 1 };
      }
    }
    if (!ironicNodes) return;

    if (node.managed_by === "ironic") {
      const current = node.ironic_node_uuid ? ironicNodes.get(node.ironic_node_uuid) : undefined;
      if (!current) {
        await this.update(
          node,
          { managed_by: "valence", ironic_node_uuid: null, registered_at: null, ironic_state: null },
          pass,
          {
            action: "drift",
            outcome: "succeeded",
            ironic_node_uuid: node.ironic_node_uuid,
            detail: "the Ironic node is gone; the node is Valence's again",
          },
        );
        summary.drift++;
        return;
      }
      const state = this.stateOf(current, node.ironic_state);
      if (state) {
        await this.update(node, { ironic_state: state });
        summary.synced++;
      }
      return;
    }

    const claimed = byValenceUuid.get(node.uuid);
    if (claimed) {
      await this.update(
        node,
        {
          managed_by: "ironic",
          ironic_node_uuid: claimed.uuid,
          registered_at: this.now().toISOString(),
          ironic_state: this.stateOf(claimed, null),
        },
        pass,
        {
          action: "adopt",
          outcome: "succeeded",
          ironic_node_uuid: claimed.uuid,
          detail: "Ironic has a node marked as this one",
        },
      );
      summary.adopted++;
    }
  }

  /** A register that died: finish it when Ironic has the whole node, otherwise remove what it created. */
  private async finishOrUndoRegister(node: Node, pass: Pass): Promise<void> {
    const { ironic, ironicNodes, byValenceUuid, summary } = pass;
    const intended = node.intent?.ironic_node_uuid
      ? ironicNodes?.get(node.intent.ironic_node_uuid)
      : undefined;
    const created = intended ?? byValenceUuid.get(node.uuid);
    if (created) {
      const ports = new Set(
        (await ironic.listPorts({ node_uuid: created.uuid })).map((port) => port.address),
      );
      const wanted = node.hardware.nics.filter((nic) => nic.enabled).map((nic) => nic.mac.toLowerCase());
      if (wanted.length > 0 && wanted.every((mac) => ports.has(mac))) {
        await this.update(
          node,
          {
            managed_by: "ironic",
            ironic_node_uuid: created.uuid,
            registered_at: this.now().toISOString(),
            intent: null,
            ironic_state: this.stateOf(created, null),
          },
          pass,
          { action: "finish-register", outcome: "succeeded", ironic_node_uuid: created.uuid },
        );
        summary.finished++;
        return;
      }
      await deleteIronicNode(ironic, created.uuid, "rollback of an interrupted Valence register");
    }
    await this.update(node, { intent: null }, pass, {
      action: "rollback",
      outcome: "succeeded",
      ironic_node_uuid: created?.uuid ?? null,
      detail: created
        ? "the interrupted register left an incomplete Ironic node; deleted"
        : "nothing was left in Ironic",
    });
    summary.rolled_back++;
  }

  private async finishUnregister(node: Node, pass: Pass): Promise<void> {
    const uuid = node.intent?.ironic_node_uuid ?? node.ironic_node_uuid;
    if (uuid && pass.ironicNodes?.has(uuid)) {
      await deleteIronicNode(pass.ironic, uuid, "finishing an interrupted Valence unregister");
    }
    await this.update(
      node,
      {
        managed_by: "valence",
        ironic_node_uuid: null,
        registered_at: null,
        intent: null,
        ironic_state: null,
      },
      pass,
      { action: "finish-unregister", outcome: "succeeded", ironic_node_uuid: uuid ?? null },
    );
    pass.summary.finished++;
  }

  /** The cached state when it differs from what Ironic says now; undefined when nothing changed. */
  private stateOf(current: IronicSummary, cached: IronicState | null | undefined): IronicState | undefined {
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
    return { ...next, synced_at: this.now().toISOString() };
  }

  private async update(
    node: Node,
    changes: NodeChanges,
    pass?: Pass,
    event?: Omit<NewHistoryEvent, "actor" | "request_id">,
  ): Promise<void> {
    await this.deps.nodes.update(node.uuid, { version: node.version }, changes);
    if (event && pass) {
      await this.deps.history?.append(node.uuid, {
        ...event,
        actor: "reconciler",
        request_id: pass.requestId,
      });
    }
  }
}

interface Pass {
  ironic: IronicDriver;
  ironicNodes: Map<string, IronicSummary> | undefined;
  byValenceUuid: Map<string, IronicSummary>;
  systems: Map<string, Set<string>>;
  summary: ReconcileSummary;
  requestId: string;
}
