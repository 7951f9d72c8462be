/**
 * A Redfish pod manager for tests and the local stack: DMTF composition, Intel RSD 2.x nodes, or both, over one
 * in-memory pool of resource blocks, with switches to inject failures.
 */
export type {
  ComputeBlockSpec,
  DimmSpec,
  DriveBlockSpec,
  DriveSpec,
  InventorySpec,
  NicSpec,
  OffloadBlockSpec,
  ProcessorSpec,
} from "./inventory.ts";
export { A100, defaultInventory, gpuInventory } from "./inventory.ts";
export type { EmulatorMode } from "./pod.ts";
export type {
  EmulatedComposition,
  EmulatorOptions,
  EmulatorSwitches,
  RedfishEmulator,
  RequestRecord,
} from "./server.ts";
export { startRedfishEmulator } from "./server.ts";
