import { EXPAND_QUERY } from "./expand.ts";
import type { Block, Member } from "./inventory.ts";
import {
  BOOT_MODES,
  BOOT_TARGETS,
  type Composition,
  type EmulatorMode,
  type Pod,
  RESET_TYPES,
} from "./pod.ts";

/**
 * The Redfish representations of the emulator's state. Device resources live in their resource blocks; a composed
 * system's collections point there in DMTF style (as DMTF's composability mockup does), or at aliases under the
 * system in RSD style (as an RSD PODM shows them). Both addresses always answer.
 */

export const ROOT = "/redfish/v1/";
export const SYSTEMS = "/redfish/v1/Systems";
export const NODES = "/redfish/v1/Nodes";
export const BLOCKS = "/redfish/v1/CompositionService/ResourceBlocks";
export const SESSIONS = "/redfish/v1/SessionService/Sessions";
export const ACCOUNT_SERVICE = "/redfish/v1/AccountService";
export const ACCOUNTS = "/redfish/v1/AccountService/Accounts";
export const MANAGER = "/redfish/v1/Managers/PodManager";
export const CHASSIS = "/redfish/v1/Chassis/Pod";
const ZONE = "/redfish/v1/CompositionService/ResourceZones/1";
const SERVICE_UUID = "6f1c2a4e-7a1e-4c3b-9d2e-000000000001";

export type DeviceKind = "Processors" | "Memory" | "EthernetInterfaces" | "Drives";
export type Json = Record<string, unknown>;

export interface View {
  mode: EmulatorMode;
  pod: Pod;
  sessionsEnabled: boolean;
  disabledMacs: ReadonlySet<string>;
  /** Composed systems list no EthernetInterfaces: their NICs are ports of their own chassis' network adapter. */
  nicsUnderChassis: boolean;
  /** The service root advertises `$expand` (and GETs take it). */
  expandEnabled: boolean;
}

const link = (path: string) => ({ "@odata.id": path });
/** The members every Redfish resource starts with: its type, address, id and name. */
const resource = (type: string, path: string, id: string, name: string) => ({
  "@odata.type": type,
  "@odata.id": path,
  Id: id,
  Name: name,
});
const ok = { State: "Enabled", Health: "OK" };

export const hasDmtf = (mode: EmulatorMode) => mode !== "rsd";
export const hasRsd = (mode: EmulatorMode) => mode !== "dmtf";

export function systemPath(composition: Composition): string {
  return `${SYSTEMS}/${composition.systemId}`;
}

export function nodePath(composition: Composition): string {
  return `${NODES}/${composition.nodeId}`;
}

export function collection(
  type: string,
  path: string,
  name: string,
  members: string[],
  extra: Json = {},
): Json {
  return {
    "@odata.type": `#${type}.${type}`,
    "@odata.id": path,
    Name: name,
    "Members@odata.count": members.length,
    Members: members.map(link),
    ...extra,
  };
}

export function serviceRoot(view: View): Json {
  return {
    ...resource(
      "#ServiceRoot.v1_11_0.ServiceRoot",
      ROOT,
      "RootService",
      "Valence Redfish pod manager emulator",
    ),
    RedfishVersion: "1.15.0",
    UUID: SERVICE_UUID,
    Systems: link(SYSTEMS),
    Chassis: link("/redfish/v1/Chassis"),
    Managers: link("/redfish/v1/Managers"),
    SessionService: link("/redfish/v1/SessionService"),
    AccountService: link(ACCOUNT_SERVICE),
    ...(hasDmtf(view.mode) ? { CompositionService: link("/redfish/v1/CompositionService") } : {}),
    ...(hasRsd(view.mode) ? { Nodes: link(NODES) } : {}),
    Links: { Sessions: link(SESSIONS) },
    ...(view.expandEnabled ? { ProtocolFeaturesSupported: { ExpandQuery: { ...EXPAND_QUERY } } } : {}),
  };
}

export function sessionService(view: View): Json {
  return {
    ...resource(
      "#SessionService.v1_1_8.SessionService",
      "/redfish/v1/SessionService",
      "SessionService",
      "Session Service",
    ),
    ServiceEnabled: view.sessionsEnabled,
    SessionTimeout: 1800,
    Sessions: link(SESSIONS),
  };
}

export function session(id: string, userName: string): Json {
  return {
    ...resource("#Session.v1_3_0.Session", `${SESSIONS}/${id}`, id, "User Session"),
    UserName: userName,
  };
}

