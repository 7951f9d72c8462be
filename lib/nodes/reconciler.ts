import { randomUUID } from "node:crypto";
import { VersionConflictError } from "../errors.ts";
import { nodeEvent, reconcilerDetailType } from "../events/build.ts";
import { type EventPublisher, publishQuietly } from "../events/publisher.ts";
import type { ValenceEvent } from "../events/schemas.ts";
import type { IronicNode } from "../ironic/index.ts";
import { logger } from "../log.ts";
import type { OperationService } from "../operations/service.ts";
import type { PodManager } from "../podmanagers/model.ts";
import type { PodManagerRepository } from "../podmanagers/repository.ts";
import type { PodManagerSessions } from "../podmanagers/sessions.ts";
import { type CompositionOutcome, watchComposition } from "./composition-watch.ts";
import type { NewHistoryEvent, NodeHistory } from "./history.ts";
import { deleteIronicNode } from "./ironic-node.ts";
import type { IronicNodesPort } from "./ironic-port.ts";
import type { IronicState, Node } from "./model.ts";
import {
  DEPLOYMENT_MARK,
  type DeploymentIdentity,
  interruptedRegisterAction,
  inUse,
  namedNodeOf,
  type Ownership,
  ownershipOf,
} from "./ownership.ts";
import type { ReconcileCursor } from "./reconcile-cursor.ts";
import { inOrderPool, readStoreAhead, type StorePage } from "./reconcile-pages.ts";
import type { NodeRepository } from "./repository.ts";
import {
  changedIronicState,
  type Transition,
  toFound,
  toMissing,
  toRegistered,
  toUnregistered,
  withIronicState,
  withoutIntent,
} from "./transitions.ts";

/** What one pass did. Logged as one line and published as metrics. */
export interface ReconcileSummary {
  checked: number;
  drift: number;
  finished: number;
  rolled_back: number;
  adopted: number;
  missing: number;
  /**
   * Nodes whose composition changed under them (a resource block added or removed): `hardware_synced` of them
   * got a `hardware_sync` operation, the others (in use by Ironic, or busy) were flagged.
   */
  hardware_drift: number;
  hardware_synced: number;
  /** Cached Ironic state refreshed on this many nodes. */
  synced: number;
  /**
   * Ironic nodes that look like debris of a register but that this deployment cannot prove it created: they name
   * a Valence node this store does not have, or carry no deployment mark. Each is logged (WARN), never deleted.
   */
  orphans: number;
  /** Pod managers that did not answer: their status is set to `offline` (and back to `online` when they do). */
  podms_offline: number;
  /** Operations still in flight well past their deadline, which no workflow ran any more: failed, nodes freed. */
  abandoned: number;
  errors: number;
  /** True when the pass stopped early to stay within its time; the next pass goes on from where it stopped. */
  partial: boolean;
  duration_ms: number;
}

export interface ReconcilerDeps {
  nodes: NodeRepository;
  podManagers: PodManagerRepository;
  sessions: PodManagerSessions;
  ironic: () => Promise<IronicNodesPort>;
  /** This deployment's identity: the reconciler never touches an Ironic node marked by another. */
  deployment: DeploymentIdentity;
  history?: NodeHistory;
  /** Where drift and the registers and unregisters a pass settles are announced. @default no events */
  events?: EventPublisher;
  /** Where an interrupted pass stopped; without one, every pass starts from the beginning. */
  cursor?: ReconcileCursor;
  /** Nodes settled at once. @default 16 */
  concurrency?: number;
  /** An intent older than this belongs to a register/unregister that died. */
  staleIntentMs: number;
  /**
   * Fails operations no workflow runs any more (past their deadline) and frees their nodes; starts a node's
   * `hardware_sync` when its composition changed. @default none (drift is then only flagged)
   */
  operations?: Pick<OperationService, "failAbandoned" | "begin">;
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
/** EventBridge takes up to ten entries per PutEvents. */
const EVENTS_PER_PUBLISH = 10;
/** How long past its deadline an operation still in flight is left to its workflow (which fails it itself). */
const ABANDONED_GRACE_MS = 15 * 60_000;
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
 *
 * Ironic may be shared with other Valence deployments: an Ironic node marked with another deployment's identity
 * is never adopted, updated or deleted, and an Ironic node is deleted only when this deployment's own record
 * (a node with a stale `registering` intent that the Ironic node names) proves it is debris of our register.
 */
export class Reconciler {
  private readonly now: () => Date;

