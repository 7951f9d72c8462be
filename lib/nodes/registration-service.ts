import {
  IronicNodeStateError,
  IronicResourceTakenError,
  NodeAlreadyRegisteredError,
  NodeBusyError,
  NodeHasNoEnabledNicError,
  NodeNotRegisteredError,
  OperationFailedError,
  ValenceError,
  ValidationError,
  VersionConflictError,
} from "../errors.ts";
import { type NodeEventInput, nodeEvent } from "../events/build.ts";
import { type EventPublisher, publishQuietly } from "../events/publisher.ts";
import {
  NODE_REGISTERED,
  NODE_REGISTRATION_FAILED,
  NODE_UNREGISTERED,
  type NodeDetailType,
} from "../events/schemas.ts";
import {
  type IronicDriver,
  type IronicNode,
  IronicNodeNotFoundError,
  IronicPortNotFoundError,
  validateIronicName,
} from "../ironic/index.ts";
import { logger } from "../log.ts";
import type { PodManagerSessions } from "../podmanagers/sessions.ts";
import type { NewHistoryEvent, NodeHistory } from "./history.ts";
import { buildIronicNode, deleteIronicNode, drivesSameSystem, portPlan } from "./ironic-node.ts";
import type { Intent, Node } from "./model.ts";
import { DEPLOYMENT_MARK, type DeploymentIdentity, NODE_MARK, ownershipOf } from "./ownership.ts";
import type { NodeRepository } from "./repository.ts";
import type { RegisterNodeInput, UnregisterNodeInput } from "./schemas.ts";
import type { NodeService } from "./service.ts";
import { toRegistered, toUnregistered, withIntent, withoutIntent } from "./transitions.ts";

/** Who asks, under which request id, and how long the caller (the Lambda) has left. */
export interface OperationContext {
  requestId: string;
  principal: string;
  remainingMs: () => number;
}

export interface RegistrationDeps {
  nodes: NodeRepository;
  finder: NodeService;
  sessions: PodManagerSessions;
  /** Resolved lazily: Keystone or Secrets Manager may stand between us and a usable driver. */
  ironic: () => Promise<IronicDriver>;
  defaultResourceClass: string;
  /** This deployment's identity, marked on every Ironic node it creates or adopts. */
  deployment: DeploymentIdentity;
  history?: NodeHistory;
  /** Where register/unregister outcomes are announced. @default no events */
  events?: EventPublisher;
  now?: () => Date;
}

/** Time kept back from a wait so that a rollback still fits before the Lambda is stopped. */
const ROLLBACK_RESERVE_MS = 15_000;

/** Ironic states from which a node may be deleted without force. */
const DELETABLE_STATES = new Set([
  "enroll",
  "manageable",
  "available",
  "adopt failed",
  "inspect failed",
  "clean failed",
]);

/** Live Ironic fields shown by `GET /v1/nodes/{id}?refresh=true`. */
export interface IronicView {
  provision_state: string;
  power_state: string | null;
  maintenance: boolean;
  last_error: string | null;
}

async function findIronicNode(ironic: IronicDriver, ident: string): Promise<IronicNode | undefined> {
  try {
    return await ironic.getNode(ident);
  } catch (error) {
    if (error instanceof IronicNodeNotFoundError) return undefined;
    throw error;
  }
}

function isTransitional(state: string): boolean {
  return state.endsWith("ing") || state.endsWith("wait");
}

/**
 * The heart of Valence: make a composed node an Ironic node, and take it back out.
 *
 * Both are sagas over two systems without a shared transaction. Each starts with a conditional write of an
 * intent on the node (so concurrent callers get 409 and a crash leaves a trace), does its Ironic work, and ends
 * with one conditional update. A failure after something was created in Ironic removes it again; if even that
 * fails, the intent stays for the reconciler, which finds our Ironic node by `extra.valence_node_uuid`.
 */
export class RegistrationService {
  private readonly now: () => Date;

