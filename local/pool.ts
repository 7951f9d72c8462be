import type { InventorySpec } from "./redfish-emulator/index.ts";

/** A pool of `count` identical compute blocks with `nicsPerBlock` NICs each: tests and benchmarks compose many. */
export function poolInventory(count: number, nicsPerBlock = 4): InventorySpec {
  return {
    computeBlocks: Array.from({ length: count }, (_, i) => ({
      id: `PoolBlock${i + 1}`,
      processors: [
        {
          model: "Intel(R) Xeon(R) Gold 6134 CPU",
          cores: 8,
          threads: 16,
          instructionSet: "x86-64",
          speedMHz: 3200,
          manufacturer: "Intel(R) Corporation",
        },
      ],
      memory: [{ capacityMiB: 32_768, speedMHz: 2666 }],
      nics: Array.from({ length: nicsPerBlock }, () => ({ speedMbps: 25_000 })),
      drives: [
        { capacityBytes: 480_000_000_000, protocol: "NVMe", mediaType: "SSD", model: "Pool NVMe SSD" },
      ],
    })),
    driveBlocks: [],
  };
}
