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
import { rsdComposition } from "./composition.ts";
import {
  CompositionFailedError,
  CompositionRefusedError,
  CompositionUnsupportedError,
  PodManagerResponseError,
} from "./errors.ts";
import { toHardware } from "./hardware.ts";
import { ResourceReader, readSystemInventory, warningsOf } from "./reader.ts";
import {
  type ComposedNode,
  ComposedNodeSchema,
  MemorySchema,
  ProcessorSchema,
  parseResource,
  SystemSchema,
} from "./schemas.ts";
import { isSuccess, type RedfishTransport } from "./transport.ts";
import type { ComposedSystem, ComposeRequest, PodManagerClient } from "./types.ts";

const NODES = "/redfish/v1/Nodes";
const ALLOCATE = `${NODES}/Actions/Allocate`;

/**
 * Intel RSD 2.x pod manager, as OpenStack Valence drove it: a composed node is allocated
 * (`#ComposedNodeCollection.Allocate`), then assembled (`#ComposedNode.Assemble`), and deleted to decompose.
 * Power and boot go to the Node; Ironic is given the Node's ComputerSystem.
 */
export function createRsdClient(transport: RedfishTransport): PodManagerClient {
  const pm = transport.podManager;
  const target = (index: string): Target => ({ index, path: `${NODES}/${segment(index)}` });

  async function readNode(at: Target): Promise<ComposedSystem> {
    const { resource: node, body } = await readTarget(transport, ComposedNodeSchema, at);
    const reader = new ResourceReader(transport);
    reader.seed(at.path, body);
    const resourceUri = transport.toPath(node.Links.ComputerSystem["@odata.id"]);
    return {
      index: node.Id,
      resourceUri,
      name: node.Name ?? undefined,
      uuid: node.UUID ?? undefined,
      powerState: node.PowerState ?? undefined,
      boot: bootSettings(node.Boot),
      state: node.ComposedNodeState ?? undefined,
      composition: rsdComposition(node, (link) => transport.toPath(link)),
      hardware: await nodeHardware(reader, node, resourceUri),
      ...warningsOf(reader),
    };
  }

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
    async probe() {
      const root = await readServiceRoot(transport);
      if (!root.Nodes) {
        throw new PodManagerResponseError(
          pm,
          `GET ${SERVICE_ROOT}: field Nodes missing (not an RSD pod manager?)`,
        );
      }
      await transport.get(transport.toPath(root.Nodes["@odata.id"]));
      return { redfishVersion: root.RedfishVersion ?? undefined, uuid: root.UUID ?? undefined };
    },

    async listComposedSystems() {
      const reader = new ResourceReader(transport);
      const members = await reader.members(NODES);
      const nodes = await Promise.all(
        members.map(async (path) => {
          const response = await transport.request("GET", path);
          if (response.status === 404) return undefined;
          if (!isSuccess(response.status)) throw transport.statusError(response);
          return parseResource(ComposedNodeSchema, response.body, `GET ${path}`, pm);
        }),
      );
      return nodes
        .filter((node): node is ComposedNode => node !== undefined)
        .map((node) => ({
          index: node.Id,
          resourceUri: transport.toPath(node.Links.ComputerSystem["@odata.id"]),
          composition: rsdComposition(node, (link) => transport.toPath(link)),
        }));
    },

    getSystem(index) {
      return readNode(target(index));
    },

    async compose(request) {
      const allocation = await transport.request("POST", ALLOCATE, { body: allocationBody(request) });
      const message = transport.upstreamMessage(allocation.body);
      if (allocation.status === 409 || allocation.status === 400) {
        throw new CompositionRefusedError(pm, message ?? `POST ${ALLOCATE} answered ${allocation.status}`);
      }
      if (!isSuccess(allocation.status)) {
        throw new CompositionFailedError(
          pm,
          `POST ${ALLOCATE} answered ${allocation.status}${message ? `: ${message}` : ""}`,
        );
      }
      const path = createdPath(transport, allocation.headers, allocation.body);
      if (!path)
        throw new PodManagerResponseError(
          pm,
          `POST ${ALLOCATE} answered ${allocation.status} without a Location`,
        );

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
      return readNode({ index: path.slice(path.lastIndexOf("/") + 1), path });
    },

    decompose(index) {
      return deleteIdempotent(transport, target(index).path);
    },

    async reset(index, type) {
      const at = target(index);
      const { resource } = await readTarget(transport, ComposedNodeSchema, at);
      await postReset(
        transport,
        at,
        resource.Actions?.["#ComposedNode.Reset"],
        `${at.path}/Actions/ComposedNode.Reset`,
        type,
      );
    },

    async setBoot(index, boot) {
      const at = target(index);
      const { resource, etag } = await readTarget(transport, ComposedNodeSchema, at);
      await patchBoot(transport, at, { boot: resource.Boot, etag }, boot);
    },

    close() {
      return transport.close();
    },
  };
}
