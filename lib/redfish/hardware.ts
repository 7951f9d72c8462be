import type { Hardware, HardwareSummary, Nic } from "../nodes/model.ts";
import type { Drive, Memory, Processor } from "./schemas.ts";

/**
 * Turning Redfish inventory into Ironic's `properties`. Pure functions, so the rules are tested without a pod
 * manager. Each figure is computed the way Ironic's own out-of-band inspection (`redfish` inspect interface, over
 * sushy) computes it from the same system, so that inspecting a node Valence registered changes none of them.
 * Where Ironic reads nothing (and so keeps what we wrote) Valence falls back to what else the service reports.
 */

const DEFAULT_CPU_ARCH = "x86_64";
const GIB = 1024 ** 3;

/**
 * Ironic's map from `ProcessorArchitecture` to `cpu_arch`, verbatim, including `ARM` → `arm` (not `aarch64`):
 * its inspection writes these values, so registering anything else would be overwritten by it.
 */
const IRONIC_CPU_ARCH: Record<string, string> = {
  x86: "x86_64",
  "IA-64": "ia64",
  ARM: "arm",
  MIPS: "mips",
  OEM: "oem",
};

/** The `ProcessorArchitecture` values sushy recognizes; Ironic maps the first a processor reports. */
const SUSHY_ARCHITECTURES = new Set([...Object.keys(IRONIC_CPU_ARCH), "Power"]);

/** Redfish `InstructionSet`: used only where Ironic's map says nothing, so inspection leaves it alone. */
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
  Power: "ppc64le",
  RISCV: "riscv64",
};

/**
 * The `cpu_arch` of a processor as Ironic's inspection would write it; else (Power, RISC-V, no architecture) the
 * Linux name of its instruction set or family; `undefined` when it says nothing usable.
 */
export function cpuArchOf(
  processor: Pick<Processor, "InstructionSet" | "ProcessorArchitecture">,
): string | undefined {
  const family = processor.ProcessorArchitecture ?? undefined;
  if (family && IRONIC_CPU_ARCH[family]) return IRONIC_CPU_ARCH[family];
  const fromSet = processor.InstructionSet ? INSTRUCTION_SETS[processor.InstructionSet] : undefined;
  return fromSet ?? (family ? ARCHITECTURES[family] : undefined);
}

/**
 * CPUs only: a `ProcessorType` of `CPU`, or none. sushy also adds GPUs', FPGAs' and accelerators' threads to the
 * count; a composed GPU node is scheduled by its traits, not by thousands of "cpus".
 */
function isCpu(processor: Processor): boolean {
  return (processor.ProcessorType ?? "CPU") === "CPU";
}

/**
 * `cpus` is the number of logical CPUs: the sum of the CPUs' `TotalThreads`, as sushy's processor summary counts
 * (a processor without it adds nothing). When that is 0 Ironic writes nothing, and Valence falls back to the
 * system's `LogicalProcessorCount`, the CPUs' `TotalCores`, then the summary's core and processor counts.
 *
 * `cpu_arch` comes from the first CPU whose `ProcessorArchitecture` sushy recognizes, mapped as Ironic maps it;
 * when Ironic has no mapping, from the CPUs' instruction set; `x86_64` when nothing says.
 */
export function summarizeProcessors(
  processors: readonly Processor[],
  summary?: { logicalCount?: number | null; coreCount?: number | null; count?: number | null },
): { cpus: number; cpuArch: string } {
  const cpus = processors.filter(isCpu);
  const threads = cpus.reduce((sum, processor) => sum + Math.trunc(processor.TotalThreads ?? 0), 0);
  const family = cpus
    .map((processor) => processor.ProcessorArchitecture ?? undefined)
    .find((value) => value !== undefined && SUSHY_ARCHITECTURES.has(value));
  const cpuArch =
    (family ? IRONIC_CPU_ARCH[family] : undefined) ??
    cpus.map(cpuArchOf).find((arch) => arch !== undefined) ??
    DEFAULT_CPU_ARCH;
  if (threads > 0) return { cpus: threads, cpuArch };
  const cores = cpus.reduce((sum, processor) => sum + (processor.TotalCores ?? 0), 0);
  return {
    cpus: summary?.logicalCount || cores || summary?.coreCount || summary?.count || 0,
    cpuArch,
  };
}

