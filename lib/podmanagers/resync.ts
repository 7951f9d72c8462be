import { IronicFeatures } from "../ironic/features.ts";
import {
  IronicConflictError,
  type IronicDriver,
  IronicNodeLockedError,
  IronicNodeNotFoundError,
  type JsonPatchOperation,
  type NodeValidation,
} from "../ironic/index.ts";
import { drivesSameSystem } from "../nodes/ironic-node.ts";
import type { Node } from "../nodes/model.ts";
import { type DeploymentIdentity, namedNodeOf, ownershipOf } from "../nodes/ownership.ts";
import type { NodeRepository } from "../nodes/repository.ts";
import type { Operation, ResyncResult } from "../operations/model.ts";
import type { ResyncNodeOutcome } from "../operations/resync.ts";
import type { OperationCaller, OperationService } from "../operations/service.ts";
import type { Credentials, SecretStore } from "../secrets/store.ts";
import type { PodManager } from "./model.ts";
import { placementPatch } from "./placement.ts";
import type { PodManagerRepository } from "./repository.ts";
import type { PodManagerResyncStarter } from "./service.ts";

/** The Ironic interfaces whose validation must pass once driver_info changed: those that talk to the BMC. */
export const VALIDATED_INTERFACES = ["power", "management"] as const;

/**
 * Ironic's `UPDATE_ALLOWED_STATES`: the transitional states in which it still takes a node PATCH. In any other
 * transition (`cleaning`, `clean wait`, `deploying`, ...) it refuses one with 409 "can not be updated while a
 * state transition is in progress": the re-sync waits for the node to rest.
 */
const UPDATE_ALLOWED_STATES: ReadonlySet<string> = new Set([
  "deploy failed",
  "inspect failed",
  "inspect wait",
  "clean failed",
  "error",
  "verifying",
  "adopt failed",
  "rescue failed",
  "unrescue failed",
]);

/** Whether Ironic refuses a PATCH of the node now because it moves it (it takes one again once the node rests). */
export function inUnpatchableTransition(node: {
  provision_state: string;
  target_provision_state: string | null;
}): boolean {
  // `inspecting` is refused too (API ≥ 1.39, with inspect wait).
  if (node.provision_state === "inspecting") return true;
  return Boolean(node.target_provision_state) && !UPDATE_ALLOWED_STATES.has(node.provision_state);
}

const progressOf = (node: {
  provision_state: string;
  target_provision_state: string | null;
  last_error: string | null;
}) => ({
  provision_state: node.provision_state,
  target_provision_state: node.target_provision_state,
  last_error: node.last_error,
});

/** Attempts at a driver_info patch Ironic refuses with NodeLocked (the driver retries each one itself too). */
export const LOCKED_ATTEMPTS = 4;

/** A PATCH Ironic refused because the node is moving. */
const TRANSITION = Symbol("transition in progress");

export interface PodManagerResyncDeps {
  nodes: Pick<NodeRepository, "get" | "list">;
  podManagers: Pick<PodManagerRepository, "get">;
  secrets: Pick<SecretStore, "get">;
  /** Ironic, opened on first use (starting a re-sync needs none). */
  ironic: () => Promise<Pick<IronicDriver, "apiVersion" | "getNode" | "updateNode" | "validateNode">>;
  deployment: DeploymentIdentity;
  operations: Pick<OperationService, "beginForPodManager">;
  /** Waits between NodeLocked attempts. */
  sleep?: (ms: number) => Promise<void>;
  /** The first wait after NodeLocked; it doubles. @default 2000 */
  lockedDelayMs?: number;
}

/**
 * The driver_info Ironic needs to reach the pod manager's systems: its address, its credentials, whether to
 * verify its certificate. Only these keys are written (the system path and auth type stay as registered).
 * `redfish_verify_ca` is only ever raised to the pod manager's `true`, or lowered when its owner turned
 * verification off (`verifyCaTurnedOff`): a node registered with the check where the pod manager does without
 * keeps it, as a register may add the check but not drop it.
 */
export function driverInfoPatch(
  podm: PodManager,
  credentials: Credentials,
  options: { verifyCaTurnedOff?: boolean | undefined } = {},
): JsonPatchOperation[] {
  return [
    { op: "add", path: "/driver_info/redfish_address", value: podm.url },
    { op: "add", path: "/driver_info/redfish_username", value: credentials.username },
    { op: "add", path: "/driver_info/redfish_password", value: credentials.password },
    ...(podm.verify_ca || options.verifyCaTurnedOff
      ? [{ op: "add" as const, path: "/driver_info/redfish_verify_ca", value: podm.verify_ca }]
      : []),
  ];
}