export function accountService(): Json {
  return {
    ...resource(
      "#AccountService.v1_10_0.AccountService",
      ACCOUNT_SERVICE,
      "AccountService",
      "Account Service",
    ),
    ServiceEnabled: true,
    Accounts: link(ACCOUNTS),
  };
}

/** A manager account; like every Redfish service, the password is write-only and reads as `null`. */
export function account(id: string, userName: string): Json {
  return {
    ...resource("#ManagerAccount.v1_9_0.ManagerAccount", `${ACCOUNTS}/${id}`, id, "User Account"),
    UserName: userName,
    Password: null,
    RoleId: "Administrator",
    Enabled: true,
    Locked: false,
  };
}

export function systemsCollection(view: View): Json {
  const members = [...view.pod.compositions.values()].map(systemPath);
  if (!hasDmtf(view.mode))
    return collection("ComputerSystemCollection", SYSTEMS, "Computer System Collection", members);
  const capability = (object: string, useCase: string) => ({
    CapabilitiesObject: link(`${SYSTEMS}/${object}`),
    UseCase: useCase,
    Links: { TargetCollection: link(SYSTEMS), RelatedItem: [link(ZONE)] },
  });
  return collection("ComputerSystemCollection", SYSTEMS, "Computer System Collection", members, {
    "@Redfish.CollectionCapabilities": {
      "@odata.type": "#CollectionCapabilities.v1_4_1.CollectionCapabilities",
      Capabilities: [
        capability("Capabilities", "ComputerSystemComposition"),
        capability("ConstrainedCompositionCapabilities", "ComputerSystemConstrainedComposition"),
      ],
    },
  });
}

/** The capabilities objects DSP2050 clients read to learn what a POST to Systems may contain. */
export function capabilities(kind: "Capabilities" | "ConstrainedCompositionCapabilities"): Json {
  const common = {
    "@odata.type": "#ComputerSystem.v1_20_0.ComputerSystem",
    "@odata.id": `${SYSTEMS}/${kind}`,
    Id: kind,
    Name:
      kind === "Capabilities" ? "Specific composition capabilities" : "Constrained composition capabilities",
    "Name@Redfish.RequiredOnCreate": true,
    "Description@Redfish.OptionalOnCreate": true,
    "Boot@Redfish.OptionalOnCreate": true,
  };
  if (kind === "Capabilities") {
    return {
      ...common,
      "Links@Redfish.RequiredOnCreate": true,
      Links: { "ResourceBlocks@Redfish.RequiredOnCreate": true },
      "@Redfish.ResourceBlockLimits": { MinCompute: 1, MaxCompute: 1, MaxStorage: 8 },
    };
  }
  return {
    ...common,
    "Processors@Redfish.OptionalOnCreate": true,
    Processors: {
      Members: [
        {
          "@Redfish.RequestedCountRequired": true,
          "TotalCores@Redfish.OptionalOnCreate": true,
          "Model@Redfish.OptionalOnCreate": true,
          "InstructionSet@Redfish.OptionalOnCreate": true,
        },
      ],
    },
    "Memory@Redfish.OptionalOnCreate": true,
    Memory: {
      Members: [{ "@Redfish.RequestedCountRequired": true, "CapacityMiB@Redfish.RequiredOnCreate": true }],
    },
  };
}

function devicePath(
  kind: DeviceKind,
  member: Member<unknown>,
  owner: Block,
  composition?: Composition,
): string {
  if (!composition) return `${BLOCKS}/${owner.id}/${kind}/${member.id}`;
  return kind === "Drives"
    ? `${systemPath(composition)}/Storage/Local/Drives/${member.id}`
    : `${systemPath(composition)}/${kind}/${member.id}`;
}

function blocksOf(composition: Composition): Block[] {
  return [composition.computeBlock, ...composition.driveBlocks];
}

/** Paths of a composition's devices, block-style or aliased under its system. */
export function devicePaths(composition: Composition, kind: DeviceKind, aliased: boolean): string[] {
  return blocksOf(composition).flatMap((block) =>
    membersOf(block, kind).map((member) =>
      devicePath(kind, member, block, aliased ? composition : undefined),
    ),
  );
}

export function membersOf(block: Block, kind: DeviceKind): Member<unknown>[] {
  switch (kind) {
    case "Processors":
      return block.processors;
    case "Memory":
      return block.memory;
    case "EthernetInterfaces":
      return block.nics;
    case "Drives":
      return block.drives;
  }
}

