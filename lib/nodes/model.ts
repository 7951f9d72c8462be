import * as z from "zod/mini";
import { lazySchema } from "../lazy-schema.ts";

export const MANAGED_BY = ["valence", "ironic"] as const;
export type ManagedBy = (typeof MANAGED_BY)[number];

/** A network interface of a composed system, as read from its pod manager. */
export const NicSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    /** Lower-case, colon-separated. */
    mac: z.string(),
    /** Redfish `Status.State` is `Enabled`. Only enabled NICs become Ironic ports. */
    enabled: z.boolean(),
  }),
);
export type Nic = z.infer<typeof NicSchema>;

/**
 * What the composed system holds, in brief: each kind of device once with its count, in a stable order, so two
 * reads of the same composition give equal summaries (a digest of it tells when the composition changed). Traits
 * and the resource class are computed from it (`lib/nodes/hardware-traits.ts`). Fields a BMC does not report are
 * absent, never guessed.
 */
export const HardwareSummarySchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    /** Every processor, CPUs included, grouped by `ProcessorType` (`CPU`, `GPU`, `FPGA`, `Accelerator`, ...). */
    processors: z.array(
      z.object({
        type: z.string(),
        manufacturer: z.optional(z.string()),
        model: z.optional(z.string()),
        /** Redfish `InstructionSet` (`x86-64`, `ARM-A64`, ...). */
        instruction_set: z.optional(z.string()),
        count: z.number(),
      }),
    ),
    /** Drives by Redfish `MediaType` (`SSD`, `HDD`) and `Protocol` (`NVMe`, `SAS`, `SATA`, ...). */
    drives: z.array(
      z.object({ media: z.optional(z.string()), protocol: z.optional(z.string()), count: z.number() }),
    ),
    /** NICs (those that become ports, deduplicated) by link speed; `speed_mbps` absent when the BMC says none. */
    nics: z.array(z.object({ speed_mbps: z.optional(z.number()), count: z.number() })),
    /** Memory devices by Redfish `MemoryType` / `MemoryDeviceType`; `cxl` for CXL-attached memory. */
    memory: z.array(
      z.object({
        type: z.optional(z.string()),
        device_type: z.optional(z.string()),
        cxl: z.boolean(),
        capacity_mib: z.number(),
        count: z.number(),
      }),
    ),
  }),
);
export type HardwareSummary = z.infer<typeof HardwareSummarySchema>;

/** What Ironic needs to schedule the node (its `properties`) and which ports it has. */
export const HardwareSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    cpus: z.number(),
    memory_mb: z.number(),
    local_gb: z.number(),
    cpu_arch: z.string(),
    nics: z.array(NicSchema),
    /** Absent on nodes read before Valence kept it. */
    summary: z.optional(HardwareSummarySchema),
  }),
);
export type Hardware = z.infer<typeof HardwareSchema>;

/** A register or unregister in flight, written before touching Ironic so a crash can be finished or undone. */
export const IntentSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    op: z.enum(["registering", "unregistering", "deleting"]),
    request_id: z.string(),
    started_at: z.string(),
    /** The Ironic node this operation created or works on, once known. */
    ironic_node_uuid: z.optional(z.nullable(z.string())),
    /** A register with lifecycle steps: the operation that carries them on once the node is registered. */
    operation_id: z.optional(z.nullable(z.string())),
  }),
);
export type Intent = z.infer<typeof IntentSchema>;

/** The operation running on the node (one at a time), set when it starts and cleared when it ends. */
export const NodeOperationSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    id: z.string(),
    kind: z.string(),
    started_at: z.string(),
  }),
);
export type NodeOperation = z.infer<typeof NodeOperationSchema>;

/** Ironic's view of the node as the reconciler last saw it: `GET` answers from here without calling Ironic. */
export const IronicStateSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    provision_state: z.string(),
    power_state: z.nullable(z.string()),
    maintenance: z.boolean(),
    last_error: z.nullable(z.string()),
    /** When the reconciler last saw these values change. */
    synced_at: z.string(),
  }),
);
export type IronicState = z.infer<typeof IronicStateSchema>;

