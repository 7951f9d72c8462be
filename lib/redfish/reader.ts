import * as z from "zod/mini";
import { lazySchema } from "../lazy-schema.ts";
import { safeParse } from "../validation.ts";
import { readTarget, SERVICE_ROOT, type Target } from "./common.ts";
import { ComposedSystemNotFoundError, PodManagerResponseTooLargeError } from "./errors.ts";
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
import { isSuccess, type RedfishResponse, type RedfishTransport } from "./transport.ts";

type Path = string | Link;

/**
 * `ProtocolFeaturesSupported.ExpandQuery` of a service root: what `$expand` the service takes (DSP0266). Only `.`
 * (`NoLinks`, subordinate resources and collection members, never `Links`) is used.
 */
const ExpandQuerySchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    ProtocolFeaturesSupported: z.optional(
      z.nullable(
        z.object({
          ExpandQuery: z.optional(
            z.nullable(
              z.object({
                NoLinks: z.optional(z.nullable(z.boolean())),
                Levels: z.optional(z.nullable(z.boolean())),
                MaxLevels: z.optional(z.nullable(z.number())),
              }),
            ),
          ),
        }),
      ),
    ),
  }),
);

/** How deep a read of a composed system expands: its collections (1), their members (2), a Storage's drives (3). */
const SYSTEM_EXPAND_LEVELS = 3;
/** How long a service root's answer about `$expand` is trusted in this process (a warm Lambda's reads reuse it). */
const EXPAND_SUPPORT_TTL_MS = 10 * 60_000;
const expandSupport = new Map<string, { until: number; levels: Promise<number> }>();

/** The `$levels` of `.` expansion a service takes (0: none), from its service root, read once per process and TTL. */
export function expandLevels(transport: RedfishTransport, now = Date.now()): Promise<number> {
  const known = expandSupport.get(transport.podManager);
  if (known && known.until > now) return known.levels;
  const levels = transport
    .request("GET", SERVICE_ROOT, { auth: false })
    .then((response) => {
      if (!isSuccess(response.status)) return 0;
      const parsed = safeParse(ExpandQuerySchema, response.body);
      const expand = parsed.success ? parsed.data.ProtocolFeaturesSupported?.ExpandQuery : undefined;
      if (!expand?.NoLinks) return 0;
      return expand.Levels ? Math.max(1, Math.min(SYSTEM_EXPAND_LEVELS, expand.MaxLevels ?? 1)) : 1;
    })
    .catch(() => 0);
  expandSupport.set(transport.podManager, { until: now + EXPAND_SUPPORT_TTL_MS, levels });
  return levels;
}

/** Forgets what service roots said about `$expand` (tests that change a service's answer). */
export function forgetExpandSupport(): void {
  expandSupport.clear();
}

/** The query a read with `$expand` of subordinate resources adds to a path. */
function expandQuery(levels: number): string {
  return levels === 1 ? "?$expand=." : `?$expand=.($levels=${levels})`;
}

/** Every complete resource inside an expanded body (an object with `@odata.id` and more), by path. */
function embeddedResources(
  body: unknown,
  found: Array<[string, unknown]> = [],
  top = true,
): Array<[string, unknown]> {
  if (Array.isArray(body)) {
    for (const entry of body) embeddedResources(entry, found, false);
  } else if (typeof body === "object" && body !== null) {
    const record = body as Record<string, unknown>;
    const id = record["@odata.id"];
    if (!top && typeof id === "string" && !id.includes("#") && Object.keys(record).length > 1) {
      found.push([id, record]);
    }
    for (const [key, value] of Object.entries(record)) {
      if (key !== "@odata.id") embeddedResources(value, found, false);
    }
  }
  return found;
}

/**
 * Reads the resources of one composed system. Each URI is fetched at most once (resource blocks, systems and
 * collections point at the same devices), and independent reads run in parallel: a BMC takes ~100 ms a request.
 */
export class ResourceReader {
  private readonly cache = new Map<string, Promise<unknown>>();
  private readonly skipped = new Set<string>();

