import type * as z from "zod/mini";
import type { Hardware } from "../nodes/model.ts";
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
import { CompositionFailedError, CompositionRefusedError, PodManagerResponseError } from "./errors.ts";
import { ResourceReader, warningsOf } from "./reader.ts";
import { type BootSchema, parseResource, type ResetAction } from "./schemas.ts";
import { isSuccess, type RedfishTransport } from "./transport.ts";
import type { ComposedSystem, ComposeRequest, PodManagerClient } from "./types.ts";

/** The fields every dialect's composed resource (DMTF ComputerSystem, RSD ComposedNode) carries alike. */
export interface ComposedResource {
  Id: string;
  Name?: string | null;
  UUID?: string | null;
  PowerState?: string | null;
  Boot?: z.infer<typeof BootSchema> | null;
}

/**
 * What one Redfish dialect does its own way; {@link createDialectClient} does the rest the same for all: probe,
 * listing, reading, the answers to a composition request, decompose, reset, boot and close.
 */
export interface Dialect<R extends ComposedResource> {
  /** The collection of composed resources, e.g. `/redfish/v1/Systems`. */
  collection: string;
  /** The service root's link to that collection, and what its absence says about the pod manager. */
  rootLink: "Systems" | "Nodes";
  rootLinkMissing: string;
  schema: z.ZodMiniType<R>;
  /** The reset action's name, e.g. `ComputerSystem.Reset`, and where the resource advertises it. */
  resetAction: string;
  resetOf(resource: R): ResetAction | null | undefined;
  /** The ComputerSystem Ironic is given, from the resource read at `readFrom`. */
  systemPath(resource: R, readFrom: string): string;
  /** Whether a member of the collection is a composed system at all. @default every member is */
  isComposed?(resource: R): boolean;
  state(resource: R): string | null | undefined;
  composition(resource: R, toPath: (link: string) => string): string[];
  hardware(reader: ResourceReader, resource: R, systemPath: string): Promise<Hardware>;
  /** Where a composition request is POSTed, and what (a refusal of the request itself throws). */
  creation(request: ComposeRequest): Promise<{ path: string; body: Record<string, unknown> }>;
  /** What follows the creation before the system exists (RSD assembles it). */
  afterCreation?(path: string): Promise<void>;
}

/** A pod-manager client for one dialect. */
export function createDialectClient<R extends ComposedResource>(
  transport: RedfishTransport,
  dialect: Dialect<R>,
): PodManagerClient {
  const pm = transport.podManager;
  const toPath = (link: string) => transport.toPath(link);
  const target = (index: string): Target => ({ index, path: `${dialect.collection}/${segment(index)}` });

  async function readComposed(at: Target): Promise<ComposedSystem> {
    const reader = await ResourceReader.open(transport);
    const { resource } = await reader.readTarget(dialect.schema, at);
    const resourceUri = dialect.systemPath(resource, at.path);
    return {
      index: resource.Id,
      resourceUri,
      name: resource.Name ?? undefined,
      uuid: resource.UUID ?? undefined,
      powerState: resource.PowerState ?? undefined,
      boot: bootSettings(resource.Boot),
      state: dialect.state(resource) ?? undefined,
      composition: dialect.composition(resource, toPath),
      hardware: await dialect.hardware(reader, resource, resourceUri),
      ...warningsOf(reader),
    };
  }

  return {
    async probe() {
      const root = await readServiceRoot(transport);
      const collection = root[dialect.rootLink];
      if (!collection)
        throw new PodManagerResponseError(pm, `GET ${SERVICE_ROOT}: ${dialect.rootLinkMissing}`);
      // The root is public; reading the collection proves the credentials.
      await transport.get(transport.toPath(collection["@odata.id"]));
      return { redfishVersion: root.RedfishVersion ?? undefined, uuid: root.UUID ?? undefined };
    },

    async listComposedSystems() {
      const reader = new ResourceReader(transport);
      const members = await reader.members(dialect.collection);
      const listed = await Promise.all(
        members.map(async (path) => {
          const response = await transport.request("GET", path);
          // Decomposed between the two reads: not a composed system any more.
          if (response.status === 404) return [];
          if (!isSuccess(response.status)) throw transport.statusError(response);
          const resource = parseResource(dialect.schema, response.body, `GET ${path}`, pm);
          if (dialect.isComposed && !dialect.isComposed(resource)) return [];
          return [
            {
              index: resource.Id,
              resourceUri: dialect.systemPath(resource, path),
              composition: dialect.composition(resource, toPath),
            },
          ];
        }),
      );
      return listed.flat();
    },

    getSystem(index) {
      return readComposed(target(index));
    },

    async compose(request) {
      const creation = await dialect.creation(request);
      const response = await transport.request("POST", creation.path, { body: creation.body });
      const message = transport.upstreamMessage(response.body);
      if (response.status === 409 || response.status === 400) {
        throw new CompositionRefusedError(pm, message ?? `POST ${creation.path} answered ${response.status}`);
      }
      if (!isSuccess(response.status)) {
        throw new CompositionFailedError(
          pm,
          `POST ${creation.path} answered ${response.status}${message ? `: ${message}` : ""}`,
        );
      }
      const path = createdPath(transport, response.headers, response.body);
      if (!path) {
        throw new PodManagerResponseError(
          pm,
          `POST ${creation.path} answered ${response.status} without a Location`,
        );
      }
      await dialect.afterCreation?.(path);
      return readComposed({ index: path.slice(path.lastIndexOf("/") + 1), path });
    },

    decompose(index) {
      return deleteIdempotent(transport, target(index).path);
    },

    async reset(index, type) {
      const at = target(index);
      const { resource } = await readTarget(transport, dialect.schema, at);
      const conventional = `${at.path}/Actions/${dialect.resetAction}`;
      await postReset(transport, at, dialect.resetOf(resource), conventional, type);
    },

    async setBoot(index, boot) {
      const at = target(index);
      const { resource, etag } = await readTarget(transport, dialect.schema, at);
      await patchBoot(transport, at, { boot: resource.Boot, etag }, boot);
    },

    close() {
      return transport.close();
    },
  };
}
