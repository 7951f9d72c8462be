import type { z } from "zod/mini";
import { type DetectedNic, driveBytes, isEnabled, type StorageSizes, usableMac } from "./hardware.ts";
import {
  ChassisSchema,
  CollectionSchema,
  DriveSchema,
  EthernetInterfaceSchema,
  type Link,
  MemorySchema,
  NetworkAdapterSchema,
  NetworkPortSchema,
  PortSchema,
  ProcessorSchema,
  parseResource,
  type RedfishSystem,
  ResourceBlockSchema,
  SimpleStorageSchema,
  StorageSchema,
  SystemSchema,
  VolumeSchema,
} from "./schemas.ts";
import type { RedfishTransport } from "./transport.ts";

type Path = string | Link;

/**
 * Reads the resources of one composed system. Each URI is fetched at most once (resource blocks, systems and
 * collections point at the same devices), and independent reads run in parallel: a BMC takes ~100 ms a request.
 */
export class ResourceReader {
  private readonly cache = new Map<string, Promise<unknown>>();
  private readonly skipped = new Set<string>();

  constructor(private readonly transport: RedfishTransport) {}

  /** Records a body already fetched (e.g. the system itself, read with its own 404 handling). */
  seed(path: string, body: unknown): void {
    this.cache.set(this.transport.toPath(path), Promise.resolve(body));
  }

  read<S extends z.ZodMiniType>(schema: S, reference: Path): Promise<z.infer<S>> {
    const path = this.pathOf(reference);
    let body = this.cache.get(path);
    if (!body) {
      body = this.transport.get(path);
      this.cache.set(path, body);
    }
    return body.then((value) => parseResource(schema, value, `GET ${path}`, this.transport.podManager));
  }

  readAll<S extends z.ZodMiniType>(schema: S, references: readonly Path[]): Promise<Array<z.infer<S>>> {
    const unique = [...new Set(references.map((reference) => this.pathOf(reference)))];
    return Promise.all(unique.map((path) => this.read(schema, path)));
  }

  async members(collection: Path): Promise<string[]> {
    const { Members } = await this.read(CollectionSchema, collection);
    return Members.map((member) => this.pathOf(member));
  }

  /** One EthernetInterface: its NIC, or nothing (and a warning) when it has no MAC Ironic can use. */
  async nic(reference: Path): Promise<DetectedNic | undefined> {
    const path = this.pathOf(reference);
    const nic = await this.read(EthernetInterfaceSchema, path);
    const found = this.usable(
      `GET ${path}: field MACAddress`,
      nic.MACAddress ?? nic.PermanentMACAddress,
      isEnabled(nic.Status),
    );
    return found && nic.SpeedMbps != null && nic.SpeedMbps > 0
      ? { ...found, speedMbps: nic.SpeedMbps }
      : found;
  }

  async nics(references: readonly Path[]): Promise<DetectedNic[]> {
    const unique = [...new Set(references.map((reference) => this.pathOf(reference)))];
    const nics = await Promise.all(unique.map((path) => this.nic(path)));
    return nics.filter((nic) => nic !== undefined);
  }

  /**
   * The NICs of these chassis, where servers list them when their system does not: each `NetworkAdapter`'s
   * `Ports` (`Ethernet.AssociatedMACAddresses`) and older `NetworkPorts` (`AssociatedNetworkAddresses`).
   */
  async chassisNics(chassis: readonly Path[]): Promise<DetectedNic[]> {
    const adapters = await Promise.all(
      [...new Set(chassis.map((link) => this.pathOf(link)))].map(async (path) => {
        const { NetworkAdapters } = await this.read(ChassisSchema, path);
        return NetworkAdapters ? this.members(NetworkAdapters) : [];
      }),
    );
    const perAdapter = await Promise.all(
      adapters.flat().map(async (path) => {
        const adapter = await this.read(NetworkAdapterSchema, path);
        const [ports, networkPorts] = await Promise.all([
          adapter.Ports ? this.members(adapter.Ports) : [],
          adapter.NetworkPorts ? this.members(adapter.NetworkPorts) : [],
        ]);
        const fromPorts = ports.map(async (port) => {
          const body = await this.read(PortSchema, port);
          return this.addresses(
            `GET ${port}: Ethernet.AssociatedMACAddresses`,
            body.Ethernet?.AssociatedMACAddresses,
            isEnabled(body.Status),
            body.CurrentSpeedGbps != null ? body.CurrentSpeedGbps * 1000 : undefined,
          );
        });
        const fromNetworkPorts = networkPorts.map(async (port) => {
          const body = await this.read(NetworkPortSchema, port);
          return this.addresses(
            `GET ${port}: AssociatedNetworkAddresses`,
            body.AssociatedNetworkAddresses,
            isEnabled(body.Status),
            body.CurrentLinkSpeedMbps ?? undefined,
          );
        });
        return (await Promise.all([...fromPorts, ...fromNetworkPorts])).flat();
      }),
    );
    return perAdapter.flat();
  }

  /** What was skipped while reading, for the operator: a sentence each. */
  warnings(): string[] {
    return [...this.skipped];
  }

  private addresses(
    source: string,
    raw: ReadonlyArray<string | null | undefined> | null | undefined,
    enabled: boolean,
    speedMbps?: number,
  ) {
    return (raw ?? [])
      .map((address, index) => this.usable(`${source}[${index}]`, address, enabled))
      .filter((nic) => nic !== undefined)
      .map((nic) => (speedMbps && speedMbps > 0 ? { ...nic, speedMbps } : nic));
  }

