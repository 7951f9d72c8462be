import { ValidationError } from "../errors.ts";
import { segment } from "./common.ts";
import { dmtfComposition } from "./composition.ts";
import { createDialectClient, type Dialect } from "./dialect.ts";
import { CompositionUnsupportedError } from "./errors.ts";
import { toHardware } from "./hardware.ts";
import { readSystemInventory } from "./reader.ts";
import { CollectionSchema, parseResource, type RedfishSystem, SystemSchema } from "./schemas.ts";
import type { RedfishTransport } from "./transport.ts";
import type { ComposeRequest, PodManagerClient } from "./types.ts";

const SYSTEMS = "/redfish/v1/Systems";
const RESOURCE_BLOCKS = "/redfish/v1/CompositionService/ResourceBlocks";
const SPECIFIC = "ComputerSystemComposition";
const CONSTRAINED = "ComputerSystemConstrainedComposition";

/**
 * DMTF composition (DSP2050): composed systems are ordinary members of `/redfish/v1/Systems` with
 * `SystemType: "Composed"`, made by POSTing to that collection and unmade by DELETE.
 */
export function dmtfDialect(transport: RedfishTransport): Dialect<RedfishSystem> {
  const pm = transport.podManager;

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
    collection: SYSTEMS,
    rootLink: "Systems",
    rootLinkMissing: "field Systems missing",
    schema: SystemSchema,
    resetAction: "ComputerSystem.Reset",
    resetOf: (system) => system.Actions?.["#ComputerSystem.Reset"],
    systemPath: (system, readFrom) => transport.toPath(system["@odata.id"] ?? readFrom),
    isComposed: (system) => system.SystemType === "Composed",
    state: (system) => system.Status?.State,
    composition: dmtfComposition,
    async hardware(reader, system, systemPath) {
      return toHardware({
        ...(await readSystemInventory(reader, system, systemPath)),
        processorSummary: {
          logicalCount: system.ProcessorSummary?.LogicalProcessorCount,
          coreCount: system.ProcessorSummary?.CoreCount,
          count: system.ProcessorSummary?.Count,
        },
        totalSystemMemoryGiB: system.MemorySummary?.TotalSystemMemoryGiB,
      });
    },
    async creation(request) {
      const collection = parseResource(CollectionSchema, await transport.get(SYSTEMS), `GET ${SYSTEMS}`, pm);
      const capabilities = collection["@Redfish.CollectionCapabilities"]?.Capabilities ?? [];
      const useCases = new Set(capabilities.map((capability) => capability.UseCase ?? ""));
      return { path: SYSTEMS, body: compositionBody(request, useCases) };
    },
  };
}

export function createDmtfClient(transport: RedfishTransport): PodManagerClient {
  return createDialectClient(transport, dmtfDialect(transport));
}
