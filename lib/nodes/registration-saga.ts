import { ValidationError, VersionConflictError } from "../errors.ts";
import {
  IronicDuplicateNameError,
  IronicFeatures,
  IronicMacAlreadyExistsError,
  type IronicNode,
  type IronicPort,
  IronicPortNotFoundError,
} from "../ironic/index.ts";
import { logger } from "../log.ts";
import type { PodManager } from "../podmanagers/model.ts";
import { type Placement, placementOf } from "../podmanagers/placement.ts";
import type { ComposedSystem } from "../redfish/index.ts";
import type { Credentials } from "../secrets/store.ts";
import {
  DEFAULT_HARDWARE_RULES,
  type HardwareRules,
  hardwareTraits,
  registerTraits,
} from "./hardware-traits.ts";
import { buildIronicNode, deleteIronicNode, portPlan, resolvePlacement } from "./ironic-node.ts";
import type { IronicNodesPort } from "./ironic-port.ts";
import { findIronicNode } from "./ironic-view.ts";
import type { Node, NodeOperation } from "./model.ts";
import { NODE_MARK } from "./ownership.ts";
import {
  adoptionMarks,
  claimExistingPort,
  decideExisting,
  decideUnregister,
  type ExistingDecision,
  holdersBesides,
  isThisRegistersCreation,
  type PortPlan,
  portChanges,
  portOwnersToRead,
  portPlanProblem,
  registrationLanded,
} from "./registration-decisions.ts";
import type { NodeRepository } from "./repository.ts";
import type { Compensation, RollbackOutcome, SagaScope, SagaStep } from "./saga.ts";
import type { RegisterNodeInput } from "./schemas.ts";
import { toRegistered, toUnregistered } from "./transitions.ts";

/** The system as its pod manager describes it now, with the credentials Ironic will need. */
export interface SystemRead {
  /** With its placement defaults (`conductor_group`, `owner`, ...) and its name, which errors about them cite. */
  podm: Pick<PodManager, "url" | "verify_ca"> & Partial<Pick<PodManager, "name">> & Placement;
  system: ComposedSystem;
  credentials: Credentials;
}

/** Everything a register knows so far; each step reads what earlier steps wrote and adds its own. */
export interface RegisterState {
  readonly node: Node;
  readonly options: RegisterNodeInput;
  /** The node as written with its `registering` intent: the final write is conditional on its version. */
  readonly marked: Node;
  /** The fresh system; its credentials stay out of the state, so no checkpoint of it ever holds a password. */
  read?: Omit<SystemRead, "credentials">;
  plan?: PortPlan;
  /** The traits to set: the hardware rules' adjusted by the body's `traits`. */
  traits?: string[];
  /** The resource class the first matching hardware rule gives, if any. */
  ruleResourceClass?: string;
  /** Whether the Ironic in use has node traits (API ≥ 1.37). */
  setsTraits?: boolean;
  /** The traits an adopted node had before the register replaced them: restored by the rollback. */
  previousTraits?: string[];
  deploymentId?: string;
  /** The Ironic node to adopt, when a refused create showed one. */
  existing?: IronicNode;
  /** `create` once this register's node exists; `adopt` when Ironic's refusal showed a node to take instead. */
  action?: "create" | "adopt";
  /** The Ironic node as last seen. */
  ironicNode?: IronicNode;
  /** The Ironic node this register created, once Ironic has it. */
  createdNode?: string;
  /** Ports this register created (on a created or an adopted node). */
  createdPorts: string[];
  /** MACs the adopted node had ports for before the register touched it. */
  presentPorts?: string[];
  /** The node as recorded by `record`. */
  registered?: Node;
  /** The operation that carries on with the lifecycle steps once the node is registered. */
  readonly operation?: NodeOperation | undefined;
}

export function initialRegisterState(
  node: Node,
  options: RegisterNodeInput,
  marked: Node,
  operation?: NodeOperation,
): RegisterState {
  return { node, options, marked, createdPorts: [], ...(operation ? { operation } : {}) };
}

