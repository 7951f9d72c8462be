import {
  ConfigurationError,
  IronicNodeStateError,
  IronicResourceTakenError,
  NodeAlreadyRegisteredError,
  NodeBusyError,
  NodeNotRegisteredError,
  OperationFailedError,
  OperationInProgressError,
  ValenceError,
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
import { type IronicNode, validateIronicName } from "../ironic/index.ts";
import { logger } from "../log.ts";
import type { Operation } from "../operations/model.ts";
import { assertIdle, type OperationService } from "../operations/service.ts";
import type { PodManagerSessions } from "../podmanagers/sessions.ts";
import { DEFAULT_HARDWARE_RULES, type HardwareRules } from "./hardware-traits.ts";
import type { NewHistoryEvent, NodeHistory } from "./history.ts";
import { buildIronicNode, portPlan, resolvePlacement } from "./ironic-node.ts";
import type { IronicNodesPort } from "./ironic-port.ts";
import { findIronicNode, type IronicView, ironicFor, ironicViewOf, NodeIronicView } from "./ironic-view.ts";
import type { Intent, Node } from "./model.ts";
import type { DeploymentIdentity } from "./ownership.ts";
import {
  decideExisting,
  isTransitional,
  type PortsPlan,
  portOwnersToRead,
  portPlanProblem,
  portsPlan,
} from "./registration-decisions.ts";
import {
  initialRegisterState,
  REGISTER_FIRST_DESCRIPTION,
  type RegisterEnv,
  registerSteps,
  rollbackSummary,
  type SystemRead,
  traitsPlan,
  type UnregisterState,
  unregisterSteps,
  withRuleResourceClass,
} from "./registration-saga.ts";
import type { NodeRepository } from "./repository.ts";
import { Saga } from "./saga.ts";
import type { RegisterNodeInput, UnregisterNodeInput } from "./schemas.ts";
import type { NodeService } from "./service.ts";
import { warnSkipped } from "./skipped.ts";
import { withIntent, withoutIntent } from "./transitions.ts";

/** Who asks, under which request id, and how long the caller (the Lambda) has left. */
export interface OperationContext {
  requestId: string;
  principal: string;
  remainingMs: () => number;
}

export interface RegistrationDeps {
  nodes: NodeRepository;
  finder: NodeService;
  /** The pod managers, which a register reads the system from; an unregister never calls them. */
  sessions?: PodManagerSessions;
  /** Resolved lazily: Keystone or Secrets Manager may stand between us and a usable driver. */
  ironic: () => Promise<IronicNodesPort>;
  defaultResourceClass: string;
  /** Map a system's hardware to Ironic traits and a resource class. @default DEFAULT_HARDWARE_RULES */
  hardwareRules?: HardwareRules;
  /** This deployment's identity, marked on every Ironic node it creates or adopts. */
  deployment: DeploymentIdentity;
  history?: NodeHistory;
  /** Where register/unregister outcomes are announced. @default no events */
  events?: EventPublisher;
  /** Runs a register's lifecycle steps (manage, inspect, provide) as an operation. @default none: refused */
  operations?: OperationService;
  now?: () => Date;
  newId?: () => string;
}

/** The lifecycle steps a register asks for, in Ironic's order; `inspect` and `provide` need `manage` first. */
export function lifecycleStepsOf(
  options: Pick<RegisterNodeInput, "manage" | "inspect" | "provide">,
): string[] {
  if (!options.manage && !options.inspect && !options.provide) return [];
  return ["manage", ...(options.inspect ? ["inspect"] : []), ...(options.provide ? ["provide"] : [])];
}

export type { IronicView } from "./ironic-view.ts";

/** A dry run's deployment mark before the first register created the deployment's identity. */
const NO_DEPLOYMENT_YET = "(created by the first register)";

/** How a dry run shows the BMC password: never sent back, as Ironic masks it. */
const MASKED = "******";

/** What `register?dry_run=true` answers: the register's plan, nothing done. */
export interface RegisterPlan {
  dry_run: true;
  node: { uuid: string; name: string };
  /** `create` an Ironic node, `adopt` the one that already drives this system, or `refuse` (see `refused`). */
  action: "create" | "adopt" | "refuse";
  refused?: string;
  /** The node fields the register would create (for `adopt`, the node as Ironic has it) and the traits it sets. */
  ironic_node: Record<string, unknown> & { uuid: string | null; traits: string[] };
  ports: PortsPlan;
  /** The lifecycle steps an operation would run after. */
  lifecycle: string[];
  warnings?: string[];
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

  /**
   * Registers the node in Ironic (its node and ports, atomically: rolled back on failure). With lifecycle steps
   * (`manage`, `inspect`, `provide`), the registration is recorded `enroll` together with an operation that
   * runs them durably, and the answer carries that operation.
   */
  async register(
    id: string,
    options: RegisterNodeInput,
    context: OperationContext,
  ): Promise<{ node: Node; ironic: IronicView; operation?: Operation }> {
    const node = await this.deps.finder.find(id);
    if (node.managed_by === "ironic") throw new NodeAlreadyRegisteredError(node.name, node.ironic_node_uuid);
    await this.ensureIdle(node);
    validateIronicName(node.name);
    const lifecycle = lifecycleStepsOf(options);
    const operations = this.deps.operations;
    if (lifecycle.length > 0 && !operations)
      throw new Error("register: lifecycle steps need the operations service");
    const operationId = lifecycle.length > 0 ? (this.deps.newId ?? (() => crypto.randomUUID()))() : null;
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
    let operation: Operation | undefined;
    try {
      marked = await this.markIntent(node, "registering", context, undefined, operationId);
    } catch (error) {
      await closed;
      throw error;
    }
    if (operations && operationId) {
      try {
        operation = await operations.record(
          operationId,
          node,
          { kind: "register", steps: lifecycle, deadlineSeconds: options.wait_timeout },
          context,
        );
      } catch (error) {
        await this.clearIntent(node.uuid, marked.version);
        await closed;
        throw error;
      }
    }

    // From here on, every failure ends in the rollback below: it removes what this call created in Ironic and
    // clears the intent, so a failure that leaves nothing in Ironic never leaves the node busy.
    let firstRead: Promise<SystemRead> | undefined = read;
    const saga = new Saga(
      registerSteps({
        connect: () => this.driver(context),
        undo: (ironic) =>
          // The rollback gets its own deadline: the register may have used up the one it had.
          ironic.withContext({
            requestId: `req-${crypto.randomUUID()}`,
            deadline: () => context.remainingMs(),
          }),
        readSystem: () => {
          const pending = firstRead;
          firstRead = undefined;
          return (
            pending ??
            this.readSystem(node, context.requestId).then(async (done) => {
              await done.closed;
              return done;
            })
          );
        },
        deploymentId: () => this.deps.deployment.id(),
        nodes: this.deps.nodes,
        defaultResourceClass: this.deps.defaultResourceClass,
        ...(this.deps.hardwareRules ? { hardwareRules: this.deps.hardwareRules } : {}),
        now: this.now,
        ...(this.deps.history ? { history: this.registeredHistory(node.uuid, context) } : {}),
      }),
      REGISTER_FIRST_DESCRIPTION,
    );
    // The lifecycle steps are the operation's: the register itself only creates and records.
    const state = initialRegisterState(
      node,
      options,
      marked,
      operation ? { id: operation.id, kind: operation.kind, started_at: operation.created_at } : undefined,
    );
    const outcome = await saga.run(state);

    if (!outcome.ok) {
      await closed;
      if (operation && operations) {
        const reason = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
        await operations.failUnstarted(
          operation,
          "RegistrationFailed",
          `failed while ${outcome.doing}: ${reason}`,
        );
      }
      const undone = rollbackSummary(await saga.rollback(), saga.compensations);
      if (undone.complete) await this.clearIntent(node.uuid, marked.version);
      const nothingCreated = saga.compensations.length === 0;
      const { error } = outcome;
      const reason = error instanceof Error ? error.message : String(error);
      await this.recordQuietly(node.uuid, context, {
        action: "register",
        outcome: "failed",
        ironic_node_uuid: state.createdNode ?? null,
        detail: `failed while ${outcome.doing}: ${reason}`,
      });
      await this.announce(NODE_REGISTRATION_FAILED, node, context, {
        action: "register",
        outcome: "failed",
        ironic_node_uuid: state.createdNode ?? null,
        detail: `failed while ${outcome.doing}: ${reason}; ${undone.summary}`,
      });
      if (!nothingCreated) {
        await this.recordQuietly(node.uuid, context, {
          action: "rollback",
          outcome: undone.complete ? "succeeded" : "failed",
          ironic_node_uuid: state.createdNode ?? null,
          detail: undone.summary,
        });
      }
      // A refusal (what holds our name or a MAC is foreign, or in no state to adopt) whose create is undone left
      // nothing behind: it answers as the refusal it is, as when nothing was created.
      if (undone.complete && (nothingCreated || isRefusal(error)) && error instanceof ValenceError)
        throw error;
      throw new OperationFailedError(
        "RegistrationFailed",
        `register of node ${node.name} failed while ${outcome.doing}: ${reason}; ${undone.summary}`,
        error,
      );
    }

    const ironicNode = state.ironicNode as IronicNode;
    const adopted = state.action === "adopt";
    // The registration stands from here (its history entry was written with its final update). The event and
    // the pod manager's logout (if a session was opened) go at once.
    await Promise.all([
      this.announce(NODE_REGISTERED, node, context, {
        action: adopted ? "adopt" : "register",
        outcome: "succeeded",
        ironic_node_uuid: ironicNode.uuid,
        provision_state: ironicNode.provision_state,
      }),
      closed,
    ]);
    logger.info("node registered", {
      node_uuid: node.uuid,
      ironic_node_uuid: ironicNode.uuid,
      adopted,
      ports: state.createdPorts.length,
      provision_state: ironicNode.provision_state,
      principal: context.principal,
    });
    const registered = state.registered as Node;
    if (operation && operations) {
      return {
        node: registered,
        ironic: ironicViewOf(ironicNode),
        operation: await operations.launch(operation),
      };
    }
    return { node: registered, ironic: ironicViewOf(ironicNode) };
  }

  /**
   * What a register would do, and nothing done: it reads the pod manager and Ironic (the lookups a register makes
   * when Ironic refuses its create, and the same checks: placement, traits, ports) and writes to neither Ironic nor
   * the store nor the history.
   */
  async plan(id: string, options: RegisterNodeInput, context: OperationContext): Promise<RegisterPlan> {
    const node = await this.deps.finder.find(id);
    if (node.managed_by === "ironic") throw new NodeAlreadyRegisteredError(node.name, node.ironic_node_uuid);
    validateIronicName(node.name);
    const read = await this.readSystem(node, context.requestId);
    try {
      const plan = portPlan(read.system.hardware.nics, options);
      const problem = portPlanProblem(node.name, plan);
      if (problem) throw problem;
      const ironic = await this.driver(context);
      const found = await this.planLookups(ironic, node, read, plan.macs);
      const traits = traitsPlan(
        read.system.hardware,
        this.deps.hardwareRules ?? DEFAULT_HARDWARE_RULES,
        options.traits,
        found.apiVersion,
      );
      const { decision } = found;
      const adopted = decision.action === "adopt" ? decision.node : undefined;
      // Built whatever the decision: a placement field the Ironic in use cannot take is a 400 in any case.
      const created = await this.plannedCreation(ironic, node, read, options, traits, found.deploymentId);
      return {
        dry_run: true,
        node: { uuid: node.uuid, name: node.name },
        action: decision.action,
        ...(decision.action === "refuse" ? { refused: decision.error.message } : {}),
        ironic_node: adopted ? await this.plannedAdoption(ironic, adopted, traits) : created,
        ports: portsPlan(plan, found.ports, adopted?.uuid),
        lifecycle: lifecycleStepsOf(options),
        ...(read.system.warnings ? { warnings: read.system.warnings } : {}),
      };
    } finally {
      await read.closed;
    }
  }

  /** A dry run's reads of Ironic: what holds the name and MACs, and what a register would decide on them. */
  private async planLookups(
    ironic: IronicNodesPort,
    node: Node,
    read: Awaited<ReturnType<RegistrationService["readSystem"]>>,
    macs: readonly string[],
  ) {
    const [deploymentId, apiVersion, byName, ports] = await Promise.all([
      // Read, never created: before the first register there is none, and no Ironic node can be ours.
      (this.deps.deployment.peek ?? this.deps.deployment.id)
        .call(this.deps.deployment)
        .then((id) => id ?? NO_DEPLOYMENT_YET),
      ironic.apiVersion(),
      findIronicNode(ironic, node.name),
      Promise.all(macs.map((mac) => ironic.getPortByAddress(mac))),
    ]);
    const owners = await Promise.all(portOwnersToRead(byName, ports).map((uuid) => ironic.getNode(uuid)));
    const decision = decideExisting({
      node,
      deploymentId,
      podmUrl: read.podm.url,
      resourceUri: read.system.resourceUri,
      byName,
      ports,
      owners,
    });
    return { deploymentId, apiVersion, ports, decision };
  }

  /** The node a register would adopt, as Ironic has it. */
  private async plannedAdoption(
    ironic: IronicNodesPort,
    adopted: IronicNode,
    traits: ReturnType<typeof traitsPlan>,
  ): Promise<RegisterPlan["ironic_node"]> {
    return {
      uuid: adopted.uuid,
      name: adopted.name,
      driver: adopted.driver,
      driver_info: adopted.driver_info,
      properties: adopted.properties,
      resource_class: adopted.resource_class,
      extra: adopted.extra,
      // An adopted node keeps its traits when the register has none to set.
      traits:
        traits.traits.length > 0 || !traits.setsTraits ? traits.traits : await ironic.getTraits(adopted.uuid),
    };
  }

  /** The node a register would create, its password masked. */
  private async plannedCreation(
    ironic: IronicNodesPort,
    node: Node,
    read: Awaited<ReturnType<RegistrationService["readSystem"]>>,
    options: RegisterNodeInput,
    traits: ReturnType<typeof traitsPlan>,
    deploymentId: string,
  ): Promise<RegisterPlan["ironic_node"]> {
    const withClass = withRuleResourceClass(options, traits.ruleResourceClass);
    const placement = await resolvePlacement(ironic, {
      body: withClass,
      podm: read.podm,
      podmName: read.podm.name ?? node.podm_id,
      defaultResourceClass: this.deps.defaultResourceClass,
    });
    const built = buildIronicNode({
      node,
      system: read.system,
      podmUrl: read.podm.url,
      podmVerifyCa: read.podm.verify_ca,
      credentials: { username: read.credentials.username, password: MASKED },
      options: withClass,
      defaultResourceClass: this.deps.defaultResourceClass,
      deploymentId,
      placement,
    });
    return { uuid: null, ...built, traits: traits.traits };
  }

  /**
   * Takes the node out of Ironic. While Ironic still moves the node (cleaning, inspecting, verifying), the answer
   * is an operation that waits for Ironic to settle, then unregisters.
   */
  async unregister(
    id: string,
    options: UnregisterNodeInput,
    context: OperationContext,
  ): Promise<{ node: Node; operation?: Operation }> {
    const node = await this.deps.finder.find(id);
    if (node.managed_by !== "ironic" || !node.ironic_node_uuid) throw new NodeNotRegisteredError(node.name);
    await this.ensureIdle(node);
    const ironicNodeUuid = node.ironic_node_uuid;
    // Ironic is still moving the node (cleaning, inspecting, verifying): an operation waits for it to settle
    // (aborting a wait Ironic can abort), then unregisters.
    if (this.deps.operations) {
      const current = await findIronicNode(await this.driver(context), ironicNodeUuid);
      if (current && isTransitional(current.provision_state)) {
        const operation = await this.deps.operations.begin(
          node,
          { kind: "unregister", steps: ["settle", "unregister"], arguments: { force: options.force } },
          context,
        );
        return { node: (await this.deps.nodes.get(node.uuid)) ?? node, operation };
      }
    }
    const marked = await this.markIntent(node, "unregistering", context, ironicNodeUuid);

    // From here on, every failure clears the intent: the Ironic node is only ever deleted as the last Ironic
    // step, so a failure leaves the registration as it was.
    const state: UnregisterState = { node, force: options.force, ironicNodeUuid, marked };
    const outcome = await new Saga(
      unregisterSteps({
        connect: () => this.driver(context),
        nodes: this.deps.nodes,
        maintenanceReason: `unregistered by Valence (request ${context.requestId})`,
      }),
      "unregistering",
    ).run(state);
    if (!outcome.ok) {
      const { error } = outcome;
      await this.clearIntent(node.uuid, marked.version);
      await this.recordQuietly(node.uuid, context, {
        action: options.force ? "force-unregister" : "unregister",
        outcome: "failed",
        ironic_node_uuid: ironicNodeUuid,
        detail: error instanceof Error ? error.message : String(error),
      });
      throw error;
    }
    const current = state.current;
    const unregistered = state.unregistered as Node;

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
    return { node: unregistered };
  }

  /** The history a register's `record` step writes with its final update (and takes back if that fails). */
  private registeredHistory(nodeUuid: string, context: OperationContext): RegisterEnv["history"] {
    const history = this.deps.history;
    if (!history) return undefined;
    return {
      append: ({ action, ironicNode, ports }) =>
        history.append(nodeUuid, {
          action,
          outcome: "succeeded",
          ironic_node_uuid: ironicNode.uuid,
          detail: `provision state ${ironicNode.provision_state}, ${ports} port(s) created`,
          actor: context.principal,
          request_id: context.requestId,
        }),
      remove: (id) => history.remove(nodeUuid, id),
    };
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
    const sessions = this.deps.sessions;
    if (!sessions) throw new ConfigurationError("this registration service reaches no pod manager");
    const podm = await sessions.get(node.podm_id);
    const { result, closed } = await sessions.withLateClose(
      podm,
      requestId,
      async (client, credentials) => ({ system: await client.getSystem(node.index), credentials }),
      { oneShot: true },
    );
    warnSkipped(podm.uuid, result.system);
    return { podm, ...result, closed };
  }

  /** The node with Ironic's live state when it is registered. */
  show(id: string, context: OperationContext): Promise<{ node: Node; ironic?: IronicView | null }> {
    return new NodeIronicView({ finder: this.deps.finder, ironic: this.deps.ironic }).show(id, context);
  }

  /** 409 while something else runs on the node (an operation that ended no longer counts). */
  private async ensureIdle(node: Node): Promise<void> {
    if (this.deps.operations) await this.deps.operations.ensureIdle(node);
    else assertIdle(node);
  }

  private driver(context: OperationContext): Promise<IronicNodesPort> {
    return ironicFor(this.deps.ironic, context);
  }

  private async markIntent(
    node: Node,
    op: Intent["op"],
    context: OperationContext,
    ironicNodeUuid?: string,
    operationId: string | null = null,
  ) {
    try {
      return await this.deps.nodes.update(
        node.uuid,
        { version: node.version, managed_by: node.managed_by, noIntent: true },
        withIntent(op, context.requestId, this.now(), ironicNodeUuid ?? null, operationId),
      );
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
      // Another request got there first: name what it runs.
      const current = await this.deps.nodes.get(node.uuid).catch(() => undefined);
      if (current?.operation)
        throw new OperationInProgressError(node.name, current.operation.id, current.operation.kind);
      if (current?.intent?.operation_id)
        throw new OperationInProgressError(node.name, current.intent.operation_id, "register");
      throw new NodeBusyError(node.name, current?.intent?.op ?? "another request");
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
}

/** What the register's decisions refuse with, on a 409 of Ironic's (`registration-decisions.ts`). */
function isRefusal(error: unknown): boolean {
  return error instanceof IronicResourceTakenError || error instanceof IronicNodeStateError;
}