  constructor(private readonly deps: ReconcilerDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /**
   * One pass, as named steps: what it reads (Ironic, the pod managers and the store, all at once), the store's
   * nodes settled a few at a time, where it stopped, the orphans only a whole pass can tell, abandoned operations.
   */
  async run(context: ReconcileContext): Promise<ReconcileSummary> {
    const started = Date.now();
    const pass = await this.begin(context);
    const { resumed, store } = await this.readSources(pass);
    const walk = await this.settleStore(pass, store, context);
    await this.saveCursor(walk, resumed);
    // Only a pass that saw every node can tell that an Ironic node names one the store does not have.
    if (pass.ironicNodes && !walk.partial && resumed === undefined) await this.reportOrphans(pass, walk.seen);
    pass.summary.partial = walk.partial;
    pass.summary.abandoned = await this.failAbandonedSafely(pass.summary);
    pass.summary.duration_ms = Date.now() - started;
    return pass.summary;
  }

  /** The pass's identity and an empty summary; Ironic's calls carry the pass's deadline. */
  private async begin(context: ReconcileContext): Promise<Pass> {
    const deploymentId = await this.deps.deployment.id();
    const ironic = (await this.deps.ironic()).withContext({
      requestId: `req-${randomUUID()}`,
      deadline: () => context.remainingMs() - SAFETY_MS,
    });
    return {
      ironic,
      ironicNodes: undefined,
      byValenceUuid: new Map(),
      systems: new Map(),
      summary: emptySummary(),
      requestId: context.requestId ?? randomUUID(),
      deploymentId,
      events: [],
    };
  }

  /**
   * Ironic in bulk, each pod manager's composed systems, and the store from where the last pass stopped, all at
   * once: the store's pages are read ahead (`readStoreAhead`) while Ironic lists, so a pass costs about its
   * slowest listing rather than their sum.
   */
  private async readSources(pass: Pass) {
    const resumedAt = this.startingPoint();
    const store = resumedAt.then((marker) => readStoreAhead(this.deps.nodes, marker, PAGE));
    // Awaited below: a failing store read fails the pass there, never as an unhandled rejection meanwhile.
    store.catch(() => undefined);
    const [ironicListing, systems] = await Promise.all([
      this.listIronic(pass.ironic, pass.summary, pass.deploymentId),
      this.listSystems(pass.requestId, pass.summary),
    ]);
    pass.ironicNodes = ironicListing?.byUuid;
    if (ironicListing) pass.byValenceUuid = ironicListing.byValenceUuid;
    pass.systems = systems;
    return { resumed: await resumedAt, store: await store };
  }

  /**
   * Every node from the starting point on, page by page, `concurrency` at a time: each is independent (its own
   * conditional update), and a first pass that caches state on every node is write-bound. Stops, with no node
   * half-settled, when the time left runs short; `last` is then the node after which the next pass goes on.
   */
  private async settleStore(
    pass: Pass,
    store: { first: Promise<StorePage>; stop(): void },
    context: ReconcileContext,
  ): Promise<StoreWalk> {
    const walk: StoreWalk = { seen: new Set(), last: undefined, partial: false };
    const concurrency = this.deps.concurrency ?? CONCURRENCY;
    const outOfTime = () => context.remainingMs() < SAFETY_MS;
    let page: Promise<StorePage> | undefined = store.first;
    try {
      while (page && !walk.partial) {
        const { items, next }: StorePage = await page;
        const { started, stopped } = await inOrderPool(items, concurrency, outOfTime, async (node) => {
          await this.settleSafely(node, pass);
          walk.seen.add(node.uuid);
          pass.summary.checked++;
          if (pass.events.length >= EVENTS_PER_PUBLISH) await this.publishEvents(pass);
        });
        await this.publishEvents(pass);
        walk.last = items[started - 1]?.uuid ?? walk.last;
        walk.partial = stopped;
        page = next;
      }
    } finally {
      store.stop(); // out of time, or a page failed: read no further
    }
    return walk;
  }

  private async publishEvents(pass: Pass): Promise<void> {
    await publishQuietly(this.deps.events, pass.events.splice(0));
  }

  /** Written only when it changes: a pass that starts and ends at the beginning leaves it alone. */
  private async saveCursor(walk: StoreWalk, resumed: string | undefined): Promise<void> {
    if (walk.partial) await this.deps.cursor?.set(walk.last ?? resumed);
    else if (resumed !== undefined) await this.deps.cursor?.set(undefined);
  }

  /**
   * Ironic nodes (ours or unmarked) that name a Valence node this store does not have at all. Nothing of ours
   * proves we created them — a record is what proves it — so they are reported, never deleted.
   */
  private async reportOrphans(pass: Pass, seen: ReadonlySet<string>): Promise<void> {
    for (const [owner, orphan] of pass.byValenceUuid) {
      if (seen.has(owner) || (await this.deps.nodes.get(owner))) continue;
      pass.summary.orphans++;
      logger.warn(
        "reconcile: an Ironic node names a Valence node this deployment does not have; left alone",
        {
          ironic_node_uuid: orphan.uuid,
          ironic_node_name: orphan.name,
          valence_node_uuid: owner,
          deployment_mark: ownershipOf(orphan.extra, pass.deploymentId),
          provision_state: orphan.provision_state,
        },
      );
    }
  }

  private async failAbandonedSafely(summary: ReconcileSummary): Promise<number> {
    try {
      return (await this.deps.operations?.failAbandoned(ABANDONED_GRACE_MS)) ?? 0;
    } catch (error) {
      summary.errors++;
      logger.error("reconcile: could not fail abandoned operations", { error: (error as Error).message });
      return 0;
    }
  }

  /**
   * Every Ironic node, one paginated listing, and those that name a Valence node, other deployments' left out.
   * Undefined when Ironic cannot be read: those cases wait.
   */
  private async listIronic(ironic: IronicNodesPort, summary: ReconcileSummary, deploymentId: string) {
    try {
      const byUuid = new Map<string, IronicSummary>();
      const byValenceUuid = new Map<string, IronicSummary>();
      for await (const node of ironic.listNodes({ limit: PAGE, fields: IRONIC_FIELDS })) {
        byUuid.set(node.uuid, node);
        const owner = namedNodeOf(node.extra);
        if (owner && ownershipOf(node.extra, deploymentId) !== "foreign") byValenceUuid.set(owner, node);
      }
      return { byUuid, byValenceUuid };
    } catch (error) {
      summary.errors++;
      logger.error("reconcile: cannot list Ironic nodes", { error: (error as Error).message });
      return undefined;
    }
  }

  /**
   * Each pod manager's composed systems, in parallel; a failing one only blinds us to its own nodes. Whether it
   * answered is its `status` (`online` / `offline`), not an error of the pass.
   */
  private async listSystems(requestId: string, summary: ReconcileSummary) {
    const systems = new Map<string, ListedSystems>();
    const podms = await this.deps.podManagers.list();
    await Promise.all(
      podms.map(async (podm: PodManager) => {
        try {
          const listed = await this.deps.sessions.with(podm, requestId, (client) =>
            client.listComposedSystems(),
          );
          systems.set(podm.uuid, {
            podm,
            byIndex: new Map(listed.map((system) => [system.index, system.composition])),
          });
        } catch (error) {
          summary.podms_offline++;
          await this.setPodManagerStatus(podm, "offline");
          const nodes = await this.deps.nodes.countByPodManager(podm.uuid).catch(() => undefined);
          const fields = { podm_id: podm.uuid, nodes, error: (error as Error).message };
          // Its nodes cannot be checked while it is away; a pod manager without nodes only changes status.
          if (nodes === 0) logger.info("reconcile: pod manager offline", fields);
          else logger.warn("reconcile: pod manager offline; its nodes' systems are not checked", fields);
          return;
        }
        await this.setPodManagerStatus(podm, "online");
      }),
    );
    return systems;
  }

  /** The status is advisory: a concurrent change of the pod manager wins, and the next pass sets it again. */
  private async setPodManagerStatus(podm: PodManager, status: "online" | "offline"): Promise<void> {
    if (podm.status === status) return;
    try {
      await this.deps.podManagers.update(podm.uuid, podm.version, { status });
    } catch (error) {
      if (error instanceof VersionConflictError) return;
      logger.warn("reconcile: cannot record a pod manager's status", {
        podm_id: podm.uuid,
        status,
        error: (error as Error).message,
      });
    }
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
      await this.update(node, withoutIntent());
      return;
    }

    const system = systems.get(node.podm_id);
    if (system) {
      const gone = !system.byIndex.has(node.index);
      if (gone && node.status !== "missing") {
        node = await this.update(node, toMissing(), pass, {
          action: "missing",
          outcome: "succeeded",
          detail: `pod manager ${node.podm_id} no longer has system ${node.index}`,
        });
        summary.missing++;
      } else if (!gone && node.status === "missing") {
        node = await this.update(node, toFound(), pass, { action: "found", outcome: "succeeded" });
      }
    }
    if (!ironicNodes) return;

    if (node.managed_by === "ironic") {
      const current = node.ironic_node_uuid ? ironicNodes.get(node.ironic_node_uuid) : undefined;
      if (!current) {
        await this.update(node, toUnregistered(), pass, {
          action: "drift",
          outcome: "succeeded",
          ironic_node_uuid: node.ironic_node_uuid,
          detail: "the Ironic node is gone; the node is Valence's again",
        });
        summary.drift++;
        return;
      }
      const state = changedIronicState(current, node.ironic_state, this.now());
      if (state) {
        node = await this.cacheIronicState(node, state);
        summary.synced++;
      }
      await this.followComposition(node, current, pass);
      return;
    }

    const claimed = byValenceUuid.get(node.uuid);
    if (claimed) {
      await this.registerAs(node, claimed, pass, {
        action: "adopt",
        outcome: "succeeded",
        ironic_node_uuid: claimed.uuid,
        detail: "Ironic has a node marked as this one",
      });
      summary.adopted++;
      return;
    }
    await this.followComposition(node, undefined, pass);
  }

