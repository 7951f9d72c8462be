/**
 * The emulator's hardware: a pool of resource blocks. One inventory is shown through DMTF composition, RSD nodes,
 * or both; a composed system is one compute block plus any drive and offload (GPU) blocks.
 */

export interface ProcessorSpec {
  model: string;
  cores: number;
  threads?: number;
  /** Redfish `InstructionSet`. @default "x86-64" */
  instructionSet?: string;
  speedMHz?: number;
  manufacturer?: string;
  /** Redfish `ProcessorType`: `CPU`, `GPU`, `FPGA`, `Accelerator`. @default "CPU" */
  type?: string;
}

export interface DimmSpec {
  capacityMiB: number;
  speedMHz?: number;
}

export interface NicSpec {
  /** Derived from the block's and the NIC's position when absent, so it is stable across runs. */
  mac?: string;
  speedMbps?: number;
}

export interface DriveSpec {
  capacityBytes: number;
  protocol?: string;
  mediaType?: string;
  model?: string;
}

export interface ComputeBlockSpec {
  id: string;
  processors: ProcessorSpec[];
  memory: DimmSpec[];
  nics: NicSpec[];
  /** Onboard drives, composed with the block. */
  drives?: DriveSpec[];
}

export interface DriveBlockSpec {
  id: string;
  drives: DriveSpec[];
}

/** A block of accelerators (GPUs, FPGAs) composed with a compute block, as DMTF's `OffloadBlock`. */
export interface OffloadBlockSpec {
  id: string;
  processors: ProcessorSpec[];
}

export interface InventorySpec {
  computeBlocks: ComputeBlockSpec[];
  driveBlocks: DriveBlockSpec[];
  /** @default none */
  offloadBlocks?: OffloadBlockSpec[];
}

export interface Member<T> {
  /** Unique across the inventory, so a member can also be addressed under the system that uses it. */
  id: string;
  spec: T;
}

export interface Block {
  id: string;
  kind: "compute" | "storage" | "offload";
  processors: Member<ProcessorSpec>[];
  memory: Member<DimmSpec>[];
  nics: Member<NicSpec & { mac: string }>[];
  drives: Member<DriveSpec>[];
}

const GB = 1_000_000_000;
const xeon = (cores: number): ProcessorSpec => ({
  model: `Intel(R) Xeon(R) Gold ${cores === 8 ? "6134" : "6142"} CPU`,
  cores,
  threads: cores * 2,
  instructionSet: "x86-64",
  speedMHz: 3200,
  manufacturer: "Intel(R) Corporation",
});
const dimms = (count: number, capacityMiB: number): DimmSpec[] =>
  Array.from({ length: count }, () => ({ capacityMiB, speedMHz: 2666 }));
const nics = (count: number): NicSpec[] => Array.from({ length: count }, () => ({ speedMbps: 25_000 }));
const ssd = (gigabytes: number): DriveSpec => ({
  capacityBytes: gigabytes * GB,
  protocol: "NVMe",
  mediaType: "SSD",
  model: "Emulated NVMe SSD",
});

/** A two-socket Xeon compute block: `cores` per socket, `dimmCount` DIMMs of `dimmMiB`, one onboard SSD. */
const xeonBlock = (
  id: string,
  size: { cores: number; dimmCount: number; dimmMiB: number; nicCount: number; ssdGB: number },
): ComputeBlockSpec => ({
  id,
  processors: [xeon(size.cores), xeon(size.cores)],
  memory: dimms(size.dimmCount, size.dimmMiB),
  nics: nics(size.nicCount),
  drives: [ssd(size.ssdGB)],
});

/** An NVIDIA A100 as a Redfish GPU processor. */
export const A100: ProcessorSpec = {
  type: "GPU",
  model: "A100",
  manufacturer: "NVIDIA",
  cores: 6912,
  threads: 6912,
  speedMHz: 1410,
};

/**
 * The default inventory plus two composable GPU blocks (`OffloadBlock1`: 4 × A100, `OffloadBlock2`: 2 × A100),
 * composed with a compute block by DMTF specific composition (`resource_blocks`). Not in the default inventory,
 * whose block counts tests and demos rely on.
 */
export function gpuInventory(base: InventorySpec = defaultInventory()): InventorySpec {
  return {
    ...base,
    offloadBlocks: [
      ...(base.offloadBlocks ?? []),
      { id: "OffloadBlock1", processors: [A100, A100, A100, A100] },
      { id: "OffloadBlock2", processors: [A100, A100] },
    ],
  };
}