/**
 * Everything a re-sync writes to one Ironic node: the driver_info, and the pod manager's placement (conductor_group,
 * owner, lessee, ...) where the node differs, minus what its own register set and what the Ironic API version in
 * use cannot take.
 */
export function ironicPatch(
  podm: PodManager,
  credentials: Credentials,
  operation: Pick<Operation, "arguments">,
  ironicNode: { extra?: Record<string, unknown> | null; [field: string]: unknown },
  features?: IronicFeatures,
): JsonPatchOperation[] {
  return [
    ...driverInfoPatch(podm, credentials, { verifyCaTurnedOff: operation.arguments?.verify_ca_turned_off }),
    ...placementPatch(podm, ironicNode, features),
  ];
}

/** What of the pod manager's placement the patch re-applied, for the step's detail (empty when nothing). */
function placementNote(
  podm: PodManager,
  ironicNode: { extra?: Record<string, unknown> | null; [field: string]: unknown },
  features: IronicFeatures,
): string {
  const fields = placementPatch(podm, ironicNode, features).map((operation) => operation.path.slice(1));
  return fields.length > 0 ? `, placement ${fields.join(", ")}` : "";
}

/** Why Ironic's validation of the interfaces that talk to the BMC did not pass, or undefined when it did. */
export function validationFailure(validation: NodeValidation): string | undefined {
  const failures = VALIDATED_INTERFACES.flatMap((name) => {
    const answer = validation[name];
    if (answer?.result === true) return [];
    return [`${name}: ${answer?.reason ?? (answer ? "not validated" : "not reported")}`];
  });
  return failures.length > 0 ? `Ironic's validation failed (${failures.join("; ")})` : undefined;
}

/**
 * Carries a pod manager's address and credentials into the Ironic nodes of it that Valence registered: starts the
 * `resync` operation (one step per node) and runs each node's step for the workflow.
 */