  /**
   * Composition drift (`lib/nodes/composition-watch.ts`): the listing's links of the node's system against the
   * node's; costs nothing while they match. Its failure (the pod manager fails the full read) is this node's only.
   */
  private async followComposition(node: Node, ironic: IronicSummary | undefined, pass: Pass): Promise<void> {
    const listed = pass.systems.get(node.podm_id);
    if (!listed?.byIndex.has(node.index)) return;
    let outcome: CompositionOutcome;
    try {
      outcome = await watchComposition(node, listed.byIndex.get(node.index), ironic, pass, {
        nodes: this.deps.nodes,
        podManagers: { get: async (uuid) => (uuid === listed.podm.uuid ? listed.podm : undefined) },
        sessions: this.deps.sessions,
        history: this.deps.history,
        operations: this.deps.operations,
        now: this.now,
      });
    } catch (error) {
      if (error instanceof VersionConflictError) return; // changed meanwhile: the next pass looks again
      pass.summary.errors++;
      logger.error("reconcile: composition not checked", {
        node_uuid: node.uuid,
        error: (error as Error).message,
      });
      return;
    }
    if (outcome === "flagged" || outcome === "syncing" || outcome === "updated")
      pass.summary.hardware_drift++;
    if (outcome === "syncing") pass.summary.hardware_synced++;
  }

