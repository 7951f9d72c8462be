import type { AddressPolicy } from "../net/address-policy.ts";
import type { Hardware } from "../nodes/model.ts";

/** `redfish`: DMTF CompositionService. `rsd`: Intel RSD 2.x pod manager (`/redfish/v1/Nodes`), as OpenStack Valence used. */
export type PodManagerDriver = "redfish" | "rsd";

export interface PodManagerConnection {
  /** The pod manager's base URL; only its origin is used, since Redfish paths are absolute. */
  url: string;
  username: string;
  password: string;
  driver: PodManagerDriver;
  /** `false` accepts any TLS certificate (self-signed BMCs); the traffic is still encrypted. */
  verifyCa: boolean;
  /** Per HTTP request. @default 10000 */
  timeoutMs?: number;
  /** Sent with every request, e.g. `{ "X-Request-Id": requestId }` to correlate logs. */
  headers?: Record<string, string>;
  /** Where connections may go (scheme, addresses). @default STRICT_ADDRESS_POLICY: https, no loopback */
  addressPolicy?: AddressPolicy;
  /** Largest response body read, in bytes. @default 4 MiB */
  maxResponseBytes?: number;
  /**
   * A one-shot read: send Basic credentials at once instead of opening a Redfish session (two round trips, a login
   * and a logout); a pod manager that refuses Basic gets a session, and is remembered. @default false
   */
  preferBasic?: boolean;
}

export interface BootSettings {
  enabled?: string;
  target?: string;
  allowedTargets?: string[];
}

export interface ComposedSystem {
  /** The pod manager's id of the composed system: DMTF the System's `Id`, RSD the Node's `Id`. */
  index: string;
  /** The ComputerSystem's Redfish path, e.g. `/redfish/v1/Systems/1`: what Ironic's `redfish_system_id` needs. */
  resourceUri: string;
  name?: string;
  uuid?: string;
  powerState?: string;
  boot?: BootSettings;
  hardware: Hardware;
  /** RSD `ComposedNodeState`; DMTF `Status.State`. */
  state?: string;
  /**
   * What defines its hardware as the pod manager links it (DMTF resource blocks, RSD device links): sorted
   * `<kind>:<path>` entries (`lib/redfish/composition.ts`). A change means the composition changed under it.
   */
  composition?: string[];
  /** What was read but skipped, a sentence each (an interface whose MAC Ironic cannot take); absent when nothing. */
  warnings?: string[];
}

export interface ComposeRequest {
  name: string;
  description?: string;
  /** Total memory wanted. */
  memoryMib?: number;
  /** Total physical cores wanted. */
  totalCores?: number;
  /** A substring of the processor model, e.g. "Xeon". */
  processorModel?: string;
  /** DMTF specific composition: resource block ids or their `@odata.id` paths. */
  resourceBlocks?: string[];
}

export interface BootOverride {
  enabled: "Once" | "Continuous" | "Disabled";
  target: string;
}

/** The port Valence's services use to talk to a pod manager, whichever Redfish dialect it speaks. */
export interface PodManagerClient {
  /** Reads the service root (no credentials), then checks the credentials on the composed-systems collection. */
  probe(): Promise<{ redfishVersion?: string; uuid?: string }>;
  /** Each composed system with its `composition` (read from the same resource, no extra request). */
  listComposedSystems(): Promise<Array<{ index: string; resourceUri: string; composition?: string[] }>>;
  getSystem(index: string): Promise<ComposedSystem>;
  /** Composes and returns the composed system as read back from the pod manager. */
  compose(request: ComposeRequest): Promise<ComposedSystem>;
  /** Idempotent: a system that is already gone counts as decomposed. */
  decompose(index: string): Promise<void>;
  reset(index: string, type: string): Promise<void>;
  setBoot(index: string, boot: BootOverride): Promise<void>;
  /** Deletes the Redfish session if one was opened. Never throws. */
  close(): Promise<void>;
}