function totals(composition: Composition) {
  const cpus = composition.computeBlock.processors;
  const memoryMiB = composition.computeBlock.memory.reduce((sum, dimm) => sum + dimm.spec.capacityMiB, 0);
  return {
    count: cpus.length,
    cores: cpus.reduce((sum, cpu) => sum + cpu.spec.cores, 0),
    threads: cpus.reduce((sum, cpu) => sum + (cpu.spec.threads ?? cpu.spec.cores), 0),
    model: cpus[0]?.spec.model,
    memoryGiB: memoryMiB / 1024,
  };
}

function boot(composition: Composition): Json {
  return {
    BootSourceOverrideEnabled: composition.boot.enabled,
    BootSourceOverrideTarget: composition.boot.target,
    "BootSourceOverrideTarget@Redfish.AllowableValues": [...BOOT_TARGETS],
    BootSourceOverrideMode: composition.boot.mode,
    "BootSourceOverrideMode@Redfish.AllowableValues": [...BOOT_MODES],
  };
}

export function system(view: View, composition: Composition): Json {
  const path = systemPath(composition);
  const sum = totals(composition);
  return {
    ...resource("#ComputerSystem.v1_20_0.ComputerSystem", path, composition.systemId, composition.name),
    Description: composition.description ?? "Composed system",
    SystemType: "Composed",
    UUID: composition.uuid,
    Manufacturer: "Valence",
    Model: "Emulated composed system",
    SerialNumber: `EMU-${composition.number.toString().padStart(6, "0")}`,
    PowerState: composition.powerState,
    Status: { ...ok, HealthRollup: "OK" },
    Boot: boot(composition),
    ProcessorSummary: {
      Count: sum.count,
      CoreCount: sum.cores,
      LogicalProcessorCount: sum.threads,
      Model: sum.model,
      Status: ok,
    },
    MemorySummary: { TotalSystemMemoryGiB: sum.memoryGiB, Status: ok },
    Processors: link(`${path}/Processors`),
    Memory: link(`${path}/Memory`),
    EthernetInterfaces: link(`${path}/EthernetInterfaces`),
    Storage: link(`${path}/Storage`),
    Links: {
      ...(hasDmtf(view.mode)
        ? { ResourceBlocks: blocksOf(composition).map((block) => link(`${BLOCKS}/${block.id}`)) }
        : {}),
      Chassis: view.nicsUnderChassis ? [link(CHASSIS), link(chassisPathOf(composition))] : [link(CHASSIS)],
      ManagedBy: [link(MANAGER)],
    },
    Actions: {
      "#ComputerSystem.Reset": {
        target: `${path}/Actions/ComputerSystem.Reset`,
        "ResetType@Redfish.AllowableValues": [...RESET_TYPES],
      },
      // DSP2050's expandable composition, as the DMTF mockup `SystemAfterAddResourceAction` shows it.
      ...(hasDmtf(view.mode)
        ? {
            "#ComputerSystem.AddResourceBlock": { target: `${path}/Actions/ComputerSystem.AddResourceBlock` },
            "#ComputerSystem.RemoveResourceBlock": {
              target: `${path}/Actions/ComputerSystem.RemoveResourceBlock`,
            },
          }
        : {}),
    },
  };
}

/** A system's device collection: block paths in DMTF modes, aliases in RSD mode. */
export function systemCollection(
  view: View,
  composition: Composition,
  kind: Exclude<DeviceKind, "Drives">,
): Json {
  const types = {
    Processors: ["ProcessorCollection", "Processors Collection"],
    Memory: ["MemoryCollection", "Memory Collection"],
    EthernetInterfaces: ["EthernetInterfaceCollection", "Ethernet Interface Collection"],
  } as const;
  const [type, name] = types[kind];
  const hidden = kind === "EthernetInterfaces" && view.nicsUnderChassis;
  const members = hidden ? [] : devicePaths(composition, kind, !hasDmtf(view.mode));
  return collection(type, `${systemPath(composition)}/${kind}`, name, members);
}

export function systemStorageCollection(view: View, composition: Composition): Json {
  const path = `${systemPath(composition)}/Storage`;
  const withDrives = blocksOf(composition).filter((block) => block.drives.length > 0);
  const members = hasDmtf(view.mode)
    ? withDrives.map((block) => `${BLOCKS}/${block.id}/Storage/Local`)
    : withDrives.length > 0
      ? [`${path}/Local`]
      : [];
  return collection("StorageCollection", path, "Storage Collection", members);
}