/** What the register steps work with besides their state. */
export interface RegisterEnv {
  /** The Ironic port for this request. */
  connect(): Promise<IronicNodesPort>;
  /** The Ironic port for compensations: the rollback gets its own request id and deadline. */
  undo(ironic: IronicNodesPort): IronicNodesPort;
  /** Reads the system from its pod manager (a read started before the saga may be handed back the first time). */
  readSystem(): Promise<SystemRead>;
  deploymentId(): Promise<string>;
  nodes: NodeRepository;
  defaultResourceClass: string;
  /** Map the system's hardware to Ironic traits and a resource class. @default DEFAULT_HARDWARE_RULES */
  hardwareRules?: HardwareRules;
  now(): Date;
  /**
   * The registration's history entry, written alongside the final update (best effort: resolves to the entry's
   * id, `undefined` when it could not be written) and taken back when that update does not land.
   */
  history?: {
    append(entry: RegisteredEntry): Promise<string | undefined>;
    remove(id: string): Promise<void>;
  };
}

/** What the history says of a register that stands. */
export interface RegisteredEntry {
  readonly action: "register" | "adopt";
  readonly ironicNode: IronicNode;
  readonly ports: number;
}

/**
 * The register options as the Ironic node is built from them: the body's `resource_class`, else the one a hardware
 * rule gives (it then counts as set for this node, so re-applying the pod manager's placement leaves it).
 */
export function withRuleResourceClass<O extends { resource_class?: string | undefined }>(
  options: O,
  ruleResourceClass: string | undefined,
): O {
  if (options.resource_class !== undefined || ruleResourceClass === undefined) return options;
  return { ...options, resource_class: ruleResourceClass };
}

/**
 * The traits a register sets and the resource class the rules give. A body's `traits` on an Ironic without node
 * traits (API < 1.37) is refused; the rules' traits are then left out.
 */
export function traitsPlan(
  hardware: Parameters<typeof hardwareTraits>[0],
  rules: HardwareRules,
  body: RegisterNodeInput["traits"],
  apiVersion: string,
): { traits: string[]; ruleResourceClass?: string; setsTraits: boolean } {
  const fromRules = hardwareTraits(hardware, rules);
  const setsTraits = new IronicFeatures(apiVersion).setsTraits;
  if (!setsTraits && body !== undefined) {
    throw new ValidationError(
      `body.traits: needs Ironic API 1.37 or later; the Ironic in use speaks ${apiVersion}`,
    );
  }
  return {
    traits: setsTraits ? registerTraits(fromRules.traits, body) : [],
    ...(fromRules.resource_class ? { ruleResourceClass: fromRules.resource_class } : {}),
    setsTraits,
  };
}

/** The description a register failure starts with when nothing ran yet. */
export const REGISTER_FIRST_DESCRIPTION = "building the Ironic client";

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined)
    throw new Error(`saga: ${what} is not known yet (a step ran before the one that finds it)`);
  return value;
}

/** What the steps of one register run share besides their state: the Ironic client, the BMC credentials. */
class RegisterRun {
  private ironic: IronicNodesPort | undefined;
  /** The BMC credentials, kept by this run only. */
  credentials: Credentials | undefined;
  /** The deployment's identity, asked for when the run connects so it is known by the create. */
  private deploymentIdRead: Promise<string> | undefined;

  constructor(readonly env: RegisterEnv) {}

  /** Connected once per run; a step run again in another process connects there. */
  async driver(): Promise<IronicNodesPort> {
    this.ironic ??= await this.env.connect();
    return this.ironic;
  }

  startDeploymentId(): void {
    this.deploymentIdRead = this.env.deploymentId();
    this.deploymentIdRead.catch(() => undefined); // handled where awaited
  }

  deploymentId(): Promise<string> {
    const pending = this.deploymentIdRead;
    this.deploymentIdRead = undefined;
    return pending ?? this.env.deploymentId();
  }

  compensateNode(scope: SagaScope, uuid: string): void {
    scope.compensate({
      name: "delete-node",
      target: uuid,
      undo: async () => deleteIronicNode(this.env.undo(await this.driver()), uuid),
    });
  }

  /** Keeps a port this register created: a created node's ports go with the node, an adopted node's one by one. */
  tookPort(state: RegisterState, scope: SagaScope, port: IronicPort): void {
    state.createdPorts.push(port.uuid);
    if (state.createdNode) return;
    scope.compensate({
      name: "delete-port",
      target: port.uuid,
      undo: async () => {
        try {
          await this.env.undo(await this.driver()).deletePort(port.uuid);
        } catch (error) {
          if (!(error instanceof IronicPortNotFoundError)) throw error;
        }
      },
    });
  }

