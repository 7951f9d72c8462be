import type { Resolver } from "../net/pinned-fetch.ts";
import { createDmtfClient } from "./dmtf.ts";
import { createRsdClient } from "./rsd.ts";
import { RedfishTransport } from "./transport.ts";
import type { PodManagerClient, PodManagerConnection } from "./types.ts";

export * from "./errors.ts";
export { cpuArchOf, localGb, memoryMib, normalizeMac, summarizeProcessors } from "./hardware.ts";
export { DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_MS } from "./transport.ts";
export type {
  BootOverride,
  BootSettings,
  ComposedSystem,
  ComposeRequest,
  PodManagerClient,
  PodManagerConnection,
  PodManagerDriver,
} from "./types.ts";

/**
 * A client for one pod manager, speaking its dialect. Create one per request (it holds a Redfish session) and
 * `close()` it; `deps.fetch` lets unit tests answer without a network.
 */
export function createPodManagerClient(
  connection: PodManagerConnection,
  deps: { fetch?: typeof fetch; resolve?: Resolver } = {},
): PodManagerClient {
  const transport = new RedfishTransport({ ...connection, fetch: deps.fetch, resolve: deps.resolve });
  return connection.driver === "rsd" ? createRsdClient(transport) : createDmtfClient(transport);
}
