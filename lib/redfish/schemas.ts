import * as z from "zod/mini";
import { lazySchema } from "../lazy-schema.ts";
import { formatIssue, safeParse } from "../validation.ts";
import { PodManagerResponseError } from "./errors.ts";

/**
 * The parts of Redfish resources Valence reads, DMTF and Intel RSD 2.x. Only what we use is declared; objects
 * drop unknown keys, and optional fields accept `null` because real services send `"Model": null` freely.
 */

function optional<T extends z.ZodMiniType>(schema: T) {
  return z.optional(z.nullable(schema));
}

export const LinkSchema = /* @__PURE__ */ lazySchema(() => z.object({ "@odata.id": z.string() }));
export type Link = z.infer<typeof LinkSchema>;
const LinksSchema = /* @__PURE__ */ lazySchema(() => optional(z.array(LinkSchema)));

const StatusSchema = /* @__PURE__ */ lazySchema(() =>
  optional(z.object({ State: optional(z.string()), Health: optional(z.string()) })),
);

export const ServiceRootSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    Id: optional(z.string()),
    RedfishVersion: optional(z.string()),
    UUID: optional(z.string()),
    Systems: optional(LinkSchema),
    Nodes: optional(LinkSchema),
    CompositionService: optional(LinkSchema),
  }),
);

const CapabilitySchema = /* @__PURE__ */ lazySchema(() => z.object({ UseCase: optional(z.string()) }));

export const CollectionSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    Members: z.array(LinkSchema),
    "@Redfish.CollectionCapabilities": optional(
      z.object({ Capabilities: optional(z.array(CapabilitySchema)) }),
    ),
  }),
);

export const BootSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    BootSourceOverrideEnabled: optional(z.string()),
    BootSourceOverrideTarget: optional(z.string()),
    "BootSourceOverrideTarget@Redfish.AllowableValues": optional(z.array(z.string())),
  }),
);

const ResetActionSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    target: z.string(),
    "ResetType@Redfish.AllowableValues": optional(z.array(z.string())),
  }),
);
export type ResetAction = z.infer<typeof ResetActionSchema>;

export const SystemSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    "@odata.id": optional(z.string()),
    Id: z.string(),
    Name: optional(z.string()),
    UUID: optional(z.string()),
    SystemType: optional(z.string()),
    PowerState: optional(z.string()),
    Status: StatusSchema,
    Boot: optional(BootSchema),
    ProcessorSummary: optional(
      z.object({
        Count: optional(z.number()),
        CoreCount: optional(z.number()),
        LogicalProcessorCount: optional(z.number()),
      }),
    ),
    MemorySummary: optional(z.object({ TotalSystemMemoryGiB: optional(z.number()) })),
    Processors: optional(LinkSchema),
    Memory: optional(LinkSchema),
    EthernetInterfaces: optional(LinkSchema),
    Storage: optional(LinkSchema),
    SimpleStorage: optional(LinkSchema),
    Links: optional(z.object({ ResourceBlocks: LinksSchema, Chassis: LinksSchema })),
    Actions: optional(z.object({ "#ComputerSystem.Reset": optional(ResetActionSchema) })),
  }),
);
export type RedfishSystem = z.infer<typeof SystemSchema>;

/** A DMTF ResourceBlock: its devices are arrays of links, not collections. */
export const ResourceBlockSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    Processors: LinksSchema,
    Memory: LinksSchema,
    EthernetInterfaces: LinksSchema,
    Drives: LinksSchema,
    Storage: LinksSchema,
    SimpleStorage: LinksSchema,
    ComputerSystems: LinksSchema,
  }),
);
export type ResourceBlock = z.infer<typeof ResourceBlockSchema>;

export const ProcessorSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    ProcessorType: optional(z.string()),
    ProcessorArchitecture: optional(z.string()),
    InstructionSet: optional(z.string()),
    TotalCores: optional(z.number()),
    TotalThreads: optional(z.number()),
    Model: optional(z.string()),
    /** The vendor: with `Model` and `ProcessorType`, what the hardware summary and its traits name. */
    Manufacturer: optional(z.string()),
    Status: StatusSchema,
  }),
);
export type Processor = z.infer<typeof ProcessorSchema>;

/**
 * A memory device. `MemoryType` (`DRAM`, `NVDIMM_N`, `IntelOptane`, ...) and `MemoryDeviceType` (`DDR5`, `HBM`,
 * ...) say what it is; a CXL-attached device carries the `CXL` object (Memory v1.17 on), which is how the
 * summary tells CXL memory from a DIMM.
 */