  /**
   * What to do with what Ironic holds under our name and MACs, read only once Ironic refused a create for one of
   * them (the happy path makes no lookups): adopt our node or the one driving this system, or refuse.
   */
  async decideOnConflict(
    state: RegisterState,
    scope: SagaScope,
    byName?: IronicNode,
  ): Promise<ExistingDecision> {
    const { podm, system } = need(state.read, "the system");
    const plan = need(state.plan, "the port plan");
    const ironic = await this.driver();
    scope.doing("looking for Ironic resources that already hold our name or MACs");
    const [named, ...ports] = await Promise.all([
      byName ?? findIronicNode(ironic, state.node.name),
      ...plan.macs.map((mac) => ironic.getPortByAddress(mac)),
    ]);
    const found = holdersBesides({ byName: named, ports }, state.createdNode);
    const owners = await Promise.all(
      portOwnersToRead(found.byName, found.ports).map((uuid) => ironic.getNode(uuid)),
    );
    return decideExisting({
      node: state.node,
      deploymentId: need(state.deploymentId, "the deployment id"),
      podmUrl: podm.url,
      resourceUri: system.resourceUri,
      byName: found.byName,
      ports: found.ports,
      owners,
    });
  }
}

/** The request id of the register's intent: stamped on the Ironic node it creates. */
function requestIdOf(state: RegisterState): string | undefined {
  return state.marked.intent?.request_id ?? undefined;
}

function connectStep(run: RegisterRun): SagaStep<RegisterState> {
  return {
    name: "connect",
    async run(_state, scope) {
      scope.doing(REGISTER_FIRST_DESCRIPTION);
      await run.driver();
      run.startDeploymentId();
    },
  };
}

function readSystemStep(run: RegisterRun): SagaStep<RegisterState> {
  return {
    name: "read-system",
    async run(state, scope) {
      scope.doing("reading the system from its pod manager");
      const ironic = await run.driver();
      const apiVersion = ironic.apiVersion();
      apiVersion.catch(() => undefined); // handled where awaited, after the read
      const read = await run.env.readSystem();
      const plan = portPlan(read.system.hardware.nics, state.options);
      const problem = portPlanProblem(state.node.name, plan);
      if (problem) throw problem;
      run.credentials = read.credentials;
      // Checked before anything is created: too many traits, or traits an old Ironic cannot take, are a 400.
      const planned = traitsPlan(
        read.system.hardware,
        run.env.hardwareRules ?? DEFAULT_HARDWARE_RULES,
        state.options.traits,
        await apiVersion,
      );
      state.traits = planned.traits;
      state.setsTraits = planned.setsTraits;
      if (planned.ruleResourceClass) state.ruleResourceClass = planned.ruleResourceClass;
      state.read = {
        podm: {
          url: read.podm.url,
          verify_ca: read.podm.verify_ca,
          ...(read.podm.name !== undefined ? { name: read.podm.name } : {}),
          ...placementOf(read.podm),
        },
        system: read.system,
      };
      state.plan = plan;
    },
  };
}

/**
 * Creates the Ironic node without looking first: Ironic keeps names unique (409 DuplicateName), so only that
 * refusal makes the register look at what holds the name, and adopt it or refuse.
 */
