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
  isOurCreation,
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
  /** The Ironic node to adopt, when `find-existing` found one. */
  existing?: IronicNode;
  /** Decided by `find-existing`. */
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

/**
 * The register saga's steps, in order: `connect`, `read-system`, `find-existing`, `adopt-node` or `create-node`,
 * `read-traits` (adopted) and `set-traits`, `create-ports`, `record`. Lookups by name and by known MAC start in `connect` so they run
 * while the pod manager answers; a step run again (replayed) looks them up afresh.
 */
export function registerSteps(env: RegisterEnv): SagaStep<RegisterState>[] {
  let ironic: IronicNodesPort | undefined;
  /** Connected once per run; a step run again in another process connects there. */
  const driver = async () => {
    ironic ??= await env.connect();
    return ironic;
  };
  /** The BMC credentials, kept by this run only. */
  let credentials: Credentials | undefined;
  let early:
    | {
        byName: Promise<IronicNode | undefined>;
        ports: Map<string, Promise<IronicPort | undefined>>;
        deploymentId: Promise<string>;
      }
    | undefined;

  const compensateNode = (scope: SagaScope, uuid: string) =>
    scope.compensate({
      name: "delete-node",
      target: uuid,
      undo: async () => deleteIronicNode(env.undo(await driver()), uuid),
    });
  const compensatePort = (scope: SagaScope, uuid: string) =>
    scope.compensate({
      name: "delete-port",
      target: uuid,
      undo: async () => {
        try {
          await env.undo(await driver()).deletePort(uuid);
        } catch (error) {
          if (!(error instanceof IronicPortNotFoundError)) throw error;
        }
      },
    });

  /** Keeps a port this register created: a created node's ports go with the node, an adopted node's one by one. */
  const tookPort = (state: RegisterState, scope: SagaScope, port: IronicPort) => {
    state.createdPorts.push(port.uuid);
    if (!state.createdNode) compensatePort(scope, port.uuid);
  };

  return [
    {
      name: "connect",
      async run(state, scope) {
        scope.doing(REGISTER_FIRST_DESCRIPTION);
        const connected = await driver();
        // Our name and the MACs we know of, looked up in Ironic while the pod manager answers.
        const knownMacs = portPlan(state.node.hardware.nics, state.options).macs;
        early = {
          byName: findIronicNode(connected, state.node.name),
          ports: new Map(knownMacs.map((mac) => [mac, connected.getPortByAddress(mac)] as const)),
          deploymentId: env.deploymentId(),
        };
        for (const lookup of [early.byName, early.deploymentId, ...early.ports.values()]) {
          lookup.catch(() => undefined); // handled where awaited
        }
      },
    },
    {
      name: "read-system",
      async run(state, scope) {
        scope.doing("reading the system from its pod manager");
        const read = await env.readSystem();
        const plan = portPlan(read.system.hardware.nics, state.options);
        const problem = portPlanProblem(state.node.name, plan);
        if (problem) throw problem;
        credentials = read.credentials;
        // Checked before anything is created: too many traits, or traits an old Ironic cannot take, are a 400.
        const planned = traitsPlan(
          read.system.hardware,
          env.hardwareRules ?? DEFAULT_HARDWARE_RULES,
          state.options.traits,
          await (await driver()).apiVersion(),
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
    },
    {
      name: "find-existing",
      async run(state, scope) {
        const { podm, system } = need(state.read, "the system");
        const plan = need(state.plan, "the port plan");
        const ironic = await driver();
        // The lookups begun early serve the first run; a run again looks afresh.
        const lookups = early;
        early = undefined;
        scope.doing("reading this deployment's identity");
        const deploymentId = await (lookups?.deploymentId ?? env.deploymentId());
        state.deploymentId = deploymentId;

        scope.doing("looking for Ironic resources that already hold our name or MACs");
        const [byName, ...ports] = await Promise.all([
          lookups?.byName ?? findIronicNode(ironic, state.node.name),
          ...plan.macs.map((mac) => lookups?.ports.get(mac) ?? ironic.getPortByAddress(mac)),
        ]);
        const owners = await Promise.all(portOwnersToRead(byName, ports).map((uuid) => ironic.getNode(uuid)));
        const decision = decideExisting({
          node: state.node,
          deploymentId,
          podmUrl: podm.url,
          resourceUri: system.resourceUri,
          byName,
          ports,
          owners,
        });
        if (decision.action === "refuse") throw decision.error;
        state.action = decision.action;
        if (decision.action === "adopt") state.existing = decision.node;
      },
    },
    {
      name: "adopt-node",
      when: (state) => state.action === "adopt",
      async run(state, scope) {
        const existing = need(state.existing, "the Ironic node to adopt");
        const ironic = await driver();
        logger.info("adopting an existing Ironic node", {
          node_uuid: state.node.uuid,
          ironic_node_uuid: existing.uuid,
        });
        let adopted = existing;
        // The marks are plain `add`s of the same values: marking again changes nothing.
        const marks = adoptionMarks(existing, state.node, need(state.deploymentId, "the deployment id"));
        if (marks) {
          scope.doing("marking the adopted Ironic node as ours");
          adopted = await ironic.updateNode(existing.uuid, marks);
        }
        state.presentPorts ??= (await ironic.listPorts({ node_uuid: existing.uuid })).map(
          (port) => port.address,
        );
        state.ironicNode = adopted;
      },
    },
    {
      name: "create-node",
      when: (state) => state.action === "create",
      async run(state, scope) {
        const ironic = await driver();
        const read = need(state.read, "the system");
        const deploymentId = need(state.deploymentId, "the deployment id");
        // Refused (400) before anything is created when the Ironic in use cannot take a placement field.
        scope.doing("checking the placement fields against Ironic");
        const options = withRuleResourceClass(state.options, state.ruleResourceClass);
        const placement = await resolvePlacement(ironic, {
          body: options,
          podm: read.podm,
          podmName: read.podm.name ?? state.node.podm_id,
          defaultResourceClass: env.defaultResourceClass,
        });
        // Ironic refuses an `owner` at create from anyone but a system-scoped admin ("Cannot create a node as a
        // project scoped admin with an owner other than your own project"; noauth counts as project-scoped), while
        // its PATCH takes it: so the owner is set right after the create.
        const { owner, ...atCreate } = placement;
        scope.doing("creating the Ironic node");
        let created: IronicNode;
        let compensated = false;
        try {
          created = await ironic.createNode(
            buildIronicNode({
              node: state.node,
              system: read.system,
              podmUrl: read.podm.url,
              podmVerifyCa: read.podm.verify_ca,
              // A run again after the process that read them died reads them afresh.
              credentials: credentials ?? (await env.readSystem()).credentials,
              options,
              defaultResourceClass: env.defaultResourceClass,
              deploymentId,
              placement: atCreate,
            }),
          );
        } catch (error) {
          // A create whose answer was lost (timeout, reset, 5xx) may have happened, and a create run again finds
          // its node under our name: if Ironic has our node now, it is this register's.
          const landed = await findIronicNode(ironic, state.node.name).catch(() => undefined);
          if (!landed || !isOurCreation(landed, state.node.uuid, deploymentId)) throw error;
          state.createdNode = landed.uuid;
          compensateNode(scope, landed.uuid);
          compensated = true;
          if (!(error instanceof IronicDuplicateNameError)) throw error;
          created = landed;
        }
        if (!compensated) {
          state.createdNode = created.uuid;
          compensateNode(scope, created.uuid);
        }
        state.ironicNode = created;
        if (owner !== undefined && created.owner !== owner) {
          scope.doing("setting the Ironic node's owner");
          state.ironicNode = await ironic.updateNode(created.uuid, [
            { op: "add", path: "/owner", value: owner },
          ]);
        }
      },
    },
    {
      name: "read-traits",
      // Its own step, so its checkpoint keeps what the adopted node had even if `set-traits` runs again.
      when: (state) =>
        state.action === "adopt" && state.setsTraits === true && (state.traits?.length ?? 0) > 0,
      async run(state) {
        const ironic = await driver();
        state.previousTraits ??= await ironic.getTraits(need(state.ironicNode, "the Ironic node").uuid);
      },
    },
    {
      name: "set-traits",
      // Nothing to set (an Ironic without traits, no rule matched, none asked for): an adopted node keeps its own.
      when: (state) => state.setsTraits === true && (state.traits?.length ?? 0) > 0,
      async run(state, scope) {
        const ironic = await driver();
        const ironicNode = need(state.ironicNode, "the Ironic node");
        const traits = need(state.traits, "the traits");
        if (state.action === "adopt") {
          const previous = need(state.previousTraits, "the adopted node's traits");
          scope.compensate({
            name: "restore-traits",
            target: ironicNode.uuid,
            undo: async () => env.undo(await driver()).setTraits(ironicNode.uuid, previous),
          });
        }
        scope.doing(`setting the Ironic node's traits (${traits.length})`);
        await ironic.setTraits(ironicNode.uuid, traits);
      },
    },
    {
      name: "create-ports",
      async run(state, scope) {
        const ironic = await driver();
        const ironicNode = need(state.ironicNode, "the Ironic node");
        const changes = portChanges(need(state.plan, "the port plan"), state.presentPorts ?? []);
        // One port after another: Ironic locks the node for every port create.
        for (const { mac, pxe_enabled } of changes.create) {
          scope.doing(`creating the Ironic port ${mac}`);
          let port: IronicPort;
          try {
            port = await ironic.createPort({
              node_uuid: ironicNode.uuid,
              address: mac,
              pxe_enabled,
              extra: { [NODE_MARK]: state.node.uuid },
            });
          } catch (error) {
            if (!(error instanceof IronicMacAlreadyExistsError)) throw error;
            // The port may be this register's own (a create whose answer was lost, or run again).
            const existing = await ironic.getPortByAddress(mac);
            if (!existing || claimExistingPort(existing, ironicNode.uuid) === "conflict") throw error;
            port = existing;
          }
          tookPort(state, scope, port);
        }
      },
    },
    {
      name: "record",
      async run(state, scope) {
        scope.doing("recording the registration");
        const read = need(state.read, "the system");
        const ironicNodeUuid = need(state.ironicNode, "the Ironic node").uuid;
        try {
          // `acceptLanded`: a write retried after it landed is taken as done.
          state.registered = await env.nodes.update(
            state.node.uuid,
            { version: state.marked.version, acceptLanded: true },
            toRegistered({
              ironicNodeUuid,
              at: env.now(),
              system: {
                hardware: read.system.hardware,
                resourceUri: read.system.resourceUri,
                composition: read.system.composition,
              },
              operation: state.operation ?? null,
              traits: state.setsTraits ? (state.traits ?? []) : null,
              resourceClass: need(state.ironicNode, "the Ironic node").resource_class ?? null,
            }),
          );
        } catch (error) {
          // Run again after it landed (with another time stamp): the record shows this very registration.
          if (!(error instanceof VersionConflictError)) throw error;
          const current = await env.nodes.get(state.node.uuid);
          if (!current || !registrationLanded(current, state.marked.version, ironicNodeUuid)) throw error;
          state.registered = current;
        }
      },
    },
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
