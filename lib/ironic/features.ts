import { ValidationError } from "../errors.ts";
import { compareVersions, parseVersion } from "./version.ts";

/**
 * Node fields Valence may set at create that an older Ironic API does not take, with the first API version that
 * takes each (Ironic's REST API version history; `ironic/api/controllers/v1/utils.py` `VERSIONED_FIELDS`). Asked
 * at a lower version, Ironic refuses the whole create with a bare 406, so Valence checks them itself and says
 * which field needs which version.
 */
export const NODE_FIELD_MIN_VERSION = {
  resource_class: "1.21",
  boot_interface: "1.31",
  deploy_interface: "1.31",
  conductor_group: "1.46",
  automated_clean: "1.47",
  owner: "1.50",
  lessee: "1.65",
  shard: "1.82",
} as const;
export type VersionedNodeField = keyof typeof NODE_FIELD_MIN_VERSION;

/** From this version `GET /v1/conductors` lists the conductors and their groups. */
export const CONDUCTORS_MIN_VERSION = "1.49";

/** From this version a node has traits (`PUT /v1/nodes/{ident}/traits`). */
export const TRAITS_MIN_VERSION = "1.37";

/** From this version `GET /v1/drivers/{name}` lists the interfaces each hardware type has enabled. */
export const DRIVER_INTERFACES_MIN_VERSION = "1.30";

function atLeast(version: string, minimum: string): boolean {
  const have = parseVersion(version);
  const need = parseVersion(minimum);
  if (!have || !need) throw new Error(`not a MAJOR.MINOR version: ${have ? minimum : version}`);
  return compareVersions(have, need) >= 0;
}

/** What the negotiated API version offers: one place decides whether a field may be sent. */
export class IronicFeatures {
  constructor(readonly apiVersion: string) {}

  supports(field: VersionedNodeField): boolean {
    return atLeast(this.apiVersion, NODE_FIELD_MIN_VERSION[field]);
  }

  /** Whether the hardware type's enabled interfaces can be read (`GET /v1/drivers/{name}`). */
  get listsDriverInterfaces(): boolean {
    return atLeast(this.apiVersion, DRIVER_INTERFACES_MIN_VERSION);
  }

  /** Whether nodes have traits (`PUT /v1/nodes/{ident}/traits`). */
  get setsTraits(): boolean {
    return atLeast(this.apiVersion, TRAITS_MIN_VERSION);
  }

  /** Whether the conductors and their groups can be read (`GET /v1/conductors`). */
  get listsConductors(): boolean {
    return atLeast(this.apiVersion, CONDUCTORS_MIN_VERSION);
  }

  /** The fields of `requested` this version cannot take, in the table's order. */
  missing(requested: Iterable<VersionedNodeField>): VersionedNodeField[] {
    const asked = new Set(requested);
    return (Object.keys(NODE_FIELD_MIN_VERSION) as VersionedNodeField[]).filter(
      (field) => asked.has(field) && !this.supports(field),
    );
  }

  /** Refuses (400 `IronicFeatureUnsupported`) when any requested field needs a newer API version. */
  require(requested: Iterable<VersionedNodeField>, where: (field: VersionedNodeField) => string): void {
    const missing = this.missing(requested);
    if (missing.length > 0) throw IronicFeatureUnsupportedError.of(missing, this.apiVersion, where);
  }
}

/**
 * The caller asked for a node field the Ironic API version in use cannot take. A request error, not an upstream
 * failure: the same request fails the same way until the field is dropped or Ironic is upgraded.
 */
export class IronicFeatureUnsupportedError extends ValidationError {
  override readonly code = "IronicFeatureUnsupported";

  /** `where` names each field as the caller gave it (`body.owner`, the pod manager's default, ...). */
  static of(
    fields: readonly VersionedNodeField[],
    apiVersion: string,
    where: (field: VersionedNodeField) => string = (field) => field,
  ): IronicFeatureUnsupportedError {
    return new IronicFeatureUnsupportedError(
      fields
        .map(
          (field) =>
            `${where(field)}: needs Ironic API ${NODE_FIELD_MIN_VERSION[field]} or later; the Ironic in use speaks ${apiVersion}`,
        )
        .join("; "),
    );
  }
}

/** The caller named a boot or deploy interface Ironic has not enabled for the node's hardware type. */
export class IronicInterfaceNotEnabledError extends ValidationError {
  override readonly code = "IronicInterfaceNotEnabled";

  static of(
    where: string,
    value: string,
    hardwareType: string,
    enabled: readonly string[],
  ): IronicInterfaceNotEnabledError {
    const listed = enabled.length > 0 ? [...enabled].sort().join(", ") : "none";
    return new IronicInterfaceNotEnabledError(
      `${where}: ${JSON.stringify(value)} is not enabled in Ironic for hardware type ${hardwareType}; enabled: ${listed}`,
    );
  }
}

/**
 * The caller named a conductor group no Ironic conductor serves for the hardware type: Ironic would refuse the
 * create ("No valid host was found"), so it is refused first, naming the groups that are served.
 */
export class IronicConductorGroupNotServedError extends ValidationError {
  override readonly code = "IronicConductorGroupNotServed";

  static of(where: string, group: string, hardwareType: string, served: readonly string[]) {
    const listed =
      served.length > 0
        ? [...new Set(served)]
            .sort()
            .map((g) => JSON.stringify(g))
            .join(", ")
        : "none";
    return new IronicConductorGroupNotServedError(
      `${where}: no Ironic conductor serves conductor group ${JSON.stringify(group)} for hardware type ${hardwareType}; served: ${listed}`,
    );
  }
}