/**
 * MiB: the system's `MemorySummary.TotalSystemMemoryGiB`, truncated to whole GiB (sushy reads it as an int), ×
 * 1024, as Ironic does. Without a summary (Ironic then writes nothing) the DIMMs' `CapacityMiB` summed.
 */
export function memoryMib(dimms: readonly Memory[], totalSystemMemoryGiB?: number | null): number {
  const summaryGiB = Math.trunc(totalSystemMemoryGiB ?? 0);
  if (summaryGiB > 0) return summaryGiB * 1024;
  return dimms
    .filter((dimm) => dimm.Status?.State !== "Absent")
    .reduce((sum, dimm) => sum + (dimm.CapacityMiB ?? 0), 0);
}

/** Bytes of one drive (any state, as sushy lists them); RSD remote targets give GiB; `undefined` if unknown. */
export function driveBytes(drive: Drive): number | undefined {
  if (drive.CapacityBytes != null) return Math.trunc(drive.CapacityBytes);
  return drive.CapacityGiB != null ? drive.CapacityGiB * GIB : undefined;
}

/** The sizes, in bytes, Ironic's `_detect_local_gb` chooses among. */
export interface StorageSizes {
  /** Of the Storage resources' volumes; `undefined` when one of them has no `Volumes` (sushy then fails them). */
  volumes?: readonly number[];
  /** Of the drives the Storage resources (or an RSD node) list. */
  drives: readonly number[];
  /** Of the SimpleStorage devices whose `Status.State` is `Enabled` (sushy counts no others). */
  simpleStorage: readonly number[];
  /** What each drive is (`MediaType`, `Protocol`), for the hardware summary; every drive once. */
  driveKinds?: readonly { media?: string | undefined; protocol?: string | undefined }[];
}

/** Ironic ignores anything smaller: boot partitions, SD cards, USB keys. */
const MIN_DISK_BYTES = 4 * GIB;

function smallestDisk(sizes: readonly number[] | undefined): number {
  const disks = (sizes ?? []).filter((size) => size >= MIN_DISK_BYTES);
  return disks.length > 0 ? Math.min(...disks) : 0;
}

/**
 * `local_gb` as Ironic's inspection computes it: the smallest disk of at least 4 GiB — a volume, else (no volume
 * that large) a drive — and the smallest simple-storage device of that size, the smaller of the two when both
 * exist; in GiB, minus 1 (Ironic keeps a GiB for the partition table), truncated, never below 0.
 */
export function localGb(sizes: StorageSizes): number {
  const simple = smallestDisk(sizes.simpleStorage);
  const storage = smallestDisk(sizes.volumes) || smallestDisk(sizes.drives);
  const chosen = simple && storage ? Math.min(simple, storage) : Math.max(simple, storage);
  return Math.max(0, Math.trunc(chosen / GIB - 1));
}

const MAC = /^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$/i;

/** Lower-case and colon-separated, as Ironic ports store it; `undefined` when not a MAC at all. */
export function normalizeMac(raw: string): string | undefined {
  const trimmed = raw.trim();
  return MAC.test(trimmed) ? trimmed.toLowerCase().replaceAll("-", ":") : undefined;
}

const ZERO_MAC = "00:00:00:00:00:00";
const BROADCAST_MAC = "ff:ff:ff:ff:ff:ff";

/**
 * A MAC Ironic can give a port, normalized, or why not: BMCs report `null`, `""`, `"N/A"`, the zero MAC for an
 * interface without one, and the broadcast MAC for one they could not read.
 */
export function usableMac(raw: string | null | undefined): { mac: string } | { problem: string } {
  if (raw == null || raw.trim() === "") return { problem: "missing" };
  const mac = normalizeMac(raw);
  if (!mac) return { problem: `not a MAC address (${JSON.stringify(raw.slice(0, 40))})` };
  if (mac === ZERO_MAC) return { problem: `the zero MAC ${ZERO_MAC}` };
  if (mac === BROADCAST_MAC) return { problem: `the broadcast MAC ${BROADCAST_MAC}` };
  return { mac };
}

/** Redfish omits `Status` on simple services; an interface it lists without one is in use. */
export function isEnabled(status?: { State?: string | null } | null): boolean {
  return status?.State == null || status.State === "Enabled";
}

/** A NIC as read, with its link speed when the BMC reports one (the summary keeps it, ports do not). */
export type DetectedNic = Nic & { speedMbps?: number };

