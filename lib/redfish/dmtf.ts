import { ValidationError } from "../errors.ts";
import {
  bootSettings,
  createdPath,
  deleteIdempotent,
  patchBoot,
  postReset,
  readServiceRoot,
  readTarget,
  SERVICE_ROOT,
  segment,
  type Target,
} from "./common.ts";
import { dmtfComposition } from "./composition.ts";
import {
  CompositionFailedError,
  CompositionRefusedError,
  CompositionUnsupportedError,
  PodManagerResponseError,
} from "./errors.ts";
import { toHardware } from "./hardware.ts";
import { ResourceReader, readSystemInventory, warningsOf } from "./reader.ts";
import { CollectionSchema, parseResource, SystemSchema } from "./schemas.ts";
import { isSuccess, type RedfishTransport } from "./transport.ts";
import type { ComposedSystem, ComposeRequest, PodManagerClient } from "./types.ts";

const SYSTEMS = "/redfish/v1/Systems";
const RESOURCE_BLOCKS = "/redfish/v1/CompositionService/ResourceBlocks";
const SPECIFIC = "ComputerSystemComposition";
const CONSTRAINED = "ComputerSystemConstrainedComposition";

/**
 * DMTF composition (DSP2050): composed systems are ordinary members of `/redfish/v1/Systems` with
 * `SystemType: "Composed"`, made by POSTing to that collection and unmade by DELETE.
 */
