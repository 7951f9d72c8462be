import { ValidationError } from "../errors.ts";
import {
  IronicConductorGroupNotServedError,
  type IronicDriver,
  IronicFeatures,
  IronicInterfaceNotEnabledError,
  IronicInvalidStateError,
  IronicNodeNotFoundError,
  type NewIronicNode,
  type VersionedNodeField,
} from "../ironic/index.ts";
import {
  effectivePlacement,
  OVERRIDES_MARK,
  overriddenFields,
  PLACEMENT_FIELDS,
  type Placement,
  type PlacementField,
  placementOf,
} from "../podmanagers/placement.ts";
import type { ComposedSystem } from "../redfish/index.ts";
import type { Nic, Node } from "./model.ts";
import { DEPLOYMENT_MARK, NODE_MARK } from "./ownership.ts";
import type { RegisterNodeInput } from "./schemas.ts";

export interface IronicNodeSource {
  node: Node;
  system: ComposedSystem;
  podmUrl: string;
  podmVerifyCa: boolean;
  credentials: { username: string; password: string };
  options: RegisterNodeInput;
  defaultResourceClass: string;
  /** This deployment's identity: which Valence created the Ironic node. */
  deploymentId: string;
  /**
   * The placement fields to create the node with, as `resolvePlacement` checked them (it decides on
   * `resource_class` too); without it, the register body's `resource_class` or the default.
   */
  placement?: Placement;
  /** The register request that creates the node: lets a create refused as a duplicate name know its own node. */
  requestId?: string;
}

/**
 * The `extra` key naming the register request that created an Ironic node: a create whose answer was lost, or a
 * create run again, meets Ironic's 409 DuplicateName on its own node and must tell it from one that was there.
 */
export const REGISTER_REQUEST_MARK = "valence_request_id";

/** The hardware type of every node Valence creates. */
export const HARDWARE_TYPE = "redfish";

/**
 * Checks placement fields against the Ironic in use: each field its API version offers (else 400
 * `IronicFeatureUnsupported` naming the version it needs), each boot or deploy interface one Ironic has enabled for
 * the hardware type (else 400 `IronicInterfaceNotEnabled` naming the enabled ones), a conductor group some conductor
 * serves for it (else 400 `IronicConductorGroupNotServed` naming the served groups; from API 1.49, where Ironic
 * lists its conductors).
 */
export async function checkPlacement(
  ironic: Pick<IronicDriver, "apiVersion" | "getDriver" | "listConductors">,
  placement: Placement,
  where: (field: PlacementField) => string = (field) => `body.${field}`,
): Promise<IronicFeatures> {
  const features = new IronicFeatures(await ironic.apiVersion());
  const requested = PLACEMENT_FIELDS.filter((field) => placement[field] !== undefined);
  features.require(requested as VersionedNodeField[], where);
  const interfaces = [
    ["boot_interface", "enabled_boot_interfaces"],
    ["deploy_interface", "enabled_deploy_interfaces"],
  ] as const;
  if (interfaces.some(([field]) => placement[field] !== undefined)) {
    const driver = await ironic.getDriver(HARDWARE_TYPE);
    for (const [field, enabledKey] of interfaces) {
      const value = placement[field];
      const enabled = driver[enabledKey];
      // An Ironic that does not list them (none does before 1.30, where the fields are refused above) is not checked.
      if (value === undefined || !enabled) continue;
      if (!enabled.includes(value)) {
        throw IronicInterfaceNotEnabledError.of(where(field), value, HARDWARE_TYPE, enabled);
      }
    }
  }
  const group = placement.conductor_group;
  if (group !== undefined && features.listsConductors) {
    // Any conductor registered for the group counts, alive or not: one that is down is Ironic's failure, not the
    // caller's choice.
    const conductors = await ironic.listConductors();
    const served = conductors
      .filter((conductor) => !conductor.drivers || conductor.drivers.includes(HARDWARE_TYPE))
      .map((conductor) => conductor.conductor_group.toLowerCase());
    if (!served.includes(group.toLowerCase())) {
      throw IronicConductorGroupNotServedError.of(where("conductor_group"), group, HARDWARE_TYPE, served);
    }
  }
  return features;
}

/**
 * The placement a register creates the Ironic node with: per field the register body's value, else the pod
 * manager's, checked against the Ironic in use (`checkPlacement`). `resource_class` falls back to the deployment's
 * default where Ironic takes the field (API ≥ 1.21); asked for explicitly on an older Ironic, it is refused.
 */