  private usable(source: string, raw: string | null | undefined, enabled: boolean): DetectedNic | undefined {
    const found = usableMac(raw);
    if ("mac" in found) return { mac: found.mac, enabled };
    this.skipped.add(`${source} ${found.problem === "missing" ? "missing" : `is ${found.problem}`}: skipped`);
    return undefined;
  }

  /**
   * The sizes Ironic chooses `local_gb` among, behind these Drive, Storage and SimpleStorage links: each drive
   * once; volumes only when every Storage has a `Volumes` collection (sushy gives up on volumes otherwise).
   */
  async storageSizes(links: {
    drives?: readonly Path[];
    storage?: readonly Path[];
    simpleStorage?: readonly Path[];
  }): Promise<StorageSizes> {
    const [storages, simple] = await Promise.all([
      this.readAll(StorageSchema, links.storage ?? []),
      this.readAll(SimpleStorageSchema, links.simpleStorage ?? []),
    ]);
    const drivePaths = [...(links.drives ?? []), ...storages.flatMap((storage) => storage.Drives ?? [])];
    const volumeCollections = storages.map((storage) => storage.Volumes);
    const [drives, volumes] = await Promise.all([
      this.readAll(DriveSchema, drivePaths),
      volumeCollections.length > 0 && volumeCollections.every((link) => link != null)
        ? Promise.all(volumeCollections.map((link) => this.members(link as Link))).then((paths) =>
            this.readAll(VolumeSchema, paths.flat()),
          )
        : undefined,
    ]);
    const known = (size: number | null | undefined): size is number => size != null;
    return {
      volumes: volumes?.map((volume) => volume.CapacityBytes).filter(known),
      drives: drives.map(driveBytes).filter(known),
      driveKinds: drives.map((drive) => ({
        media: drive.MediaType ?? undefined,
        protocol: drive.Protocol ?? undefined,
      })),
      simpleStorage: simple
        .flatMap((entry) => entry.Devices ?? [])
        .filter((device) => device.Status?.State === "Enabled")
        .map((device) => device.CapacityBytes)
        .filter(known),
    };
  }

  pathOf(reference: Path): string {
    return this.transport.toPath(typeof reference === "string" ? reference : reference["@odata.id"]);
  }
}

/** `{ warnings }` when the reader skipped something, nothing otherwise. */
export function warningsOf(reader: ResourceReader): { warnings?: string[] } {
  const warnings = reader.warnings();
  return warnings.length > 0 ? { warnings } : {};
}

/**
 * The hardware of a DMTF ComputerSystem. A composed system's devices often live in its resource blocks (DMTF's
 * mockup lists a NIC only in `ComputeBlock1`), so NICs are gathered from the system, from its blocks, and from
 * systems those blocks contain; when none of them has a usable MAC, from the chassis the system links to. Processors, memory and storage come from the system's own collections when it has
 * them (they reference the blocks' devices), from the blocks otherwise — never both, so nothing counts twice.
 */
export async function readSystemInventory(reader: ResourceReader, system: RedfishSystem, systemPath: string) {
  const blocks = reader.readAll(ResourceBlockSchema, system.Links?.ResourceBlocks ?? []);
  const fromBlocks = (
    pick: (block: z.infer<typeof ResourceBlockSchema>) => readonly Link[] | null | undefined,
  ) => blocks.then((list) => list.flatMap((block) => pick(block) ?? []));

  const processors = (
    system.Processors ? reader.members(system.Processors) : fromBlocks((b) => b.Processors)
  ).then((paths) => reader.readAll(ProcessorSchema, paths));
  const dimms = (system.Memory ? reader.members(system.Memory) : fromBlocks((b) => b.Memory)).then((paths) =>
    reader.readAll(MemorySchema, paths),
  );
  const storage =
    system.Storage || system.SimpleStorage
      ? Promise.all([
          system.Storage ? reader.members(system.Storage) : [],
          system.SimpleStorage ? reader.members(system.SimpleStorage) : [],
        ]).then(([storage, simpleStorage]) => reader.storageSizes({ storage, simpleStorage }))
      : blocks.then((list) =>
          reader.storageSizes({
            drives: list.flatMap((b) => b.Drives ?? []),
            storage: list.flatMap((b) => b.Storage ?? []),
            simpleStorage: list.flatMap((b) => b.SimpleStorage ?? []),
          }),
        );

  const ownNics = (
    system.EthernetInterfaces ? reader.members(system.EthernetInterfaces) : Promise.resolve([])
  ).then((paths) => reader.nics(paths));
  const blockNics = fromBlocks((b) => b.EthernetInterfaces).then((paths) => reader.nics(paths));
  const containedSystemNics = fromBlocks((b) => b.ComputerSystems).then((links) =>
    Promise.all(
      links
        .map((link) => reader.pathOf(link))
        .filter((path) => path !== systemPath)
        .map(async (path) => {
          const contained = await reader.read(SystemSchema, path);
          return contained.EthernetInterfaces
            ? reader.nics(await reader.members(contained.EthernetInterfaces))
            : [];
        }),
    ).then((lists) => lists.flat()),
  );

  // Servers that list no NIC (with a usable MAC) under their system list them under their chassis.
  const nics = Promise.all([ownNics, blockNics, containedSystemNics]).then((lists) => {
    const found = lists.flat();
    return found.length > 0 ? found : reader.chassisNics(system.Links?.Chassis ?? []);
  });

  const [processorList, dimmList, storageSizes, nicList] = await Promise.all([
    processors,
    dimms,
    storage,
    nics,
  ]);
  return { processors: processorList, dimms: dimmList, storage: storageSizes, nics: nicList };
}