/** The aggregated storage of an RSD-style system: every drive of its blocks. */
export function systemStorage(composition: Composition): Json {
  const drives = devicePaths(composition, "Drives", true);
  return storage(`${systemPath(composition)}/Storage/Local`, drives);
}

export function blockStorage(block: Block): Json {
  return storage(
    `${BLOCKS}/${block.id}/Storage/Local`,
    block.drives.map((drive) => devicePath("Drives", drive, block)),
  );
}

function storage(path: string, drives: string[]): Json {
  return {
    ...resource("#Storage.v1_8_0.Storage", path, "Local", "Local Storage"),
    Status: ok,
    "Drives@odata.count": drives.length,
    Drives: drives.map(link),
  };
}

export function node(view: View, composition: Composition): Json {
  const path = nodePath(composition);
  const sum = totals(composition);
  const failed = composition.nodeState === "Failed";
  return {
    ...resource("#ComposedNode.v1_1_0.ComposedNode", path, composition.nodeId, composition.name),
    Description: composition.description ?? "Composed node",
    SystemType: "Logical",
    UUID: composition.uuid,
    PowerState: composition.powerState,
    Status: failed
      ? { State: "Enabled", Health: "Critical", HealthRollup: "Critical" }
      : { ...ok, HealthRollup: "OK" },
    ComposedNodeState: composition.nodeState,
    Processors: { Count: sum.count, Model: sum.model, Status: ok },
    Memory: { TotalSystemMemoryGiB: sum.memoryGiB, Status: ok },
    Boot: boot(composition),
    ClearTPMOnDelete: false,
    Links: {
      ComputerSystem: link(systemPath(composition)),
      Processors: devicePaths(composition, "Processors", true).map(link),
      Memory: devicePaths(composition, "Memory", true).map(link),
      EthernetInterfaces: view.nicsUnderChassis
        ? []
        : devicePaths(composition, "EthernetInterfaces", true).map(link),
      LocalDrives: devicePaths(composition, "Drives", true).map(link),
      RemoteDrives: [],
      ManagedBy: [link(MANAGER)],
      Oem: {},
    },
    Actions: {
      "#ComposedNode.Reset": {
        target: `${path}/Actions/ComposedNode.Reset`,
        "ResetType@Redfish.AllowableValues": [...RESET_TYPES],
      },
      "#ComposedNode.Assemble": { target: `${path}/Actions/ComposedNode.Assemble` },
    },
  };
}

export function nodesCollection(view: View): Json {
  const members = [...view.pod.compositions.values()].map(nodePath);
  return collection("ComposedNodeCollection", NODES, "Composed Nodes Collection", members, {
    Actions: { "#ComposedNodeCollection.Allocate": { target: `${NODES}/Actions/Allocate` } },
  });
}

export function compositionService(): Json {
  return {
    ...resource(
      "#CompositionService.v1_2_0.CompositionService",
      "/redfish/v1/CompositionService",
      "CompositionService",
      "Composition Service",
    ),
    Status: ok,
    ServiceEnabled: true,
    AllowOverprovisioning: false,
    AllowZoneAffinity: true,
    ResourceBlocks: link(BLOCKS),
    ResourceZones: link("/redfish/v1/CompositionService/ResourceZones"),
  };
}

export function zone(view: View): Json {
  return {
    ...resource("#Zone.v1_6_0.Zone", ZONE, "1", "Resource Zone 1"),
    Status: ok,
    ZoneType: "ZoneOfResourceBlocks",
    Links: { ResourceBlocks: view.pod.blocks.map((block) => link(`${BLOCKS}/${block.id}`)) },
  };
}