/** The first occurrence of a MAC wins: the system's own list comes before what its resource blocks add. */
export function dedupeNics<N extends Nic>(nics: readonly N[]): N[] {
  const seen = new Set<string>();
  return nics.filter((nic) => {
    if (seen.has(nic.mac)) return false;
    seen.add(nic.mac);
    return true;
  });
}

/** Groups equal entries (by every field but `count`) and counts them, in a stable order. */
function countGroups<T extends Record<string, unknown>>(entries: readonly T[]): Array<T & { count: number }> {
  const groups = new Map<string, T & { count: number }>();
  for (const entry of entries) {
    const defined = Object.fromEntries(
      Object.entries(entry)
        .filter(([, value]) => value !== undefined)
        .sort(([a], [b]) => a.localeCompare(b)),
    ) as T;
    const key = JSON.stringify(defined);
    const group = groups.get(key);
    if (group) group.count += 1;
    else groups.set(key, { ...defined, count: 1 });
  }
  return [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, group]) => group);
}

const text = (value: string | null | undefined) => {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
};

/**
 * The compact summary of a composed system: processors by type, manufacturer and model (absent ones left out),
 * drives by media and protocol, the NICs that become ports by speed, memory devices by type with CXL memory told
 * apart. Pure and ordered, so equal compositions give equal summaries.
 */
export function summarizeHardware(parts: {
  processors: readonly Processor[];
  dimms: readonly Memory[];
  storage: Pick<StorageSizes, "driveKinds">;
  nics: readonly DetectedNic[];
}): HardwareSummary {
  const processors = countGroups(
    parts.processors
      .filter((processor) => processor.Status?.State !== "Absent")
      .map((processor) => ({
        type: text(processor.ProcessorType) ?? "CPU",
        manufacturer: text(processor.Manufacturer),
        model: text(processor.Model),
        instruction_set: text(processor.InstructionSet),
      })),
  );
  const drives = countGroups(
    (parts.storage.driveKinds ?? []).map((kind) => ({
      media: text(kind.media),
      protocol: text(kind.protocol),
    })),
  );
  const nics = countGroups(
    dedupeNics(parts.nics)
      .filter((nic) => nic.enabled)
      .map((nic) => ({ speed_mbps: nic.speedMbps })),
  );
  const present = parts.dimms.filter((dimm) => dimm.Status?.State !== "Absent");
  const memoryGroups = new Map<string, HardwareSummary["memory"][number]>();
  for (const dimm of present) {
    const kind = {
      type: text(dimm.MemoryType),
      device_type: text(dimm.MemoryDeviceType),
      cxl: isCxl(dimm),
    };
    const key = JSON.stringify(kind);
    const group = memoryGroups.get(key) ?? { ...kind, capacity_mib: 0, count: 0 };
    group.capacity_mib += Math.trunc(dimm.CapacityMiB ?? 0);
    group.count += 1;
    memoryGroups.set(key, group);
  }
  const memory = [...memoryGroups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, group]) =>
      Object.fromEntries(Object.entries(group).filter(([, value]) => value !== undefined)),
    ) as HardwareSummary["memory"];
  return { processors, drives, nics, memory };
}

/** CXL-attached memory: the `CXL` object Memory v1.17 adds, or a type that names CXL. */
function isCxl(dimm: Memory): boolean {
  if (dimm.CXL != null) return true;
  return [dimm.MemoryType, dimm.MemoryDeviceType].some((value) => value?.toUpperCase().includes("CXL"));
}

export function toHardware(parts: {
  processors: readonly Processor[];
  processorSummary?: { logicalCount?: number | null; coreCount?: number | null; count?: number | null };
  dimms: readonly Memory[];
  totalSystemMemoryGiB?: number | null;
  storage: StorageSizes;
  nics: readonly DetectedNic[];
}): Hardware {
  const { cpus, cpuArch } = summarizeProcessors(parts.processors, parts.processorSummary);
  return {
    cpus,
    memory_mb: memoryMib(parts.dimms, parts.totalSystemMemoryGiB),
    local_gb: localGb(parts.storage),
    cpu_arch: cpuArch,
    nics: dedupeNics(parts.nics).map(({ mac, enabled }) => ({ mac, enabled })),
    summary: summarizeHardware(parts),
  };
}