export const MemorySchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    CapacityMiB: optional(z.number()),
    MemoryType: optional(z.string()),
    MemoryDeviceType: optional(z.string()),
    CXL: optional(z.object({})),
    Status: StatusSchema,
  }),
);
export type Memory = z.infer<typeof MemorySchema>;

export const EthernetInterfaceSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    MACAddress: optional(z.string()),
    PermanentMACAddress: optional(z.string()),
    /** The link speed: what NIC traits (`CUSTOM_NIC_100G`) are made of. */
    SpeedMbps: optional(z.number()),
    Status: StatusSchema,
  }),
);
export type EthernetInterface = z.infer<typeof EthernetInterfaceSchema>;

/** A Chassis: where a server's NICs are listed when its system lists none (`NetworkAdapters`). */
export const ChassisSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({ NetworkAdapters: optional(LinkSchema) }),
);

/** A NetworkAdapter: its ports (`Ports`, Redfish 2020.3 on) and the older `NetworkPorts`. */
export const NetworkAdapterSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    Ports: optional(LinkSchema),
    NetworkPorts: optional(LinkSchema),
  }),
);

/** A Port of a NetworkAdapter: its MACs are `Ethernet.AssociatedMACAddresses`. */
export const PortSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    Ethernet: optional(z.object({ AssociatedMACAddresses: optional(z.array(optional(z.string()))) })),
    /** The link speed, in Gbit/s. */
    CurrentSpeedGbps: optional(z.number()),
    Status: StatusSchema,
  }),
);

/** A NetworkPort (deprecated in favour of Port, still served): its MACs are `AssociatedNetworkAddresses`. */
export const NetworkPortSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    AssociatedNetworkAddresses: optional(z.array(optional(z.string()))),
    CurrentLinkSpeedMbps: optional(z.number()),
    Status: StatusSchema,
  }),
);

/** RSD 2.x remote targets report `CapacityGiB`; DMTF drives report `CapacityBytes`. */
export const DriveSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    CapacityBytes: optional(z.number()),
    CapacityGiB: optional(z.number()),
    /** `SSD`, `HDD`, `SMR`: with `Protocol` (`NVMe`, `SAS`, `SATA`, ...), what drive traits are made of. */
    MediaType: optional(z.string()),
    Protocol: optional(z.string()),
    Status: StatusSchema,
  }),
);
export type Drive = z.infer<typeof DriveSchema>;

export const StorageSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({ Drives: LinksSchema, Volumes: optional(LinkSchema) }),
);

export const VolumeSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({ CapacityBytes: optional(z.number()) }),
);

export const SimpleStorageSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    Devices: optional(z.array(z.object({ CapacityBytes: optional(z.number()), Status: StatusSchema }))),
  }),
);

/** An Intel RSD 2.x ComposedNode. `Processors`/`Memory` here are summaries; the devices are under `Links`. */
export const ComposedNodeSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    Id: z.string(),
    Name: optional(z.string()),
    UUID: optional(z.string()),
    PowerState: optional(z.string()),
    ComposedNodeState: optional(z.string()),
    Boot: optional(BootSchema),
    Processors: optional(z.object({ Count: optional(z.number()) })),
    Memory: optional(z.object({ TotalSystemMemoryGiB: optional(z.number()) })),
    Links: z.object({
      ComputerSystem: LinkSchema,
      Processors: LinksSchema,
      Memory: LinksSchema,
      EthernetInterfaces: LinksSchema,
      LocalDrives: LinksSchema,
      RemoteDrives: LinksSchema,
    }),
    Actions: optional(z.object({ "#ComposedNode.Reset": optional(ResetActionSchema) })),
  }),
);
export type ComposedNode = z.infer<typeof ComposedNodeSchema>;

/**
 * Parse one Redfish resource. A shape we cannot use is the pod manager's fault, so it is a 502 naming the request
 * and every bad field: "GET /redfish/v1/Systems/1: field Id missing".
 */
export function parseResource<S extends z.ZodMiniType>(
  schema: S,
  body: unknown,
  request: string,
  podManager: string,
): z.infer<S> {
  const result = safeParse(schema, body);
  if (result.success) return result.data;
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new PodManagerResponseError(podManager, `${request}: expected a JSON object`, {
      cause: result.error,
    });
  }
  const problems = result.error.issues.map((issue) => describeIssue(issue, body));
  throw new PodManagerResponseError(podManager, `${request}: ${problems.join("; ")}`, {
    cause: result.error,
  });
}

function describeIssue(issue: z.core.$ZodIssue, body: unknown): string {
  const field = issue.path.map(String).join(".");
  if (issue.code === "invalid_type" && valueAt(body, issue.path) === undefined)
    return `field ${field} missing`;
  return `field ${formatIssue(issue, body)}`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const key of path) {
    if (current === null || typeof current !== "object" || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}