  /**
   * `expandLevels`: the `$levels` of `.` expansion the service takes (0: none). Each read then asks for its
   * subordinate resources inline and keeps them, so a collection's members or a block's devices cost no round trip
   * of their own.
   */
  constructor(
    private readonly transport: RedfishTransport,
    private expandLevels = 0,
  ) {}

  /** A reader using `$expand` where the service root advertises it (`ProtocolFeaturesSupported.ExpandQuery`). */
  static async open(transport: RedfishTransport): Promise<ResourceReader> {
    return new ResourceReader(transport, await expandLevels(transport));
  }

  /** Records a body already fetched (e.g. the system itself, read with its own 404 handling). */
  seed(path: string, body: unknown): void {
    this.cache.set(this.transport.toPath(path), Promise.resolve(body));
  }

  /**
   * The composed system itself, where a 404 means "no such system": with `$expand` its collections, their members
   * and a Storage's drives come with it (three levels, at most the service's `MaxLevels`).
   */
  async readTarget<S extends z.ZodMiniType>(
    schema: S,
    target: Target,
  ): Promise<{ resource: z.infer<S>; body: unknown; etag?: string }> {
    const expanded = await this.expandedGet(target.path, SYSTEM_EXPAND_LEVELS);
    if (expanded) {
      if (expanded.status === 404)
        throw new ComposedSystemNotFoundError(this.transport.podManager, target.index, target.path);
      if (!isSuccess(expanded.status)) throw this.transport.statusError(expanded);
      const resource = parseResource(schema, expanded.body, `GET ${target.path}`, this.transport.podManager);
      this.keep(target.path, expanded.body);
      this.seed(target.path, expanded.body);
      return { resource, body: expanded.body, etag: expanded.headers.get("etag") ?? undefined };
    }
    const read = await readTarget(this.transport, schema, target);
    this.seed(target.path, read.body);
    return read;
  }

  read<S extends z.ZodMiniType>(schema: S, reference: Path): Promise<z.infer<S>> {
    const path = this.pathOf(reference);
    let body = this.cache.get(path);
    if (!body) {
      body = this.fetch(path);
      this.cache.set(path, body);
    }
    return body.then((value) => parseResource(schema, value, `GET ${path}`, this.transport.podManager));
  }

  /** One GET, with `$expand=.` where the service takes it; what came inline is kept for the reads after. */
  private async fetch(path: string): Promise<unknown> {
    const expanded = await this.expandedGet(path, 1);
    if (!expanded) return this.transport.get(path);
    if (!isSuccess(expanded.status)) throw this.transport.statusError(expanded);
    this.keep(path, expanded.body);
    return expanded.body;
  }

  /**
   * A GET with `$expand=.` to `levels` deep (at most what the service takes), or `undefined` without a request
   * when the service takes none. A service that refuses the query after all (400, 501, or an answer too large to
   * read) is read without it from then on, by this reader and every one in this process.
   */
  private async expandedGet(path: string, levels: number): Promise<RedfishResponse | undefined> {
    if (this.expandLevels === 0) return undefined;
    const query = expandQuery(Math.min(levels, this.expandLevels));
    try {
      const response = await this.transport.request("GET", `${path}${query}`);
      if (response.status !== 400 && response.status !== 501) return { ...response, path };
    } catch (error) {
      if (!(error instanceof PodManagerResponseTooLargeError)) throw error;
    }
    this.expandLevels = 0;
    expandSupport.set(this.transport.podManager, {
      until: Date.now() + EXPAND_SUPPORT_TTL_MS,
      levels: Promise.resolve(0),
    });
    return undefined;
  }

  /** Keeps every complete resource an expanded body carries, under its own path. */
  private keep(path: string, body: unknown): void {
    for (const [id, resource] of embeddedResources(body)) {
      const at = this.transport.toPath(id);
      if (at !== path && !this.cache.has(at)) this.cache.set(at, Promise.resolve(resource));
    }
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