export function createDmtfClient(transport: RedfishTransport): PodManagerClient {
  const pm = transport.podManager;
  const target = (index: string): Target => ({ index, path: `${SYSTEMS}/${segment(index)}` });

  async function readSystem(at: Target): Promise<ComposedSystem> {
    const reader = await ResourceReader.open(transport);
    const { resource: system, body } = await reader.readTarget(SystemSchema, at);
    const resourceUri = transport.toPath(system["@odata.id"] ?? at.path);
    reader.seed(resourceUri, body);
    const inventory = await readSystemInventory(reader, system, resourceUri);
    return {
      index: system.Id,
      resourceUri,
      name: system.Name ?? undefined,
      uuid: system.UUID ?? undefined,
      powerState: system.PowerState ?? undefined,
      boot: bootSettings(system.Boot),
      state: system.Status?.State ?? undefined,
      composition: dmtfComposition(system, (link) => transport.toPath(link)),
      hardware: toHardware({
        ...inventory,
        processorSummary: {
          logicalCount: system.ProcessorSummary?.LogicalProcessorCount,
          coreCount: system.ProcessorSummary?.CoreCount,
          count: system.ProcessorSummary?.Count,
        },
        totalSystemMemoryGiB: system.MemorySummary?.TotalSystemMemoryGiB,
      }),
      ...warningsOf(reader),
    };
  }

  function compositionBody(request: ComposeRequest, useCases: Set<string>): Record<string, unknown> {
    const base = { Name: request.name, ...(request.description ? { Description: request.description } : {}) };
    if (request.resourceBlocks?.length) {
      if (!useCases.has(SPECIFIC)) {
        throw new CompositionUnsupportedError(
          pm,
          `${SYSTEMS} does not advertise specific composition (${SPECIFIC})`,
        );
      }
      const blocks = request.resourceBlocks.map((block) => ({
        "@odata.id": block.startsWith("/") ? transport.toPath(block) : `${RESOURCE_BLOCKS}/${segment(block)}`,
      }));
      return { ...base, Links: { ResourceBlocks: blocks } };
    }
    if (!useCases.has(CONSTRAINED)) {
      const reason = useCases.has(SPECIFIC)
        ? "it offers only specific composition; name the resource blocks"
        : `${SYSTEMS} advertises no composition capability`;
      throw new CompositionUnsupportedError(pm, reason);
    }
    if (request.totalCores === undefined && request.memoryMib === undefined && !request.processorModel) {
      throw new ValidationError("a composition needs resource blocks, or memory, cores or a processor model");
    }
    // Valence asks for totals, so each is one requested item carrying the total; DSP2050 leaves the matching of
    // constraints to the service, which picks blocks that together satisfy them.
    const body: Record<string, unknown> = { ...base };
    if (request.totalCores !== undefined || request.processorModel) {
      const processor: Record<string, unknown> = { "@Redfish.RequestedCount": 1, ProcessorType: "CPU" };
      if (request.totalCores !== undefined) processor.TotalCores = request.totalCores;
      if (request.processorModel) processor.Model = request.processorModel;
      body.Processors = { Members: [processor] };
    }
    if (request.memoryMib !== undefined) {
      body.Memory = {
        Members: [{ "@Redfish.RequestedCount": 1, MemoryType: "DRAM", CapacityMiB: request.memoryMib }],
      };
    }
    return body;
  }

  return {
    async probe() {
      const root = await readServiceRoot(transport);
      if (!root.Systems) throw new PodManagerResponseError(pm, `GET ${SERVICE_ROOT}: field Systems missing`);
      // The root is public; reading the collection proves the credentials.
      await transport.get(transport.toPath(root.Systems["@odata.id"]));
      return { redfishVersion: root.RedfishVersion ?? undefined, uuid: root.UUID ?? undefined };
    },

    async listComposedSystems() {
      const reader = new ResourceReader(transport);
      const members = await reader.members(SYSTEMS);
      const systems = await Promise.all(
        members.map(async (path) => {
          const response = await transport.request("GET", path);
          // Decomposed between the two reads: not a composed system any more.
          if (response.status === 404) return undefined;
          if (!isSuccess(response.status)) throw transport.statusError(response);
          return { path, system: parseResource(SystemSchema, response.body, `GET ${path}`, pm) };
        }),
      );
      return systems.flatMap((entry) =>
        entry?.system.SystemType === "Composed"
          ? [
              {
                index: entry.system.Id,
                resourceUri: transport.toPath(entry.system["@odata.id"] ?? entry.path),
                composition: dmtfComposition(entry.system, (link) => transport.toPath(link)),
              },
            ]
          : [],
      );
    },

    getSystem(index) {
      return readSystem(target(index));
    },

    async compose(request) {
      const collection = parseResource(CollectionSchema, await transport.get(SYSTEMS), `GET ${SYSTEMS}`, pm);
      const capabilities = collection["@Redfish.CollectionCapabilities"]?.Capabilities ?? [];
      const useCases = new Set(capabilities.map((capability) => capability.UseCase ?? ""));
      const response = await transport.request("POST", SYSTEMS, { body: compositionBody(request, useCases) });
      const message = transport.upstreamMessage(response.body);
      if (response.status === 409 || response.status === 400) {
        throw new CompositionRefusedError(pm, message ?? `POST ${SYSTEMS} answered ${response.status}`);
      }
      if (!isSuccess(response.status)) {
        throw new CompositionFailedError(
          pm,
          `POST ${SYSTEMS} answered ${response.status}${message ? `: ${message}` : ""}`,
        );
      }
      const path = createdPath(transport, response.headers, response.body);
      if (!path) {
        throw new PodManagerResponseError(
          pm,
          `POST ${SYSTEMS} answered ${response.status} without a Location`,
        );
      }
      return readSystem({ index: path.slice(path.lastIndexOf("/") + 1), path });
    },

    decompose(index) {
      return deleteIdempotent(transport, target(index).path);
    },

    async reset(index, type) {
      const at = target(index);
      const { resource } = await readTarget(transport, SystemSchema, at);
      await postReset(
        transport,
        at,
        resource.Actions?.["#ComputerSystem.Reset"],
        `${at.path}/Actions/ComputerSystem.Reset`,
        type,
      );
    },

    async setBoot(index, boot) {
      const at = target(index);
      const { resource, etag } = await readTarget(transport, SystemSchema, at);
      await patchBoot(transport, at, { boot: resource.Boot, etag }, boot);
    },

    close() {
      return transport.close();
    },
  };
}