/**
 * What defines the node's hardware as its pod manager links it (`lib/redfish/composition.ts`), as last synced:
 * the reconciler compares `digest` with the listing's every pass and reads the system in full only when it moved.
 */
export const CompositionRecordSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    /** sha256 of `links`, hex. */
    digest: z.string(),
    /** Sorted `<kind>:<path>` entries: DMTF `ResourceBlocks:<block>`, RSD `Processors:<path>`, `LocalDrives:<path>`... */
    links: z.array(z.string()),
  }),
);
export type CompositionRecord = z.infer<typeof CompositionRecordSchema>;

/** What changed in a composition: links (resource blocks) and the hardware read from them. */
export const HardwareChangesSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    /** Links (DMTF resource blocks, RSD device links) the composition gained, and lost. */
    blocks_added: z.array(z.string()),
    blocks_removed: z.array(z.string()),
    /** Ironic properties whose value changed, before → after. */
    properties: z.array(z.object({ name: z.string(), before: z.string(), after: z.string() })),
    /** Enabled NICs (the MACs Valence makes ports of) the system gained, and lost. */
    macs_added: z.array(z.string()),
    macs_removed: z.array(z.string()),
  }),
);
export type HardwareChanges = z.infer<typeof HardwareChangesSchema>;

/**
 * The composition changed under a node Ironic uses (`active`, `deploying`, ...): Ironic is left alone until the
 * node rests again, when the reconciler re-syncs it and clears this.
 */
export const HardwareDriftSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    /** When the reconciler first saw the change. */
    since: z.string(),
    changes: HardwareChangesSchema,
    /** The hardware as read then, which a later re-sync writes. */
    hardware: HardwareSchema,
  }),
);
export type HardwareDrift = z.infer<typeof HardwareDriftSchema>;

export const NODE_STATUSES = ["ok", "missing"] as const;

export const NodeSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    uuid: z.string(),
    name: z.string(),
    description: z.string(),
    podm_id: z.string(),
    /** The pod manager's id of the composed system (Redfish `Id`). */
    index: z.string(),
    /** The composed system's Redfish path, e.g. `/redfish/v1/Systems/1`. */
    resource_uri: z.string(),
    managed_by: z.enum(MANAGED_BY),
    ironic_node_uuid: z.nullable(z.string()),
    hardware: HardwareSchema,
    intent: z.optional(z.nullable(IntentSchema)),
    operation: z.optional(z.nullable(NodeOperationSchema)),
    registered_at: z.optional(z.nullable(z.string())),
    /** `missing`: the pod manager no longer has the composed system (the reconciler saw it gone). */
    status: z.optional(z.enum(NODE_STATUSES)),
    ironic_state: z.optional(z.nullable(IronicStateSchema)),
    /** The traits the register set on the Ironic node (absent on nodes registered before Valence set any). */
    traits: z.optional(z.nullable(z.array(z.string()))),
    /** The Ironic node's `resource_class` as the register set it. */
    resource_class: z.optional(z.nullable(z.string())),
    /** The composition the stored `hardware` was read from; absent on nodes recorded before it was kept. */
    composition: z.optional(z.nullable(CompositionRecordSchema)),
    /** Set while the composition changed under a node in use and Ironic has not followed yet. */
    hardware_drift: z.optional(z.nullable(HardwareDriftSchema)),
    created_at: z.string(),
    updated_at: z.string(),
    /** Optimistic-locking counter, bumped by every update. */
    version: z.number(),
  }),
);
export type Node = z.infer<typeof NodeSchema>;

export type NewNode = Omit<
  Node,
  "created_at" | "updated_at" | "version" | "intent" | "operation" | "registered_at"
>;

/** Fields an update may change; identity (`uuid`, `name`, `podm_id`) never changes. */
export type NodeChanges = Partial<
  Pick<
    Node,
    | "description"
    | "managed_by"
    | "ironic_node_uuid"
    | "hardware"
    | "intent"
    | "operation"
    | "status"
    | "ironic_state"
    | "registered_at"
    | "resource_uri"
    | "traits"
    | "resource_class"
    | "composition"
    | "hardware_drift"
  >
>;

/** The node as the API shows it: internal bookkeeping stays inside. */
export function toNodeView(node: Node) {
  const { version: _version, ...view } = node;
  return view;
}