  /** An unmarked Ironic node we take on gets this deployment's mark, as one a register adopts does. */
  /** The node is registered as `ironicNode`, which is marked as this deployment's first. */
  private async registerAs(
    node: Node,
    ironicNode: IronicSummary,
    pass: Pass,
    event: Omit<NewHistoryEvent, "actor" | "request_id">,
  ): Promise<void> {
    await this.markAsOurs(ironicNode, pass);
    await this.update(
      node,
      toRegistered({
        ironicNodeUuid: ironicNode.uuid,
        at: this.now(),
        ironicState: changedIronicState(ironicNode, null, this.now()) ?? null,
      }),
      pass,
      event,
    );
  }

  private async markAsOurs(ironicNode: IronicSummary, pass: Pass): Promise<void> {
    if (ownershipOf(ironicNode.extra, pass.deploymentId) === "ours") return;
    await pass.ironic.updateNode(ironicNode.uuid, [
      { op: "add", path: `/extra/${DEPLOYMENT_MARK}`, value: pass.deploymentId },
    ]);
  }

  /**
   * A register that died: finish it when Ironic has the whole node (or uses it), remove what it created when
   * that is provably ours and unused, and otherwise leave it and say so.
   */
  private async finishOrUndoRegister(node: Node, pass: Pass): Promise<void> {
    const { ironic, ironicNodes, byValenceUuid, summary, deploymentId } = pass;
    const intended = node.intent?.ironic_node_uuid
      ? ironicNodes?.get(node.intent.ironic_node_uuid)
      : undefined;
    const named = intended && ownershipOf(intended.extra, deploymentId) !== "foreign" ? intended : undefined;
    const created = named ?? byValenceUuid.get(node.uuid);
    if (!created) {
      await this.update(node, withoutIntent(), pass, {
        action: "rollback",
        outcome: "succeeded",
        ironic_node_uuid: null,
        detail: "nothing was left in Ironic",
      });
      summary.rolled_back++;
      return;
    }

    const ports = new Set((await ironic.listPorts({ node_uuid: created.uuid })).map((port) => port.address));
    const wanted = node.hardware.nics.filter((nic) => nic.enabled).map((nic) => nic.mac.toLowerCase());
    const complete = wanted.length > 0 && wanted.every((mac) => ports.has(mac));
    const ownership = ownershipOf(created.extra, deploymentId) as Exclude<Ownership, "foreign">;
    const used = inUse(created);
    const action = interruptedRegisterAction({ ownership, complete, inUse: used });

    if (action === "finish") {
      await this.registerAs(node, created, pass, {
        action: "finish-register",
        outcome: "succeeded",
        ironic_node_uuid: created.uuid,
        ...(complete ? {} : { detail: "Ironic uses the node, so it is kept although ports are missing" }),
      });
      summary.finished++;
      return;
    }

    if (action === "delete") {
      await deleteIronicNode(ironic, created.uuid, "rollback of an interrupted Valence register");
      await this.update(node, withoutIntent(), pass, {
        action: "rollback",
        outcome: "succeeded",
        ironic_node_uuid: created.uuid,
        detail: "the interrupted register left an incomplete Ironic node; deleted",
      });
      summary.rolled_back++;
      return;
    }

    // Not provably ours: the node is free again, and the Ironic node is left for an operator.
    summary.orphans++;
    logger.warn(
      "reconcile: an interrupted register left an Ironic node without this deployment's mark; left alone",
      {
        node_uuid: node.uuid,
        ironic_node_uuid: created.uuid,
        provision_state: created.provision_state,
      },
    );
    await this.update(node, withoutIntent(), pass, {
      action: "rollback",
      outcome: "failed",
      ironic_node_uuid: created.uuid,
      detail:
        "the interrupted register left an incomplete Ironic node without this deployment's mark; left for an operator",
    });
  }