export class PodManagerResync implements PodManagerResyncStarter {
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly deps: PodManagerResyncDeps) {
    this.sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** The operation re-syncing every node of `podm` registered in Ironic; undefined when there is none. */
  async start(
    podm: PodManager,
    caller: OperationCaller,
    options: { previousUrl?: string | undefined; previousVerifyCa?: boolean | undefined } = {},
  ): Promise<Operation | undefined> {
    const nodes = await this.registeredNodes(podm.uuid);
    if (nodes.length === 0) return undefined;
    const results: ResyncResult[] = nodes.map((node) => ({
      node_uuid: node.uuid,
      name: node.name,
      ironic_node_uuid: node.ironic_node_uuid as string,
      state: "pending",
      detail: null,
    }));
    const urls = [...new Set([options.previousUrl ?? podm.url, podm.url])];
    return this.deps.operations.beginForPodManager(
      podm,
      {
        kind: "resync",
        steps: nodes.map((node) => node.name),
        results,
        arguments: {
          pod_manager_urls: urls,
          ...(options.previousVerifyCa === true && !podm.verify_ca ? { verify_ca_turned_off: true } : {}),
        },
      },
      caller,
    );
  }

  /**
   * One node's step: re-read the node, its Ironic node and the pod manager's current values (a later change wins),
   * patch driver_info (NodeLocked is retried: Ironic takes driver_info changes in most states, cleaning included,
   * but a conductor task may hold the lock), then Ironic's validation of power and management must pass.
   */
  async resyncNode(operation: Operation, target: ResyncResult): Promise<ResyncNodeOutcome> {
    const node = await this.deps.nodes.get(target.node_uuid);
    if (node?.managed_by !== "ironic" || node.ironic_node_uuid !== target.ironic_node_uuid)
      return { state: "skipped", detail: `no longer registered in Ironic as ${target.ironic_node_uuid}` };
    const podmUuid = operation.pod_manager_uuid ?? operation.node_uuid;
    const podm = await this.deps.podManagers.get(podmUuid);
    if (!podm) return { state: "failed", detail: `pod manager ${podmUuid} no longer exists` };
    const credentials = await this.deps.secrets.get(podm.credentials_ref);
    const ironicNodeUuid = target.ironic_node_uuid;
    const ironic = await this.deps.ironic();

    let ironicNode: Awaited<ReturnType<IronicDriver["getNode"]>>;
    try {
      ironicNode = await ironic.getNode(ironicNodeUuid);
    } catch (error) {
      if (error instanceof IronicNodeNotFoundError)
        return { state: "skipped", detail: `Ironic node ${ironicNodeUuid} is gone` };
      return {
        state: "failed",
        detail: `reading Ironic node ${ironicNodeUuid}: ${(error as Error).message}`,
      };
    }
    const refusal = await this.notOurs(ironicNode, node, podm, operation);
    if (refusal) return { state: "skipped", detail: refusal };

    if (inUnpatchableTransition(ironicNode)) return this.busy(ironicNode);
    const features = new IronicFeatures(await ironic.apiVersion());
    const patched = await this.patch(
      ironic,
      ironicNodeUuid,
      ironicPatch(podm, credentials, operation, ironicNode, features),
    );
    if (patched === TRANSITION) return this.busy(await ironic.getNode(ironicNodeUuid));
    if (patched) return { state: "failed", detail: patched };
    let validation: NodeValidation;
    try {
      validation = await ironic.validateNode(ironicNodeUuid);
    } catch (error) {
      return {
        state: "failed",
        detail: `driver_info updated, but Ironic's validation could not be read: ${(error as Error).message}`,
      };
    }
    const failure = validationFailure(validation);
    if (failure) return { state: "failed", detail: `driver_info updated; ${failure}` };
    return {
      state: "succeeded",
      detail: `driver_info updated (address ${podm.url}, user ${credentials.username})${placementNote(podm, ironicNode, features)}; Ironic validates power and management`,
    };
  }

  /** The node is moving in Ironic, which takes no PATCH until it rests: tried again then. */
  private busy(node: {
    provision_state: string;
    target_provision_state: string | null;
    last_error: string | null;
  }): ResyncNodeOutcome {
    return {
      state: "busy",
      detail: `waiting for Ironic to end its transition (${node.provision_state} → ${node.target_provision_state ?? "?"}): Ironic takes no driver_info change meanwhile`,
      ironic: progressOf(node),
    };
  }

  /** Why the Ironic node is not one this re-sync may touch, or undefined when it is. */
  private async notOurs(
    ironicNode: { extra: Record<string, unknown>; driver_info: Record<string, unknown> },
    node: Node,
    podm: PodManager,
    operation: Operation,
  ): Promise<string | undefined> {
    if (namedNodeOf(ironicNode.extra) !== node.uuid)
      return `Ironic node ${node.ironic_node_uuid} does not name node ${node.uuid}: not Valence's to change`;
    if (ownershipOf(ironicNode.extra, await this.deps.deployment.id()) === "foreign")
      return `Ironic node ${node.ironic_node_uuid} belongs to another Valence deployment`;
    const urls = operation.arguments?.pod_manager_urls ?? [podm.url];
    if (!urls.some((url) => drivesSameSystem(ironicNode.driver_info, url, node.resource_uri))) {
      const address = String(ironicNode.driver_info.redfish_address ?? "no address");
      return `its driver_info points at ${address} ${String(ironicNode.driver_info.redfish_system_id ?? "")}, not at system ${node.resource_uri} of this pod manager: left as it is`;
    }
    return undefined;
  }

  /** Patches the Ironic node, retrying NodeLocked a few times; why it failed, or undefined. */
  private async patch(
    ironic: Pick<IronicDriver, "updateNode">,
    ironicNodeUuid: string,
    patch: JsonPatchOperation[],
  ): Promise<string | typeof TRANSITION | undefined> {
    let delay = this.deps.lockedDelayMs ?? 2_000;
    for (let attempt = 1; ; attempt++) {
      try {
        await ironic.updateNode(ironicNodeUuid, patch);
        return undefined;
      } catch (error) {
        // The node started moving since it was read: wait for it as for one found moving.
        if (error instanceof IronicConflictError && /state transition is in progress/.test(error.message))
          return TRANSITION;
        if (!(error instanceof IronicNodeLockedError))
          return `Ironic refused the driver_info update: ${(error as Error).message}`;
        if (attempt >= LOCKED_ATTEMPTS)
          return `Ironic kept the node locked through ${attempt} attempts (${error.message}); re-sync again later`;
      }
      await this.sleep(delay);
      delay *= 2;
    }
  }

  /** Nodes of the pod manager that Valence registered in Ironic, in name order. */
  private async registeredNodes(podmUuid: string): Promise<Node[]> {
    const found: Node[] = [];
    let marker: string | undefined;
    do {
      const page = await this.deps.nodes.list({ podm_id: podmUuid, limit: 100, marker });
      found.push(
        ...page.items.filter(
          (node) => node.podm_id === podmUuid && node.managed_by === "ironic" && node.ironic_node_uuid,
        ),
      );
      marker = page.next;
    } while (marker);
    return found.sort((a, b) => a.name.localeCompare(b.name));
  }
}
