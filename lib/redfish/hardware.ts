import type { Hardware, Nic } from "../nodes/model.ts";
import type { Drive, Memory, Processor } from "./schemas.ts";

/**
 * Turning Redfish inventory into Ironic's `properties`. Pure functions, so the rules are tested without a pod
 * manager. The choices follow what Ironic's own Redfish inspection reports, so a node registered by Valence and
 * later inspected by Ironic keeps the same numbers.
 */

const DEFAULT_CPU_ARCH = "x86_64";
const GIB = 1024 ** 3;

/** Redfish `InstructionSet` is the precise one (x86 vs x86-64); `ProcessorArchitecture` only names the family. */
const INSTRUCTION_SETS: Record<string, string> = {
  "x86-64": "x86_64",
  x86: "i686",
  "IA-64": "ia64",
  "ARM-A64": "aarch64",
  "ARM-A32": "armv7l",
  MIPS64: "mips64",
  MIPS32: "mips",
  PowerISA: "ppc64le",
  RV64: "riscv64",
  RV32: "riscv32",
};

// A family without an instruction set is, on anything Ironic deploys today, its 64-bit variant.
const ARCHITECTURES: Record<string, string> = {
  x86: "x86_64",
  "IA-64": "ia64",
  ARM: "aarch64",
  MIPS: "mips64",
  Power: "ppc64le",
  RISCV: "riscv64",
};

/** The Linux/Ironic name of a Redfish processor's architecture, or `undefined` when it says nothing usable. */
export function cpuArchOf(
  processor: Pick<Processor, "InstructionSet" | "ProcessorArchitecture">,
): string | undefined {
  const fromSet = processor.InstructionSet ? INSTRUCTION_SETS[processor.InstructionSet] : undefined;
  if (fromSet) return fromSet;
  return processor.ProcessorArchitecture ? ARCHITECTURES[processor.ProcessorArchitecture] : undefined;
}

/** GPUs, FPGAs and empty sockets are not CPUs Ironic should schedule on. */
function isCentralProcessor(processor: Processor): boolean {
  const type = processor.ProcessorType ?? "CPU";
  return (type === "CPU" || type === "Core") && processor.Status?.State !== "Absent";
}

/**
 * `cpus` is the total number of physical cores (the sum of `TotalCores`; a processor without it counts as one),
 * because composition requests are written in cores. Without readable processors the summary counts instead.
 */
export function summarizeProcessors(
  processors: readonly Processor[],
  summary?: { coreCount?: number | null; count?: number | null },
): { cpus: number; cpuArch: string } {
  const cpus = processors.filter(isCentralProcessor);
  const cores = cpus.reduce((sum, processor) => sum + (processor.TotalCores ?? 1), 0);
  const cpuArch = cpus.map(cpuArchOf).find((arch) => arch !== undefined) ?? DEFAULT_CPU_ARCH;
  if (cpus.length > 0) return { cpus: cores, cpuArch };
  return { cpus: summary?.coreCount ?? summary?.count ?? 0, cpuArch };
}

/** MiB: the DIMMs' `CapacityMiB` summed (exact); else the system's `TotalSystemMemoryGiB` × 1024. */
export function memoryMib(dimms: readonly Memory[], totalSystemMemoryGiB?: number | null): number {
  const fromDimms = dimms
    .filter((dimm) => dimm.Status?.State !== "Absent")
    .reduce((sum, dimm) => sum + (dimm.CapacityMiB ?? 0), 0);
  if (fromDimms > 0) return fromDimms;
  return Math.round((totalSystemMemoryGiB ?? 0) * 1024);
}

/** Bytes of one drive; RSD remote targets give GiB. */
export function driveBytes(drive: Drive): number {
  if (drive.Status?.State === "Absent") return 0;
  return drive.CapacityBytes ?? (drive.CapacityGiB ?? 0) * GIB;
}

/**
 * `local_gb` in GiB, rounded down, of all drives together: Ironic counts disk sizes in GiB (`bytes // units.Gi`),
 * and Valence does not know which drive the image will go to, so the total is what the composition offers.
 */
export function localGb(bytes: readonly number[]): number {
  return Math.floor(bytes.reduce((sum, value) => sum + value, 0) / GIB);
}

const MAC = /^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$/i;

/** Lower-case and colon-separated, as Ironic ports store it; `undefined` when not a MAC at all. */
export function normalizeMac(raw: string): string | undefined {
  const trimmed = raw.trim();
  return MAC.test(trimmed) ? trimmed.toLowerCase().replaceAll("-", ":") : undefined;
}

/** Redfish omits `Status` on simple services; an interface it lists without one is in use. */
export function isEnabled(status?: { State?: string | null } | null): boolean {
  return status?.State == null || status.State === "Enabled";
}

/** The first occurrence of a MAC wins: the system's own list comes before what its resource blocks add. */
export function dedupeNics(nics: readonly Nic[]): Nic[] {
  const seen = new Set<string>();
  return nics.filter((nic) => {
    if (seen.has(nic.mac)) return false;
    seen.add(nic.mac);
    return true;
  });
}

export function toHardware(parts: {
  processors: readonly Processor[];
  processorSummary?: { coreCount?: number | null; count?: number | null };
  dimms: readonly Memory[];
  totalSystemMemoryGiB?: number | null;
  storageBytes: readonly number[];
  nics: readonly Nic[];
}): Hardware {
  const { cpus, cpuArch } = summarizeProcessors(parts.processors, parts.processorSummary);
  return {
    cpus,
    memory_mb: memoryMib(parts.dimms, parts.totalSystemMemoryGiB),
    local_gb: localGb(parts.storageBytes),
    cpu_arch: cpuArch,
    nics: dedupeNics(parts.nics),
  };
}
