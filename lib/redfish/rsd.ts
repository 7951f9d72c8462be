import { ValidationError } from "../errors.ts";
import { deleteIdempotent } from "./common.ts";
import { rsdComposition } from "./composition.ts";
import { createDialectClient, type Dialect } from "./dialect.ts";
import { CompositionFailedError, CompositionUnsupportedError } from "./errors.ts";
import { toHardware } from "./hardware.ts";
import { type ResourceReader, readSystemInventory } from "./reader.ts";
import {
  type ComposedNode,
  ComposedNodeSchema,
  MemorySchema,
  ProcessorSchema,
  SystemSchema,
} from "./schemas.ts";
import { isSuccess, type RedfishTransport } from "./transport.ts";
import type { ComposeRequest, PodManagerClient } from "./types.ts";

const NODES = "/redfish/v1/Nodes";
const ALLOCATE = `${NODES}/Actions/Allocate`;

/**
 * Intel RSD 2.x pod manager, as OpenStack Valence drove it: a composed node is allocated
 * (`#ComposedNodeCollection.Allocate`), then assembled (`#ComposedNode.Assemble`), and deleted to decompose.
 * Power and boot go to the Node; Ironic is given the Node's ComputerSystem.
 */
export function rsdDialect(transport: RedfishTransport): Dialect<ComposedNode> {
  const pm = transport.podManager;

  /** From the Node's device links, as PODM lists them; a node without them is read through its ComputerSystem. */
  async function nodeHardware(reader: ResourceReader, node: ComposedNode, systemPath: string) {
    const links = node.Links;
    if (!links.Processors && !links.Memory && !links.EthernetInterfaces) {
      const system = await reader.read(SystemSchema, systemPath);
      return toHardware({
        ...(await readSystemInventory(reader, system, systemPath)),
        processorSummary: {
          logicalCount: system.ProcessorSummary?.LogicalProcessorCount,
          coreCount: system.ProcessorSummary?.CoreCount,
          count: node.Processors?.Count ?? system.ProcessorSummary?.Count,
        },
        totalSystemMemoryGiB: node.Memory?.TotalSystemMemoryGiB ?? system.MemorySummary?.TotalSystemMemoryGiB,
      });
    }
    const summary = {
      processorSummary: { count: node.Processors?.Count },
      totalSystemMemoryGiB: node.Memory?.TotalSystemMemoryGiB,
    };
    const [processors, dimms, storage, nics] = await Promise.all([
      reader.readAll(ProcessorSchema, links.Processors ?? []),
      reader.readAll(MemorySchema, links.Memory ?? []),
      reader.storageSizes({ drives: [...(links.LocalDrives ?? []), ...(links.RemoteDrives ?? [])] }),
      reader.nics(links.EthernetInterfaces ?? []).then(async (nics) => {
        if (nics.length > 0) return nics;
        const system = await reader.read(SystemSchema, systemPath);
        return reader.chassisNics(system.Links?.Chassis ?? []);
      }),
    ]);
    return toHardware({ ...summary, processors, dimms, storage, nics });
  }

  function allocationBody(request: ComposeRequest): Record<string, unknown> {
    if (request.resourceBlocks?.length) {
      throw new CompositionUnsupportedError(
        pm,
        "RSD pod managers compose from requirements, not resource blocks",
      );
    }
    if (request.totalCores === undefined && request.memoryMib === undefined && !request.processorModel) {
      throw new ValidationError("a composition needs memory, cores or a processor model");
    }
    const body: Record<string, unknown> = { Name: request.name };
    if (request.description) body.Description = request.description;
    if (request.totalCores !== undefined || request.processorModel) {
      const processor: Record<string, unknown> = {};
      if (request.totalCores !== undefined) processor.TotalCores = request.totalCores;
      if (request.processorModel) processor.Model = request.processorModel;
      body.Processors = [processor];
    }
    if (request.memoryMib !== undefined) body.Memory = [{ CapacityMiB: request.memoryMib }];
    return body;
  }

  /** An allocated node that failed to assemble holds resources; give them back before reporting the failure. */
  async function release(path: string, failure: string, cause?: unknown): Promise<never> {
    let outcome = `the allocated node ${path} was deleted`;
    try {
      await deleteIdempotent(transport, path);
    } catch (error) {
      outcome = `deleting the allocated node ${path} failed too (${error instanceof Error ? error.message : error})`;
    }
    throw new CompositionFailedError(pm, `${failure}; ${outcome}`, { cause });
  }

  return {
    collection: NODES,
    rootLink: "Nodes",
    rootLinkMissing: "field Nodes missing (not an RSD pod manager?)",
    schema: ComposedNodeSchema,
    resetAction: "ComposedNode.Reset",
    resetOf: (node) => node.Actions?.["#ComposedNode.Reset"],
    systemPath: (node) => transport.toPath(node.Links.ComputerSystem["@odata.id"]),
    state: (node) => node.ComposedNodeState,
    composition: rsdComposition,
    hardware: nodeHardware,
    async creation(request) {
      return { path: ALLOCATE, body: allocationBody(request) };
    },
    async afterCreation(path) {
      const assemble = `${path}/Actions/ComposedNode.Assemble`;
      let assembled: Awaited<ReturnType<RedfishTransport["request"]>>;
      try {
        assembled = await transport.request("POST", assemble, { body: {} });
      } catch (error) {
        return release(
          path,
          `POST ${assemble} failed: ${error instanceof Error ? error.message : error}`,
          error,
        );
      }
      if (!isSuccess(assembled.status)) {
        const reason = transport.upstreamMessage(assembled.body);
        return release(path, `POST ${assemble} answered ${assembled.status}${reason ? `: ${reason}` : ""}`);
      }
    },
  };
}

export function createRsdClient(transport: RedfishTransport): PodManagerClient {
  return createDialectClient(transport, rsdDialect(transport));
}
