import * as z from "zod/mini";
import { lazySchema } from "../lazy-schema.ts";
import { scrubTruncated } from "../scrub.ts";

const JsonObject = /* @__PURE__ */ lazySchema(() => z.record(z.string(), z.unknown()));

/**
 * Longest `last_error` / `maintenance_reason` kept: enough for any message Ironic writes, and a bound on what a
 * node read scrubs, answers and caches in the store, whatever someone wrote into Ironic.
 */
export const MAX_IRONIC_TEXT = 2_000;

/** Free text from Ironic, which it may have filled with driver_info: every reader gets it shortened and scrubbed. */
const ScrubbedText = /* @__PURE__ */ lazySchema(() =>
  z.pipe(
    z.string(),
    z.transform((text) => scrubTruncated(text, MAX_IRONIC_TEXT)),
  ),
);

/**
 * An Ironic node as API ≤ 1.82 returns it. Only the fields Valence reads are declared; the rest pass through
 * untyped (`looseObject`), so a newer Ironic adding fields is not an error.
 */
export const IronicNodeSchema = /* @__PURE__ */ lazySchema(() =>
  z.looseObject({
    uuid: z.string(),
    name: z.nullable(z.string()),
    driver: z.string(),
    provision_state: z.string(),
    target_provision_state: z.nullable(z.string()),
    power_state: z.nullable(z.string()),
    target_power_state: z.nullable(z.string()),
    maintenance: z.boolean(),
    maintenance_reason: z.nullable(ScrubbedText),
    /** Why Ironic itself put the node in maintenance (`clean failure`, `power failure`, ...); null when it did not. */
    fault: z.optional(z.nullable(z.string())),
    /** Ironic quotes driver_info (BMC passwords included) in some `last_error`s: scrubbed on the way in. */
    last_error: z.nullable(ScrubbedText),
    /** Ironic masks secrets on read (`******`), so never diff `driver_info` passwords. */
    driver_info: JsonObject,
    properties: JsonObject,
    extra: JsonObject,
    instance_uuid: z.nullable(z.string()),
    resource_class: z.nullable(z.string()),
    network_interface: z.nullable(z.string()),
    created_at: z.string(),
    updated_at: z.nullable(z.string()),
    /** When `provision_state` last changed: tells whether a verb was taken since a given look. */
    provision_updated_at: z.optional(z.nullable(z.string())),
  }),
);
export type IronicNode = z.infer<typeof IronicNodeSchema>;
/** Fields that may be requested with `fields=` and are typed in the result. */
export type IronicNodeField = keyof typeof IronicNodeSchema.shape;

/** With `fields=`, Ironic returns only those fields. */
export const PartialIronicNodeSchema = /* @__PURE__ */ lazySchema(() => z.partial(IronicNodeSchema));

export const IronicPortSchema = /* @__PURE__ */ lazySchema(() =>
  z.looseObject({
    uuid: z.string(),
    address: z.string(),
    node_uuid: z.string(),
    pxe_enabled: z.boolean(),
    extra: JsonObject,
    created_at: z.string(),
    updated_at: z.nullable(z.string()),
  }),
);
export type IronicPort = z.infer<typeof IronicPortSchema>;

/** `next` is a full URL carrying the `marker` of the following page; absent on the last page. */
export const NodeListSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    nodes: z.array(PartialIronicNodeSchema),
    next: z.optional(z.string()),
  }),
);
export const FullNodeListSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    nodes: z.array(IronicNodeSchema),
    next: z.optional(z.string()),
  }),
);
export const PortListSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({ ports: z.array(IronicPortSchema), next: z.optional(z.string()) }),
);

/**
 * `GET /v1/drivers/{name}` (API ≥ 1.30): a hardware type with the interfaces its conductors have enabled. Only the
 * interface lists Valence checks are declared.
 */
export const IronicDriverSchema = /* @__PURE__ */ lazySchema(() =>
  z.looseObject({
    name: z.string(),
    enabled_boot_interfaces: z.optional(z.nullable(z.array(z.string()))),
    enabled_deploy_interfaces: z.optional(z.nullable(z.array(z.string()))),
    default_boot_interface: z.optional(z.nullable(z.string())),
    default_deploy_interface: z.optional(z.nullable(z.string())),
  }),
);
export type IronicDriverInfo = z.infer<typeof IronicDriverSchema>;

/** `GET /v1/conductors?detail=true` (API ≥ 1.49): the conductors Ironic has registered and what they serve. */
export const IronicConductorSchema = /* @__PURE__ */ lazySchema(() =>
  z.looseObject({
    hostname: z.string(),
    conductor_group: z.string(),
    alive: z.boolean(),
    drivers: z.optional(z.nullable(z.array(z.string()))),
  }),
);
export type IronicConductor = z.infer<typeof IronicConductorSchema>;
export const ConductorListSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    conductors: z.array(IronicConductorSchema),
    next: z.optional(z.string()),
  }),
);

/** `GET /v1/nodes/{ident}/traits` (API ≥ 1.37). */
export const TraitListSchema = /* @__PURE__ */ lazySchema(() => z.object({ traits: z.array(z.string()) }));

/** `GET /`: the version range of the service. */
export const RootSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    default_version: z.optional(z.object({ version: z.string(), min_version: z.optional(z.string()) })),
    versions: z.optional(z.array(z.object({ version: z.string(), min_version: z.optional(z.string()) }))),
  }),
);

/** One interface's answer in `GET /v1/nodes/{uuid}/validate`: `result` null when the interface is not in use. */
export const InterfaceValidationSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    result: z.nullable(z.boolean()),
    reason: z.optional(z.nullable(ScrubbedText)),
  }),
);
/** `GET /v1/nodes/{uuid}/validate`: Ironic's own check of the node's driver_info, per interface. */
export const NodeValidationSchema = /* @__PURE__ */ lazySchema(() =>
  z.record(z.string(), InterfaceValidationSchema),
);
export type NodeValidation = z.infer<typeof NodeValidationSchema>;

/** An RFC 6902 operation, as `PATCH /v1/nodes/{uuid}` takes them. Paths look like `/extra/valence_id`. */
export type JsonPatchOperation =
  | { op: "add" | "replace"; path: string; value: unknown }
  | { op: "remove"; path: string };

/** What `createNode` sends. Secrets in `driver_info` are write-only: Ironic masks them on read. */
export interface NewIronicNode {
  driver: string;
  name?: string;
  driver_info?: Record<string, unknown>;
  properties?: Record<string, unknown>;
  resource_class?: string;
  extra?: Record<string, unknown>;
  network_interface?: string;
  [field: string]: unknown;
}

export interface NewIronicPort {
  node_uuid: string;
  address: string;
  pxe_enabled?: boolean;
  extra?: Record<string, unknown>;
}

/** Targets of `PUT /v1/nodes/{uuid}/states/provision` (API ≤ 1.82). */
export type ProvisionTarget =
  | "manage"
  | "provide"
  | "inspect"
  | "clean"
  | "active"
  | "rebuild"
  | "deleted"
  | "abort"
  | "adopt"
  | "rescue"
  | "unrescue"
  | "unhold";