function createNodeStep(run: RegisterRun): SagaStep<RegisterState> {
  return {
    name: "create-node",
    when: (state) => state.action !== "adopt",
    async run(state, scope) {
      const ironic = await run.driver();
      const read = need(state.read, "the system");
      const deploymentId = await run.deploymentId();
      state.deploymentId = deploymentId;
      // Refused (400) before anything is created when the Ironic in use cannot take a placement field.
      scope.doing("checking the placement fields against Ironic");
      const options = withRuleResourceClass(state.options, state.ruleResourceClass);
      const placement = await resolvePlacement(ironic, {
        body: options,
        podm: read.podm,
        podmName: read.podm.name ?? state.node.podm_id,
        defaultResourceClass: run.env.defaultResourceClass,
      });
      // Ironic refuses an `owner` at create from anyone but a system-scoped admin ("Cannot create a node as a
      // project scoped admin with an owner other than your own project"; noauth counts as project-scoped), while
      // its PATCH takes it: so the owner is set right after the create.
      const { owner, ...atCreate } = placement;
      const requestId = requestIdOf(state);
      scope.doing("creating the Ironic node");
      let created: IronicNode;
      try {
        created = await ironic.createNode(
          buildIronicNode({
            node: state.node,
            system: read.system,
            podmUrl: read.podm.url,
            podmVerifyCa: read.podm.verify_ca,
            // A run again after the process that read them died reads them afresh.
            credentials: run.credentials ?? (await run.env.readSystem()).credentials,
            options,
            defaultResourceClass: run.env.defaultResourceClass,
            deploymentId,
            placement: atCreate,
            ...(requestId ? { requestId } : {}),
          }),
        );
      } catch (error) {
        // A create whose answer was lost (timeout, reset, 5xx) may have happened, and a create run again meets its
        // own node as a duplicate name: if Ironic has this register's node now, it is to be undone on failure.
        const holder = await findIronicNode(ironic, state.node.name).catch(() => undefined);
        if (holder && isThisRegistersCreation(holder, state.node.uuid, deploymentId, requestId)) {
          state.createdNode = holder.uuid;
          run.compensateNode(scope, holder.uuid);
          if (!(error instanceof IronicDuplicateNameError)) throw error;
          created = holder;
        } else {
          if (!(error instanceof IronicDuplicateNameError)) throw error;
          const decision = await run.decideOnConflict(state, scope, holder);
          if (decision.action === "refuse") throw decision.error;
          // The name was free again by the time it was looked up: a concurrent delete; the caller retries.
          if (decision.action === "create") throw error;
          state.action = "adopt";
          state.existing = decision.node;
          return;
        }
      }
      state.action = "create";
      if (!state.createdNode) {
        state.createdNode = created.uuid;
        run.compensateNode(scope, created.uuid);
      }
      state.ironicNode = created;
      if (owner !== undefined && created.owner !== owner) {
        scope.doing("setting the Ironic node's owner");
        state.ironicNode = await ironic.updateNode(created.uuid, [
          { op: "add", path: "/owner", value: owner },
        ]);
      }
    },
  };
}

/** Marks the node to adopt as ours and notes the MACs it has ports for. */
async function adoptNode(run: RegisterRun, state: RegisterState, scope: SagaScope): Promise<void> {
  const existing = need(state.existing, "the Ironic node to adopt");
  const ironic = await run.driver();
  logger.info("adopting an existing Ironic node", {
    node_uuid: state.node.uuid,
    ironic_node_uuid: existing.uuid,
  });
  let adopted = existing;
  // The marks are plain `add`s of the same values: marking again changes nothing.
  state.deploymentId ??= await run.deploymentId();
  const marks = adoptionMarks(existing, state.node, state.deploymentId);
  if (marks) {
    scope.doing("marking the adopted Ironic node as ours");
    adopted = await ironic.updateNode(existing.uuid, marks);
  }
  state.presentPorts ??= (await ironic.listPorts({ node_uuid: existing.uuid })).map((port) => port.address);
  state.ironicNode = adopted;
}

function adoptNodeStep(run: RegisterRun): SagaStep<RegisterState> {
  return {
    name: "adopt-node",
    when: (state) => state.action === "adopt",
    run: (state, scope) => adoptNode(run, state, scope),
  };
}

/**
 * A port create Ironic refused because the MAC exists: the port is ours (a create whose answer was lost, or run
 * again), or its holder decides as a lookup would have. Adopting another node drops the node this register created
 * (ports follow on the adopted one); `undefined` then.
 */
async function claimPort(
  run: RegisterRun,
  state: RegisterState,
  scope: SagaScope,
  mac: string,
  refusal: IronicMacAlreadyExistsError,
): Promise<IronicPort | undefined> {
  const ironic = await run.driver();
  const ironicNode = need(state.ironicNode, "the Ironic node");
  const existing = await ironic.getPortByAddress(mac);
  if (existing && claimExistingPort(existing, ironicNode.uuid) === "ours") return existing;
  // Only a node this register created gives way to one that was there before.
  if (!state.createdNode) throw refusal;
  const decision = await run.decideOnConflict(state, scope);
  if (decision.action === "refuse") throw decision.error;
  if (decision.action === "create") throw refusal;
  scope.doing(
    `removing the Ironic node ${state.createdNode} this register created, to adopt ${decision.node.uuid}`,
  );
  await deleteIronicNode(run.env.undo(ironic), state.createdNode);
  state.createdNode = undefined;
  state.createdPorts = [];
  state.action = "adopt";
  state.existing = decision.node;
  await adoptNode(run, state, scope);
  return undefined;
}