/** Four compute blocks (three x86-64, one AArch64; 2–4 NICs each) and three drive blocks. */
export function defaultInventory(): InventorySpec {
  return {
    computeBlocks: [
      xeonBlock("ComputeBlock1", { cores: 8, dimmCount: 4, dimmMiB: 16_384, nicCount: 2, ssdGB: 240 }),
      xeonBlock("ComputeBlock2", { cores: 8, dimmCount: 4, dimmMiB: 16_384, nicCount: 3, ssdGB: 240 }),
      xeonBlock("ComputeBlock3", { cores: 16, dimmCount: 8, dimmMiB: 32_768, nicCount: 4, ssdGB: 480 }),
      {
        id: "ComputeBlock4",
        processors: [
          {
            model: "Ampere(R) Altra(R) Q80-30",
            cores: 80,
            threads: 80,
            instructionSet: "ARM-A64",
            speedMHz: 3000,
            manufacturer: "Ampere(R)",
          },
        ],
        memory: dimms(8, 16_384),
        nics: nics(2),
        drives: [ssd(480)],
      },
    ],
    driveBlocks: [
      { id: "DriveBlock1", drives: [ssd(960)] },
      { id: "DriveBlock2", drives: [ssd(960)] },
      { id: "DriveBlock3", drives: [ssd(1920), ssd(1920)] },
    ],
  };
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

function hex(value: number): string {
  return value.toString(16).toUpperCase().padStart(2, "0");
}

/** Locally administered (02:), with letters so that clients must lower-case them: 02:5A:E0:00:<block>:<nic>. */
function derivedMac(blockNumber: number, nicNumber: number): string {
  return `02:5A:E0:${hex(blockNumber >> 8)}:${hex(blockNumber & 0xff)}:${hex(nicNumber)}`;
}

/**
 * Gives every member an id and every NIC a MAC, and refuses an inventory where two NICs would share a MAC or two
 * things an id: composed systems must have unique, deterministic MACs, since Ironic ports are keyed by them.
 */
export function buildInventory(spec: InventorySpec): Block[] {
  const blocks: Block[] = [];
  const ids = new Set<string>();
  const macs = new Set<string>();
  const claim = (id: string) => {
    if (!/^[A-Za-z0-9_.-]+$/.test(id)) throw new Error(`inventory: id ${JSON.stringify(id)} is not URL-safe`);
    if (ids.has(id)) throw new Error(`inventory: duplicate id ${id}`);
    ids.add(id);
    return id;
  };
  spec.computeBlocks.forEach((block, blockIndex) => {
    blocks.push({
      id: claim(block.id),
      kind: "compute",
      processors: block.processors.map((cpu, i) => ({ id: claim(`${block.id}-CPU${i}`), spec: cpu })),
      memory: block.memory.map((dimm, i) => ({ id: claim(`${block.id}-DIMM${i}`), spec: dimm })),
      nics: block.nics.map((nic, i) => {
        const mac = (nic.mac ?? derivedMac(blockIndex + 1, i)).toUpperCase().replaceAll("-", ":");
        if (!MAC.test(mac))
          throw new Error(`inventory: ${block.id} NIC ${i}: ${nic.mac} is not a MAC address`);
        if (macs.has(mac)) throw new Error(`inventory: MAC ${mac} appears twice`);
        macs.add(mac);
        return { id: claim(`${block.id}-NIC${i}`), spec: { ...nic, mac } };
      }),
      drives: (block.drives ?? []).map((drive, i) => ({ id: claim(`${block.id}-Drive${i}`), spec: drive })),
    });
  });
  for (const block of spec.driveBlocks) {
    blocks.push({
      id: claim(block.id),
      kind: "storage",
      processors: [],
      memory: [],
      nics: [],
      drives: block.drives.map((drive, i) => ({ id: claim(`${block.id}-Drive${i}`), spec: drive })),
    });
  }
  for (const block of spec.offloadBlocks ?? []) {
    blocks.push({
      id: claim(block.id),
      kind: "offload",
      processors: block.processors.map((processor, i) => ({
        id: claim(`${block.id}-${(processor.type ?? "CPU").toUpperCase()}${i}`),
        spec: processor,
      })),
      memory: [],
      nics: [],
      drives: [],
    });
  }
  return blocks;
}