  private async finishUnregister(node: Node, pass: Pass): Promise<void> {
    const uuid = node.intent?.ironic_node_uuid ?? node.ironic_node_uuid;
    const target = uuid ? pass.ironicNodes?.get(uuid) : undefined;
    if (target) {
      if (ownershipOf(target.extra, pass.deploymentId) === "foreign") {
        logger.warn("reconcile: the node's Ironic node belongs to another deployment; not deleted", {
          node_uuid: node.uuid,
          ironic_node_uuid: target.uuid,
        });
      } else {
        await deleteIronicNode(pass.ironic, target.uuid, "finishing an interrupted Valence unregister");
      }
    }
    await this.update(node, toUnregistered(), pass, {
      action: "finish-unregister",
      outcome: "succeeded",
      ironic_node_uuid: uuid ?? null,
    });
    pass.summary.finished++;
  }

  /**
   * Caches Ironic's state on the node. A write that landed but whose answer was lost (the SDK's retry then fails
   * the version condition) counts as written: no other writer makes this one, its `synced_at` included.
   */
  private cacheIronicState(node: Node, state: IronicState): Promise<Node> {
    return this.deps.nodes.update(
      node.uuid,
      { version: node.version, acceptLanded: true },
      withIronicState(state),
    );
  }

  /** Writes one transition; the node as written (with the version the repository gave it). */
  private async update(
    node: Node,
    transition: Transition,
    pass?: Pass,
    event?: Omit<NewHistoryEvent, "actor" | "request_id">,
  ): Promise<Node> {
    const written = await this.deps.nodes.update(node.uuid, { version: node.version }, transition);
    if (event && pass) {
      await this.deps.history?.append(node.uuid, {
        ...event,
        actor: "reconciler",
        request_id: pass.requestId,
      });
      const detailType = reconcilerDetailType(event.action);
      if (detailType) {
        pass.events.push(
          nodeEvent(detailType, {
            node,
            action: event.action as Parameters<typeof nodeEvent>[1]["action"],
            outcome: event.outcome,
            actor: "reconciler",
            requestId: pass.requestId,
            at: this.now(),
            ironicNodeUuid: event.ironic_node_uuid,
            provisionState: written.ironic_state?.provision_state,
            message: event.detail,
          }),
        );
      }
    }
    return written;
  }
}

/** What settling the store's nodes saw and where it stopped. */
interface StoreWalk {
  seen: Set<string>;
  /** The last node settled, every one before it settled too. */
  last: string | undefined;
  /** Stopped early to stay within the pass's time. */
  partial: boolean;
}

function emptySummary(): ReconcileSummary {
  return {
    checked: 0,
    drift: 0,
    finished: 0,
    rolled_back: 0,
    adopted: 0,
    missing: 0,
    hardware_drift: 0,
    hardware_synced: 0,
    synced: 0,
    orphans: 0,
    podms_offline: 0,
    abandoned: 0,
    errors: 0,
    partial: false,
    duration_ms: 0,
  };
}

interface Pass {
  ironic: IronicNodesPort;
  ironicNodes: Map<string, IronicSummary> | undefined;
  /** Ironic nodes that name a Valence node, ours and unmarked ones only. */
  byValenceUuid: Map<string, IronicSummary>;
  systems: Map<string, ListedSystems>;
  summary: ReconcileSummary;
  requestId: string;
  deploymentId: string;
  /** Events of the nodes being settled, published by tens and after each page. */
  events: ValenceEvent[];
}

/** A pod manager that answered this pass: its composed systems by index, each with its composition's links. */
interface ListedSystems {
  podm: PodManager;
  byIndex: Map<string, string[] | undefined>;
}