/** One port after another: Ironic locks the node for every port create. */
function createPortsStep(run: RegisterRun): SagaStep<RegisterState> {
  return {
    name: "create-ports",
    async run(state, scope) {
      const ironic = await run.driver();
      // At most one switch to another node: the one a refused MAC showed to be this system's.
      for (let attempt = 0; attempt < 2; attempt++) {
        const ironicNode = need(state.ironicNode, "the Ironic node");
        const changes = portChanges(need(state.plan, "the port plan"), state.presentPorts ?? []);
        let switched = false;
        for (const { mac, pxe_enabled } of changes.create) {
          scope.doing(`creating the Ironic port ${mac}`);
          let port: IronicPort | undefined;
          try {
            port = await ironic.createPort({
              node_uuid: ironicNode.uuid,
              address: mac,
              pxe_enabled,
              extra: { [NODE_MARK]: state.node.uuid },
            });
          } catch (error) {
            if (!(error instanceof IronicMacAlreadyExistsError)) throw error;
            port = await claimPort(run, state, scope, mac, error);
          }
          if (!port) {
            switched = true;
            break;
          }
          run.tookPort(state, scope, port);
        }
        if (!switched) return;
      }
      throw new Error("saga: the Ironic node to take ports changed twice");
    },
  };
}

function readTraitsStep(run: RegisterRun): SagaStep<RegisterState> {
  return {
    name: "read-traits",
    // Its own step, so its checkpoint keeps what the adopted node had even if `set-traits` runs again.
    when: (state) => state.action === "adopt" && state.setsTraits === true && (state.traits?.length ?? 0) > 0,
    async run(state) {
      const ironic = await run.driver();
      state.previousTraits ??= await ironic.getTraits(need(state.ironicNode, "the Ironic node").uuid);
    },
  };
}

function setTraitsStep(run: RegisterRun): SagaStep<RegisterState> {
  return {
    name: "set-traits",
    // Nothing to set (an Ironic without traits, no rule matched, none asked for): an adopted node keeps its own.
    when: (state) => state.setsTraits === true && (state.traits?.length ?? 0) > 0,
    async run(state, scope) {
      const ironic = await run.driver();
      const ironicNode = need(state.ironicNode, "the Ironic node");
      const traits = need(state.traits, "the traits");
      if (state.action === "adopt") {
        const previous = need(state.previousTraits, "the adopted node's traits");
        scope.compensate({
          name: "restore-traits",
          target: ironicNode.uuid,
          undo: async () => run.env.undo(await run.driver()).setTraits(ironicNode.uuid, previous),
        });
      }
      scope.doing(`setting the Ironic node's traits (${traits.length})`);
      await ironic.setTraits(ironicNode.uuid, traits);
    },
  };
}

function recordStep(run: RegisterRun): SagaStep<RegisterState> {
  return {
    name: "record",
    async run(state, scope) {
      scope.doing("recording the registration");
      const read = need(state.read, "the system");
      const ironicNode = need(state.ironicNode, "the Ironic node");
      // The history entry goes at once with the final update, and is taken back if that update does not land.
      const entry = run.env.history?.append({
        action: state.action === "adopt" ? "adopt" : "register",
        ironicNode,
        ports: state.createdPorts.length,
      });
      try {
        await recordRegistration(run, state, read, ironicNode);
      } catch (error) {
        const id = await entry;
        if (id !== undefined) await run.env.history?.remove(id);
        throw error;
      }
      await entry;
    },
  };
}

/** The node's final update: conditional on the intent's version; a retry of one that landed counts as done. */
async function recordRegistration(
  run: RegisterRun,
  state: RegisterState,
  read: NonNullable<RegisterState["read"]>,
  ironicNode: IronicNode,
): Promise<void> {
  try {
    // `acceptLanded`: a write retried after it landed is taken as done.
    state.registered = await run.env.nodes.update(
      state.node.uuid,
      { version: state.marked.version, acceptLanded: true },
      toRegistered({
        ironicNodeUuid: ironicNode.uuid,
        at: run.env.now(),
        system: {
          hardware: read.system.hardware,
          resourceUri: read.system.resourceUri,
          composition: read.system.composition,
        },
        operation: state.operation ?? null,
        traits: state.setsTraits ? (state.traits ?? []) : null,
        resourceClass: ironicNode.resource_class ?? null,
      }),
    );
  } catch (error) {
    // Run again after it landed (with another time stamp): the record shows this very registration.
    if (!(error instanceof VersionConflictError)) throw error;
    const current = await run.env.nodes.get(state.node.uuid);
    if (!current || !registrationLanded(current, state.marked.version, ironicNode.uuid)) throw error;
    state.registered = current;
  }
}