export async function resolvePlacement(
  ironic: Pick<IronicDriver, "apiVersion" | "getDriver" | "listConductors">,
  request: { body: Placement; podm: Placement; podmName: string; defaultResourceClass: string },
): Promise<Placement> {
  const body = placementOf(request.body);
  const placement = effectivePlacement(body, placementOf(request.podm));
  const features = await checkPlacement(ironic, placement, (field) =>
    body[field] !== undefined ? `body.${field}` : `${field} (pod manager ${request.podmName})`,
  );
  if (placement.resource_class === undefined && features.supports("resource_class")) {
    placement.resource_class = request.defaultResourceClass;
  }
  return placement;
}

/** The NICs that become Ironic ports, in the system's order, and which one PXE-boots. */
export function portPlan(nics: readonly Nic[], options: Pick<RegisterNodeInput, "ports" | "boot_mac">) {
  const enabled = nics.filter((nic) => nic.enabled).map((nic) => nic.mac.toLowerCase());
  const requested = options.boot_mac?.toLowerCase().replaceAll("-", ":");
  const bootMac = requested ?? enabled[0];
  const macs = options.ports === "boot" ? (bootMac ? [bootMac] : []) : enabled;
  return { enabled, bootMac, macs };
}

/**
 * Whether Ironic verifies the BMC's TLS certificate. The pod manager's `verify_ca` is its owner's decision: a
 * register may ask for the check (`true`) where the pod manager does without it, never drop it where the pod
 * manager has it, or anyone allowed to register could send the BMC password to whoever answers on its address.
 */
export function ironicVerifyCa(requested: boolean | undefined, podmVerifyCa: boolean): boolean {
  if (requested === false && podmVerifyCa) {
    throw new ValidationError(
      "body.driver_info.redfish_verify_ca: cannot be false when the pod manager verifies TLS certificates " +
        "(verify_ca: true); only the pod manager's owner may turn verification off, on the pod manager",
    );
  }
  return requested ?? podmVerifyCa;
}

/**
 * The Ironic node for a composed system: driven over Redfish through its pod manager, with the system's *path*
 * as `redfish_system_id` (Ironic's redfish driver needs the string, not an object) and a password always set
 * (the redfish power interface fails without one).
 */
export function buildIronicNode(source: IronicNodeSource): NewIronicNode {
  const { node, system, options } = source;
  const hardware = system.hardware;
  const overridden = overriddenFields(options);
  const properties: Record<string, unknown> = {
    cpus: hardware.cpus,
    memory_mb: hardware.memory_mb,
    local_gb: hardware.local_gb,
    cpu_arch: hardware.cpu_arch,
    ...options.properties,
  };
  return {
    name: node.name,
    driver: "redfish",
    driver_info: {
      redfish_address: source.podmUrl,
      redfish_system_id: system.resourceUri,
      redfish_username: source.credentials.username,
      redfish_password: source.credentials.password,
      redfish_verify_ca: ironicVerifyCa(options.driver_info?.redfish_verify_ca, source.podmVerifyCa),
      ...(options.driver_info?.redfish_auth_type
        ? { redfish_auth_type: options.driver_info.redfish_auth_type }
        : {}),
    },
    properties,
    ...(source.placement
      ? source.placement
      : { resource_class: options.resource_class ?? source.defaultResourceClass }),
    extra: {
      [NODE_MARK]: node.uuid,
      valence_podm_id: node.podm_id,
      [DEPLOYMENT_MARK]: source.deploymentId,
      // What this register set itself: re-applying the pod manager's placement (`placementPatch`) leaves it.
      ...(overridden.length > 0 ? { [OVERRIDES_MARK]: overridden } : {}),
      ...(source.requestId ? { [REGISTER_REQUEST_MARK]: source.requestId } : {}),
    },
  };
}

/** Same hardware: the same pod manager address and the same system path. */
export function drivesSameSystem(
  driverInfo: Record<string, unknown>,
  podmUrl: string,
  resourceUri: string,
): boolean {
  const address =
    typeof driverInfo.redfish_address === "string" ? driverInfo.redfish_address.replace(/\/+$/, "") : "";
  return address === podmUrl.replace(/\/+$/, "") && driverInfo.redfish_system_id === resourceUri;
}

/**
 * Deletes an Ironic node we own; already gone counts as done. Ironic deletes a node in any resting state once it
 * is in maintenance, so a refusal for its state is met with maintenance first.
 */
export async function deleteIronicNode(
  ironic: Pick<IronicDriver, "deleteNode" | "setMaintenance">,
  uuid: string,
  reason = "removed by Valence",
): Promise<void> {
  try {
    await ironic.deleteNode(uuid);
  } catch (error) {
    if (error instanceof IronicNodeNotFoundError) return;
    if (!(error instanceof IronicInvalidStateError)) throw error;
    await ironic.setMaintenance(uuid, reason);
    await ironic.deleteNode(uuid);
  }
}