  constructor(private readonly deps: RegistrationDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async register(id: string, options: RegisterNodeInput, context: OperationContext) {
    const node = await this.deps.finder.find(id);
    if (node.managed_by === "ironic") throw new NodeAlreadyRegisteredError(node.name, node.ironic_node_uuid);
    if (node.intent) throw new NodeBusyError(node.name, node.intent.op);
    validateIronicName(node.name);
    // The fresh read from the pod manager only reads, so it runs while the intent is written; its session's
    // logout runs in the background and is awaited before this call answers.
    const read = this.readSystem(node, context.requestId);
    read.catch(() => undefined); // handled where it is awaited; this only keeps Node from calling it unhandled
    // The session's logout, however the read ended: awaited before this call answers.
    const closed = read.then(
      (done) => done.closed,
      () => undefined,
    );
    let marked: Node;
    try {
      marked = await this.markIntent(node, "registering", context);
    } catch (error) {
      await closed;
      throw error;
    }

    // From here on, every failure goes through the catch below: it removes what this call created in Ironic and
    // clears the intent, so a failure that leaves nothing in Ironic never leaves the node busy.
    let step = "building the Ironic client";
    let ironic: IronicDriver | undefined;
    let createdNode: string | undefined;
    const createdPorts: string[] = [];
    let registered: Node | undefined;
    let adopted = false;
    let ironicNode: IronicNode | undefined;
    try {
      const driver = await this.driver(context);
      ironic = driver;
      // Our name and the MACs we know of, looked up in Ironic while the pod manager answers.
      const byNameLookup = findIronicNode(driver, node.name);
      const knownMacs = portPlan(node.hardware.nics, options).macs;
      const knownLookups = new Map(knownMacs.map((mac) => [mac, driver.getPortByAddress(mac)] as const));
      for (const lookup of [byNameLookup, ...knownLookups.values()]) lookup.catch(() => undefined);
      const deploymentLookup = this.deps.deployment.id();
      deploymentLookup.catch(() => undefined);

      step = "reading the system from its pod manager";
      const { podm, system, credentials } = await read;
      const plan = portPlan(system.hardware.nics, options);
      if (plan.enabled.length === 0) throw new NodeHasNoEnabledNicError(node.name);
      if (plan.bootMac && !plan.enabled.includes(plan.bootMac)) {
        throw new ValidationError(
          `body.boot_mac: ${plan.bootMac} is not an enabled NIC of node ${node.name}`,
        );
      }

      step = "reading this deployment's identity";
      const deploymentId = await deploymentLookup;

      step = "looking for Ironic resources that already hold our name or MACs";
      const [byName, ...ports] = await Promise.all([
        byNameLookup,
        ...plan.macs.map((mac) => knownLookups.get(mac) ?? driver.getPortByAddress(mac)),
      ]);
      const candidates = new Map<string, { node: IronicNode; holds: string }>();
      if (byName) candidates.set(byName.uuid, { node: byName, holds: `the name ${node.name}` });
      const ownerIds = [...new Set(ports.flatMap((port) => (port ? [port.node_uuid] : [])))].filter(
        (uuid) => !candidates.has(uuid),
      );
      const owners = await Promise.all(ownerIds.map((uuid) => driver.getNode(uuid)));
      for (const owner of owners) {
        const macs = ports.filter((port) => port?.node_uuid === owner.uuid).map((port) => port?.address);
        candidates.set(owner.uuid, { node: owner, holds: `the MAC ${macs.join(", ")}` });
      }
      let existing: IronicNode | undefined;
      for (const { node: candidate, holds } of candidates.values()) {
        const label = `Ironic node ${candidate.uuid}${candidate.name ? ` (${candidate.name})` : ""}`;
        // Another deployment's node is never taken over, even for the same hardware.
        if (ownershipOf(candidate.extra, deploymentId) === "foreign") {
          throw new IronicResourceTakenError(
            `${label} already holds ${holds} and belongs to another Valence deployment (${String(candidate.extra[DEPLOYMENT_MARK])})`,
          );
        }
        const ours =
          candidate.extra[NODE_MARK] === node.uuid ||
          drivesSameSystem(candidate.driver_info, podm.url, system.resourceUri);
        if (!ours) {
          throw new IronicResourceTakenError(`${label} already holds ${holds} and drives other hardware`);
        }
        if (existing && existing.uuid !== candidate.uuid) {
          throw new IronicResourceTakenError(
            `Ironic nodes ${existing.uuid} and ${candidate.uuid} both drive this system; remove one in Ironic first`,
          );
        }
        existing = candidate;
      }

      if (existing) {
        adopted = true;
        ironicNode = existing;
        logger.info("adopting an existing Ironic node", {
          node_uuid: node.uuid,
          ironic_node_uuid: existing.uuid,
        });
        if (existing.extra[NODE_MARK] !== node.uuid || existing.extra[DEPLOYMENT_MARK] !== deploymentId) {
          step = "marking the adopted Ironic node as ours";
          ironicNode = await driver.updateNode(existing.uuid, [
            { op: "add", path: `/extra/${NODE_MARK}`, value: node.uuid },
            { op: "add", path: "/extra/valence_podm_id", value: node.podm_id },
            { op: "add", path: `/extra/${DEPLOYMENT_MARK}`, value: deploymentId },
          ]);
        }
      } else {
        step = "creating the Ironic node";
        try {
          ironicNode = await driver.createNode(
            buildIronicNode({
              node,
              system,
              podmUrl: podm.url,
              podmVerifyCa: podm.verify_ca,
              credentials,
              options,
              defaultResourceClass: this.deps.defaultResourceClass,
              deploymentId,
            }),
          );
        } catch (error) {
          // A create whose answer was lost (timeout, reset, 5xx) may have happened: if Ironic has our node now,
          // it is this call's to roll back.
          const landed = await findIronicNode(driver, node.name).catch(() => undefined);
          if (landed?.extra[NODE_MARK] === node.uuid && ownershipOf(landed.extra, deploymentId) === "ours") {
            createdNode = landed.uuid;
          }
          throw error;
        }
        createdNode = ironicNode.uuid;
      }

      // One port after another: Ironic locks the node for every port create.
      const present = existing
        ? new Set((await driver.listPorts({ node_uuid: ironicNode.uuid })).map((p) => p.address))
        : new Set<string>();
      for (const mac of plan.macs) {
        if (present.has(mac)) continue;
        step = `creating the Ironic port ${mac}`;
        const port = await driver.createPort({
          node_uuid: ironicNode.uuid,
          address: mac,
          pxe_enabled: mac === plan.bootMac,
          extra: { [NODE_MARK]: node.uuid },
        });
        createdPorts.push(port.uuid);
      }

      const waitMs = () =>
        Math.max(1_000, Math.min(options.wait_timeout * 1000, context.remainingMs() - ROLLBACK_RESERVE_MS));
      if ((options.manage || options.provide) && ironicNode.provision_state === "enroll") {
        step = "moving the Ironic node to manageable (Ironic verifies the BMC)";
        await driver.setProvisionState(ironicNode.uuid, "manage");
        ironicNode = await driver.waitForProvisionState(ironicNode.uuid, {
          target: "manageable",
          timeoutMs: waitMs(),
        });
      }
      if (options.provide && ironicNode.provision_state === "manageable") {
        step = "moving the Ironic node to available";
        await driver.setProvisionState(ironicNode.uuid, "provide");
        ironicNode = await driver.waitForProvisionState(ironicNode.uuid, {
          target: "available",
          timeoutMs: waitMs(),
        });
      }

      step = "recording the registration";
      registered = await this.deps.nodes.update(
        node.uuid,
        { version: marked.version, acceptLanded: true },
        toRegistered({
          ironicNodeUuid: ironicNode.uuid,
          at: this.now(),
          system: { hardware: system.hardware, resourceUri: system.resourceUri },
        }),
      );
    } catch (error) {
      await closed;
      const undone = await this.rollback(ironic, createdNode, createdPorts, context);
      if (undone.complete) await this.clearIntent(node.uuid, marked.version);
      const nothingCreated = !createdNode && createdPorts.length === 0;
      const reason = error instanceof Error ? error.message : String(error);
      await this.recordQuietly(node.uuid, context, {
        action: "register",
        outcome: "failed",
        ironic_node_uuid: createdNode ?? null,
        detail: `failed while ${step}: ${reason}`,
      });
      await this.announce(NODE_REGISTRATION_FAILED, node, context, {
        action: "register",
        outcome: "failed",
        ironic_node_uuid: createdNode ?? null,
        detail: `failed while ${step}: ${reason}; ${undone.summary}`,
      });
      if (!nothingCreated) {
        await this.recordQuietly(node.uuid, context, {
          action: "rollback",
          outcome: undone.complete ? "succeeded" : "failed",
          ironic_node_uuid: createdNode ?? null,
          detail: undone.summary,
        });
      }
      if (nothingCreated && undone.complete && error instanceof ValenceError) throw error;
      throw new OperationFailedError(
        "RegistrationFailed",
        `register of node ${node.name} failed while ${step}: ${reason}; ${undone.summary}`,
        error,
      );
    }

    // The registration stands from here: a failure to write its history is logged, never rolled back.
    await this.recordQuietly(node.uuid, context, {
      action: adopted ? "adopt" : "register",
      outcome: "succeeded",
      ironic_node_uuid: ironicNode.uuid,
      detail: `provision state ${ironicNode.provision_state}, ${createdPorts.length} port(s) created`,
    });
    await this.announce(NODE_REGISTERED, node, context, {
      action: adopted ? "adopt" : "register",
      outcome: "succeeded",
      ironic_node_uuid: ironicNode.uuid,
      provision_state: ironicNode.provision_state,
    });
    logger.info("node registered", {
      node_uuid: node.uuid,
      ironic_node_uuid: ironicNode.uuid,
      adopted,
      ports: createdPorts.length,
      provision_state: ironicNode.provision_state,
      principal: context.principal,
    });
    await closed;
    return { node: registered, ironic: this.view(ironicNode) };
  }

  async unregister(id: string, options: UnregisterNodeInput, context: OperationContext) {
    const node = await this.deps.finder.find(id);
    if (node.managed_by !== "ironic" || !node.ironic_node_uuid) throw new NodeNotRegisteredError(node.name);
    if (node.intent) throw new NodeBusyError(node.name, node.intent.op);
    const ironicNodeUuid = node.ironic_node_uuid;
    const marked = await this.markIntent(node, "unregistering", context, ironicNodeUuid);

    // From here on, every failure goes through the catch below, which clears the intent: the Ironic node is
    // only ever deleted as the last Ironic step, so a failure leaves the registration as it was.
    let current: IronicNode | undefined;
    let unregistered: Node;
    try {
      const ironic = await this.driver(context);
      current = await findIronicNode(ironic, ironicNodeUuid);
      if (current) {
        const busy = current.instance_uuid !== null || current.provision_state === "active";
        if (isTransitional(current.provision_state)) {
          throw new IronicNodeStateError(
            `Ironic node ${ironicNodeUuid} is ${current.provision_state}; wait for it to settle before unregistering`,
          );
        }
        if (
          (busy || !DELETABLE_STATES.has(current.provision_state)) &&
          !current.maintenance &&
          !options.force
        ) {
          throw new IronicNodeStateError(
            `Ironic node ${ironicNodeUuid} is ${current.provision_state}${current.instance_uuid ? ` with instance ${current.instance_uuid}` : ""}; unregister with {"force": true} to put it in maintenance and delete it`,
          );
        }
        if (options.force && (busy || !DELETABLE_STATES.has(current.provision_state))) {
          if (!current.maintenance) {
            await ironic.setMaintenance(
              ironicNodeUuid,
              `unregistered by Valence (request ${context.requestId})`,
            );
          }
          if (current.instance_uuid)
            await ironic.updateNode(ironicNodeUuid, [{ op: "remove", path: "/instance_uuid" }]);
        }
        await deleteIronicNode(ironic, ironicNodeUuid);
      }
      unregistered = await this.deps.nodes.update(
        node.uuid,
        { version: marked.version, acceptLanded: true },
        toUnregistered(),
      );
    } catch (error) {
      await this.clearIntent(node.uuid, marked.version);
      await this.recordQuietly(node.uuid, context, {
        action: options.force ? "force-unregister" : "unregister",
        outcome: "failed",
        ironic_node_uuid: ironicNodeUuid,
        detail: error instanceof Error ? error.message : String(error),
      });
      throw error;
    }

    await this.recordQuietly(node.uuid, context, {
      action: options.force ? "force-unregister" : "unregister",
      outcome: "succeeded",
      ironic_node_uuid: ironicNodeUuid,
      ...(current ? {} : { detail: "the Ironic node was already gone" }),
    });
    await this.announce(NODE_UNREGISTERED, node, context, {
      action: options.force ? "force-unregister" : "unregister",
      outcome: "succeeded",
      ironic_node_uuid: ironicNodeUuid,
      ...(current ? {} : { detail: "the Ironic node was already gone" }),
    });
    logger.info("node unregistered", {
      node_uuid: node.uuid,
      ironic_node_uuid: ironicNodeUuid,
      forced: options.force,
      already_gone: !current,
      principal: context.principal,
    });
    return unregistered;
  }

  /** History is the audit trail, not the state: a failure to append is logged and does not undo the work. */
  private async recordQuietly(
    nodeUuid: string,
    context: OperationContext,
    event: Omit<NewHistoryEvent, "actor" | "request_id">,
  ): Promise<void> {
    try {
      await this.record(nodeUuid, context, event);
    } catch (error) {
      logger.error("could not append to the node's history", {
        node_uuid: nodeUuid,
        action: event.action,
        error: (error as Error).message,
      });
    }
  }

  /** Events, like history, follow the work: `publishQuietly` never fails it. */
  private async announce(
    detailType: NodeDetailType,
    node: Node,
    context: OperationContext,
    event: {
      action: NodeEventInput["action"];
      outcome: NodeEventInput["outcome"];
      ironic_node_uuid: string | null;
      provision_state?: string;
      detail?: string;
    },
  ): Promise<void> {
    await publishQuietly(this.deps.events, [
      nodeEvent(detailType, {
        node,
        action: event.action,
        outcome: event.outcome,
        actor: context.principal,
        requestId: context.requestId,
        at: this.now(),
        ironicNodeUuid: event.ironic_node_uuid,
        provisionState: event.provision_state,
        message: event.detail,
      }),
    ]);
  }

  private async record(
    nodeUuid: string,
    context: OperationContext,
    event: Omit<NewHistoryEvent, "actor" | "request_id">,
  ): Promise<void> {
    await this.deps.history?.append(nodeUuid, {
      ...event,
      actor: context.principal,
      request_id: context.requestId,
    });
  }

  /** The system as its pod manager describes it now, with the credentials Ironic will need. */
  private async readSystem(node: Node, requestId: string) {
    const podm = await this.deps.sessions.get(node.podm_id);
    const { result, closed } = await this.deps.sessions.withLateClose(
      podm,
      requestId,
      async (client, credentials) => ({
        system: await client.getSystem(node.index),
        credentials,
      }),
    );
    return { podm, ...result, closed };
  }

  /** The node with Ironic's live state when it is registered. */
  async show(id: string, context: OperationContext): Promise<{ node: Node; ironic?: IronicView | null }> {
    const node = await this.deps.finder.find(id);
    if (!node.ironic_node_uuid) return { node };
    const ironic = await this.driver(context);
    const live = await findIronicNode(ironic, node.ironic_node_uuid);
    return { node, ironic: live ? this.view(live) : null };
  }

  private view(node: IronicNode): IronicView {
    return {
      provision_state: node.provision_state,
      power_state: node.power_state,
      maintenance: node.maintenance,
      last_error: node.last_error,
    };
  }

  private async driver(context: OperationContext): Promise<IronicDriver> {
    return (await this.deps.ironic()).withContext({
      requestId: `req-${context.requestId.match(/^[0-9a-f-]{36}$/i) ? context.requestId : crypto.randomUUID()}`,
      deadline: () => context.remainingMs() - 2_000,
    });
  }

  private async markIntent(node: Node, op: Intent["op"], context: OperationContext, ironicNodeUuid?: string) {
    try {
      return await this.deps.nodes.update(
        node.uuid,
        { version: node.version, managed_by: node.managed_by, noIntent: true },
        withIntent(op, context.requestId, this.now(), ironicNodeUuid ?? null),
      );
    } catch (error) {
      if (error instanceof VersionConflictError) throw new NodeBusyError(node.name, "another request");
      throw error;
    }
  }

  private async clearIntent(uuid: string, version: number): Promise<void> {
    try {
      await this.deps.nodes.update(uuid, { version }, withoutIntent());
    } catch (error) {
      logger.error("could not clear the intent; the reconciler will", {
        node_uuid: uuid,
        error: (error as Error).message,
      });
    }
  }

  /** Removes what this call created; reports whether everything is gone and what was done. */
  private async rollback(
    ironic: IronicDriver | undefined,
    createdNode: string | undefined,
    createdPorts: string[],
    context: OperationContext,
  ) {
    if (!ironic || (!createdNode && createdPorts.length === 0)) {
      return { complete: true, summary: "nothing was created in Ironic" };
    }
    // The rollback gets its own deadline: the register may have used up the one it had.
    const undo = ironic.withContext({
      requestId: `req-${crypto.randomUUID()}`,
      deadline: () => context.remainingMs(),
    });
    try {
      if (createdNode) {
        await deleteIronicNode(undo, createdNode);
        return { complete: true, summary: `rolled back: deleted Ironic node ${createdNode} and its ports` };
      }
      for (const port of createdPorts) {
        await undo.deletePort(port).catch((error: unknown) => {
          if (!(error instanceof IronicPortNotFoundError)) throw error;
        });
      }
      return {
        complete: true,
        summary: createdPorts.length
          ? `rolled back: deleted ${createdPorts.length} Ironic port(s)`
          : "nothing was created in Ironic",
      };
    } catch (error) {
      logger.error("rollback incomplete", {
        created_node: createdNode,
        created_ports: createdPorts,
        error: (error as Error).message,
      });
      return {
        complete: false,
        summary: `rollback incomplete (${(error as Error).message}); the reconciler will remove ${createdNode ? `Ironic node ${createdNode}` : `${createdPorts.length} port(s)`}`,
      };
    }
  }
}