/**
 * The register saga's steps, in order: `connect`, `read-system`, `create-node` (or, when Ironic's refusal of
 * our name showed a node to adopt, `adopt-node`), `create-ports`, `read-traits` (adopted) and `set-traits`,
 * `record`. Nothing is looked up on the way: Ironic refuses a second node with our name and a second port with
 * one of our MACs (409), and only those refusals make a step read what holds them and decide.
 */
export function registerSteps(env: RegisterEnv): SagaStep<RegisterState>[] {
  const run = new RegisterRun(env);
  return [
    connectStep(run),
    readSystemStep(run),
    createNodeStep(run),
    adoptNodeStep(run),
    createPortsStep(run),
    readTraitsStep(run),
    setTraitsStep(run),
    recordStep(run),
  ];
}

/** Whether a register's rollback removed everything, and what the failure detail says about it. */
export function rollbackSummary(
  outcome: RollbackOutcome,
  compensations: readonly Compensation[],
): { complete: boolean; summary: string } {
  const node = compensations.find((compensation) => compensation.name === "delete-node");
  const ports = compensations.filter((compensation) => compensation.name === "delete-port");
  if (!outcome.complete) {
    const message =
      outcome.failed?.error instanceof Error ? outcome.failed.error.message : String(outcome.failed?.error);
    logger.error("rollback incomplete", {
      created_node: node?.target,
      created_ports: ports.map((port) => port.target),
      error: message,
    });
    return {
      complete: false,
      summary: `rollback incomplete (${message}); the reconciler will remove ${node ? `Ironic node ${node.target}` : `${ports.length} port(s)`}`,
    };
  }
  if (node)
    return { complete: true, summary: `rolled back: deleted Ironic node ${node.target} and its ports` };
  if (ports.length > 0)
    return { complete: true, summary: `rolled back: deleted ${ports.length} Ironic port(s)` };
  return { complete: true, summary: "nothing was created in Ironic" };
}

/** What an unregister knows so far. */
export interface UnregisterState {
  readonly node: Node;
  readonly force: boolean;
  readonly ironicNodeUuid: string;
  /** The node as written with its `unregistering` intent. */
  readonly marked: Node;
  /** Ironic's node as found; null when it was already gone. */
  current?: IronicNode | null;
  unregistered?: Node;
}

export interface UnregisterEnv {
  connect(): Promise<IronicNodesPort>;
  nodes: NodeRepository;
  /** Why the Ironic node is put in maintenance when forced. */
  maintenanceReason: string;
}

/**
 * The unregister saga's steps: `find-ironic`, `prepare-delete` (forced: maintenance, instance removed),
 * `delete-node`, `record`. The Ironic node is deleted only as the last Ironic step, so nothing is to be undone:
 * a failure leaves the registration as it was. Every step may run again (a deleted node counts as deleted).
 */
export function unregisterSteps(env: UnregisterEnv): SagaStep<UnregisterState>[] {
  let ironic: IronicNodesPort | undefined;
  const driver = async () => {
    ironic ??= await env.connect();
    return ironic;
  };
  return [
    {
      name: "find-ironic",
      async run(state) {
        state.current = (await findIronicNode(await driver(), state.ironicNodeUuid)) ?? null;
      },
    },
    {
      name: "prepare-delete",
      when: (state) => Boolean(state.current),
      async run(state) {
        const current = need(state.current ?? undefined, "the Ironic node");
        const decision = decideUnregister(current, state.force);
        if (decision.action === "refuse") throw decision.error;
        if (decision.maintenance) await (await driver()).setMaintenance(current.uuid, env.maintenanceReason);
        if (decision.removeInstance) {
          await (await driver()).updateNode(current.uuid, [{ op: "remove", path: "/instance_uuid" }]);
        }
      },
    },
    {
      name: "delete-node",
      // Only reached when `prepare-delete` did not refuse.
      when: (state) => Boolean(state.current),
      async run(state) {
        await deleteIronicNode(await driver(), state.ironicNodeUuid);
      },
    },
    {
      name: "record",
      async run(state) {
        state.unregistered = await env.nodes.update(
          state.node.uuid,
          { version: state.marked.version, acceptLanded: true },
          toUnregistered(),
        );
      },
    },
  ];
}