export function resourceBlock(view: View, block: Block): Json {
  const composition = view.pod.compositionOf(block);
  const paths = (kind: DeviceKind) =>
    membersOf(block, kind).map((member) => link(devicePath(kind, member, block)));
  return {
    ...resource("#ResourceBlock.v1_4_0.ResourceBlock", `${BLOCKS}/${block.id}`, block.id, block.id),
    ResourceBlockType:
      block.kind === "compute"
        ? ["Compute", "Network"]
        : block.kind === "offload"
          ? ["Processor"]
          : ["Storage"],
    Status: ok,
    CompositionStatus: {
      Reserved: false,
      CompositionState: composition ? "Composed" : "Unused",
      SharingCapable: false,
      MaxCompositions: 1,
      NumberOfCompositions: composition ? 1 : 0,
    },
    Processors: paths("Processors"),
    Memory: paths("Memory"),
    EthernetInterfaces: view.nicsUnderChassis ? [] : paths("EthernetInterfaces"),
    Drives: paths("Drives"),
    Storage: block.drives.length > 0 ? [link(`${BLOCKS}/${block.id}/Storage/Local`)] : [],
    Links: {
      ComputerSystems: composition ? [link(systemPath(composition))] : [],
      Chassis: [link(CHASSIS)],
      Zones: [link(ZONE)],
    },
  };
}

/** One device, at whichever of its two addresses was asked for. */
export function device(
  view: View,
  kind: DeviceKind,
  block: Block,
  id: string,
  path: string,
): Json | undefined {
  if (kind === "Processors") {
    const cpu = block.processors.find((member) => member.id === id);
    if (!cpu) return undefined;
    const instructionSet = cpu.spec.instructionSet ?? "x86-64";
    const type = cpu.spec.type ?? "CPU";
    return {
      ...resource("#Processor.v1_11_0.Processor", path, id, "Processor"),
      Socket: `${type} ${block.processors.indexOf(cpu)}`,
      ProcessorType: type,
      // An accelerator has no CPU architecture of its own.
      ...(type === "CPU"
        ? {
            ProcessorArchitecture: instructionSet.startsWith("ARM") ? "ARM" : "x86",
            InstructionSet: instructionSet,
          }
        : {}),
      Manufacturer: cpu.spec.manufacturer ?? "Intel(R) Corporation",
      Model: cpu.spec.model,
      MaxSpeedMHz: cpu.spec.speedMHz ?? 2400,
      TotalCores: cpu.spec.cores,
      TotalThreads: cpu.spec.threads ?? cpu.spec.cores,
      Status: ok,
    };
  }
  if (kind === "Memory") {
    const dimm = block.memory.find((member) => member.id === id);
    if (!dimm) return undefined;
    return {
      ...resource("#Memory.v1_10_0.Memory", path, id, `DIMM ${block.memory.indexOf(dimm)}`),
      CapacityMiB: dimm.spec.capacityMiB,
      MemoryType: "DRAM",
      MemoryDeviceType: "DDR4",
      OperatingSpeedMhz: dimm.spec.speedMHz ?? 2666,
      Status: ok,
    };
  }
  if (kind === "EthernetInterfaces") {
    const nic = block.nics.find((member) => member.id === id);
    if (!nic) return undefined;
    const mac = nic.spec.mac;
    const disabled = [...view.disabledMacs].some((candidate) => candidate.toUpperCase() === mac);
    return {
      ...resource(
        "#EthernetInterface.v1_6_0.EthernetInterface",
        path,
        id,
        `Ethernet Interface ${block.nics.indexOf(nic)}`,
      ),
      Status: { State: disabled ? "Disabled" : "Enabled", Health: "OK" },
      InterfaceEnabled: !disabled,
      LinkStatus: disabled ? "LinkDown" : "LinkUp",
      PermanentMACAddress: mac,
      MACAddress: mac,
      SpeedMbps: nic.spec.speedMbps ?? 10_000,
      FullDuplex: true,
      MTUSize: 1500,
    };
  }
  const drive = block.drives.find((member) => member.id === id);
  if (!drive) return undefined;
  return {
    ...resource("#Drive.v1_9_0.Drive", path, id, `Drive ${block.drives.indexOf(drive)}`),
    CapacityBytes: drive.spec.capacityBytes,
    Protocol: drive.spec.protocol ?? "NVMe",
    MediaType: drive.spec.mediaType ?? "SSD",
    Model: drive.spec.model ?? "Emulated drive",
    Status: ok,
  };
}

/** Links to every composed system. */
const systemLinks = (view: View) => [...view.pod.compositions.values()].map((c) => link(systemPath(c)));

export function manager(view: View): Json {
  return {
    ...resource("#Manager.v1_10_0.Manager", MANAGER, "PodManager", "Pod manager"),
    ManagerType: "Service",
    UUID: SERVICE_UUID,
    Model: "Valence Redfish emulator",
    FirmwareVersion: "1.0.0",
    PowerState: "On",
    Status: ok,
    Links: {
      ManagerForServers: systemLinks(view),
      ManagerForChassis: [link(CHASSIS)],
    },
  };
}

export function chassis(view: View): Json {
  return {
    ...resource("#Chassis.v1_14_0.Chassis", CHASSIS, "Pod", "Pod enclosure"),
    ChassisType: "Enclosure",
    PowerState: "On",
    Status: ok,
    Links: {
      ComputerSystems: systemLinks(view),
      ManagedBy: [link(MANAGER)],
    },
  };
}

/** A composed system's own chassis, served with `nicsUnderChassis`. */
export function chassisPathOf(composition: Composition): string {
  return `/redfish/v1/Chassis/${composition.systemId}`;
}

/**
 * What a composed system's chassis serves with `nicsUnderChassis`, by the path segments below it: one network
 * adapter whose NICs alternate between its `Ports` (`Ethernet.AssociatedMACAddresses`) and the older
 * `NetworkPorts` (`AssociatedNetworkAddresses`), as servers that list no EthernetInterfaces do.
 */
export function systemChassisResource(
  view: View,
  composition: Composition,
  below: string[],
): Json | undefined {
  const path = chassisPathOf(composition);
  const adapter = `${path}/NetworkAdapters/1`;
  const nics = composition.computeBlock.nics;
  const inPorts = nics.filter((_, index) => index % 2 === 0);
  const inNetworkPorts = nics.filter((_, index) => index % 2 === 1);
  const status = (mac: string) =>
    [...view.disabledMacs].some((candidate) => candidate.toUpperCase() === mac)
      ? { State: "Disabled", Health: "OK" }
      : ok;
  const [adapters, adapterId, kind, portId, ...rest] = below;
  if (adapters === undefined) {
    return {
      ...resource("#Chassis.v1_14_0.Chassis", path, composition.systemId, `${composition.name} chassis`),
      ChassisType: "Module",
      Status: ok,
      NetworkAdapters: link(`${path}/NetworkAdapters`),
      Links: { ComputerSystems: [link(systemPath(composition))], ContainedBy: link(CHASSIS) },
    };
  }
  if (adapters !== "NetworkAdapters" || rest.length > 0) return undefined;
  if (adapterId === undefined) {
    return collection("NetworkAdapterCollection", `${path}/NetworkAdapters`, "Network Adapters", [adapter]);
  }
  if (adapterId !== "1") return undefined;
  if (kind === undefined) {
    return {
      ...resource("#NetworkAdapter.v1_9_0.NetworkAdapter", adapter, "1", "Network adapter"),
      Ports: link(`${adapter}/Ports`),
      NetworkPorts: link(`${adapter}/NetworkPorts`),
      Status: ok,
    };
  }
  if (kind !== "Ports" && kind !== "NetworkPorts") return undefined;
  const listed = kind === "Ports" ? inPorts : inNetworkPorts;
  if (portId === undefined) {
    const paths = listed.map((nic) => `${adapter}/${kind}/${nic.id}`);
    return collection(
      kind === "Ports" ? "PortCollection" : "NetworkPortCollection",
      `${adapter}/${kind}`,
      kind,
      paths,
    );
  }
  const nic = listed.find((member) => member.id === portId);
  if (!nic) return undefined;
  const common = { "@odata.id": `${adapter}/${kind}/${nic.id}`, Id: nic.id, Status: status(nic.spec.mac) };
  return kind === "Ports"
    ? {
        "@odata.type": "#Port.v1_4_0.Port",
        ...common,
        Name: "Port",
        Ethernet: { AssociatedMACAddresses: [nic.spec.mac] },
        CurrentSpeedGbps: (nic.spec.speedMbps ?? 10_000) / 1000,
      }
    : {
        "@odata.type": "#NetworkPort.v1_2_0.NetworkPort",
        ...common,
        Name: "Network port",
        AssociatedNetworkAddresses: [nic.spec.mac],
        CurrentLinkSpeedMbps: nic.spec.speedMbps ?? 10_000,
      };
}

/** The Redfish error body, which sushy and other clients parse for their messages. */
export function errorBody(message: string, status: number): Json {
  return {
    error: {
      code: "Base.1.0.GeneralError",
      message,
      "@Message.ExtendedInfo":
        status === 401
          ? []
          : [
              {
                "@odata.type": "#Message.v1_1_1.Message",
                MessageId: "Base.1.0.GeneralError",
                Message: message,
                Severity: "Critical",
                Resolution: "None",
              },
            ],
    },
  };
}
