import { describe, expect, it } from "vitest";
import {
  cpuArchOf,
  dedupeNics,
  isEnabled,
  localGb,
  memoryMib,
  normalizeMac,
  summarizeProcessors,
  toHardware,
} from "../../lib/redfish/hardware.ts";

const GIB = 1024 ** 3;

/**
 * The figures below are what Ironic 21.4's `redfish` inspect interface (`inspect_hardware`, `_detect_local_gb`)
 * over sushy 4.3 computes from the same Redfish data; "was" is what Valence registered before it followed them.
 */

describe("cpuArchOf (Ironic's ProcessorArchitecture map first)", () => {
  it.each([
    [{ ProcessorArchitecture: "x86", InstructionSet: "x86-64" }, "x86_64"],
    [{ ProcessorArchitecture: "x86", InstructionSet: "x86" }, "x86_64"],
    // was aarch64: Ironic writes "arm" for ProcessorArchitecture ARM whatever the instruction set.
    [{ ProcessorArchitecture: "ARM", InstructionSet: "ARM-A64" }, "arm"],
    [{ ProcessorArchitecture: "IA-64" }, "ia64"],
    [{ ProcessorArchitecture: "MIPS", InstructionSet: "MIPS64" }, "mips"],
    [{ ProcessorArchitecture: "OEM" }, "oem"],
  ])("maps %j to %s as Ironic does", (processor, arch) => {
    expect(cpuArchOf(processor)).toBe(arch);
  });

  it.each([
    [{ InstructionSet: "x86-64" }, "x86_64"],
    [{ InstructionSet: "ARM-A64" }, "aarch64"],
    [{ ProcessorArchitecture: "Power", InstructionSet: "PowerISA" }, "ppc64le"],
    [{ ProcessorArchitecture: "Power" }, "ppc64le"],
    [{ ProcessorArchitecture: "RISCV", InstructionSet: "RV64" }, "riscv64"],
  ])("where Ironic has no mapping (it then keeps ours) maps %j to %s", (processor, arch) => {
    expect(cpuArchOf(processor)).toBe(arch);
  });

  it("says nothing for missing values", () => {
    expect(cpuArchOf({})).toBeUndefined();
    expect(cpuArchOf({ InstructionSet: "OEM" })).toBeUndefined();
  });
});

describe("summarizeProcessors (sushy's processor summary, CPUs only)", () => {
  it("counts logical CPUs: 2 × Xeon 8 cores / 16 threads is 32 (was 16, the cores)", () => {
    const xeon = { ProcessorType: "CPU", ProcessorArchitecture: "x86", TotalCores: 8, TotalThreads: 16 };
    expect(summarizeProcessors([xeon, xeon])).toEqual({ cpus: 32, cpuArch: "x86_64" });
  });

  it("leaves GPUs, FPGAs and accelerators out (sushy 4.x would add the GPU's 1536 threads: 1568)", () => {
    const result = summarizeProcessors([
      { ProcessorType: "GPU", ProcessorArchitecture: "OEM", TotalCores: 1536, TotalThreads: 1536 },
      { ProcessorType: "CPU", ProcessorArchitecture: "x86", TotalCores: 8, TotalThreads: 16 },
      { TotalCores: 8, TotalThreads: 16 },
      { ProcessorType: "FPGA", TotalThreads: 4 },
      { ProcessorType: "Accelerator", TotalThreads: 4 },
    ]);
    expect(result).toEqual({ cpus: 32, cpuArch: "x86_64" });
  });

  it("adds nothing for a processor without TotalThreads, as sushy", () => {
    expect(summarizeProcessors([{ TotalThreads: 4 }, { TotalCores: 4 }]).cpus).toBe(4);
  });

  it("takes the architecture of the first CPU that reports one sushy knows", () => {
    expect(
      summarizeProcessors([
        { ProcessorArchitecture: "Quantum", TotalThreads: 1 },
        { ProcessorArchitecture: "ARM", InstructionSet: "ARM-A64", TotalThreads: 80 },
        { ProcessorArchitecture: "x86", TotalThreads: 1 },
      ]),
    ).toEqual({ cpus: 82, cpuArch: "arm" });
  });

  it("without threads (Ironic then writes no cpus) falls back to logical count, cores, core count, count", () => {
    expect(summarizeProcessors([], { logicalCount: 48, coreCount: 24, count: 2 })).toEqual({
      cpus: 48,
      cpuArch: "x86_64",
    });
    expect(summarizeProcessors([{ TotalCores: 6 }], { coreCount: 24 }).cpus).toBe(6);
    expect(summarizeProcessors([], { coreCount: 24, count: 2 }).cpus).toBe(24);
    expect(summarizeProcessors([], { count: 2 }).cpus).toBe(2);
    expect(summarizeProcessors([])).toEqual({ cpus: 0, cpuArch: "x86_64" });
  });
});

describe("memoryMib (MemorySummary × 1024, as Ironic)", () => {
  it("takes TotalSystemMemoryGiB over the DIMMs, truncated to whole GiB as sushy reads it", () => {
    // was 1024: the DIMMs won over the summary.
    expect(memoryMib([{ CapacityMiB: 1024 }], 64)).toBe(65536);
    // was 1536: sushy reads 1.5 GiB as int(1.5) = 1.
    expect(memoryMib([], 1.5)).toBe(1024);
  });

  it("without a summary (Ironic then writes nothing) sums the DIMMs, ignoring absent slots", () => {
    expect(
      memoryMib([
        { CapacityMiB: 8192 },
        { CapacityMiB: 16384 },
        { CapacityMiB: 8192, Status: { State: "Absent" } },
      ]),
    ).toBe(24576);
    expect(memoryMib([{ CapacityMiB: 8192 }], 0)).toBe(8192);
    expect(memoryMib([])).toBe(0);
  });
});

describe("localGb (Ironic's _detect_local_gb)", () => {
  const none = { drives: [], simpleStorage: [] };

  it("the emulator's 240 GB NVMe drive: 222 (was 223, the floor of 223.5 GiB)", () => {
    expect(localGb({ ...none, drives: [240_000_000_000] })).toBe(222);
  });

  it("the smallest drive, not the sum: 240 GB + 960 GB is 222 (was 1117)", () => {
    expect(localGb({ ...none, drives: [960_000_000_000, 240_000_000_000] })).toBe(222);
  });

  it("the DMTF mockup's two 256 GiB drives: 255 (was 512)", () => {
    expect(localGb({ ...none, drives: [256 * GIB, 256 * GIB] })).toBe(255);
  });

  it("ignores disks under 4 GiB, and is 0 with none left", () => {
    expect(localGb({ ...none, drives: [2 * GIB, 4 * GIB - 1, 100 * GIB] })).toBe(99);
    expect(localGb({ ...none, drives: [4 * GIB] })).toBe(3);
    expect(localGb({ ...none, drives: [2 * GIB] })).toBe(0);
    expect(localGb(none)).toBe(0);
  });

  it("prefers a volume of at least 4 GiB to the drives", () => {
    expect(localGb({ volumes: [500 * GIB, 1 * GIB], drives: [100 * GIB], simpleStorage: [] })).toBe(499);
    expect(localGb({ volumes: [1 * GIB], drives: [100 * GIB], simpleStorage: [] })).toBe(99);
    expect(localGb({ volumes: [], drives: [100 * GIB], simpleStorage: [] })).toBe(99);
  });

  it("takes the smaller of the storage and simple-storage candidates, or whichever exists", () => {
    expect(localGb({ drives: [100 * GIB], simpleStorage: [50 * GIB] })).toBe(49);
    expect(localGb({ drives: [100 * GIB], simpleStorage: [200 * GIB] })).toBe(99);
    expect(localGb({ drives: [], simpleStorage: [3 * GIB, 200 * GIB] })).toBe(199);
  });

  it("truncates the GiB after subtracting one", () => {
    expect(localGb({ ...none, drives: [10.9 * GIB] })).toBe(9);
  });
});

describe("normalizeMac", () => {
  it("lower-cases and uses colons", () => {
    expect(normalizeMac("AA:BB:CC:DD:EE:FD")).toBe("aa:bb:cc:dd:ee:fd");
    expect(normalizeMac(" 02-5A-E0-00-01-0F ")).toBe("02:5a:e0:00:01:0f");
  });

  it("rejects what is not a MAC address", () => {
    expect(normalizeMac("")).toBeUndefined();
    expect(normalizeMac("AA:BB:CC:DD:EE")).toBeUndefined();
    expect(normalizeMac("not a mac")).toBeUndefined();
  });
});

describe("NIC state and order", () => {
  it("treats a missing Status or State as enabled, anything but Enabled as not", () => {
    expect(isEnabled(undefined)).toBe(true);
    expect(isEnabled({})).toBe(true);
    expect(isEnabled({ State: "Enabled" })).toBe(true);
    expect(isEnabled({ State: "Disabled" })).toBe(false);
    expect(isEnabled({ State: "StandbyOffline" })).toBe(false);
  });

  it("keeps the first occurrence of each MAC in order", () => {
    const nics = dedupeNics([
      { mac: "aa:00:00:00:00:02", enabled: true },
      { mac: "aa:00:00:00:00:01", enabled: false },
      { mac: "aa:00:00:00:00:02", enabled: false },
    ]);
    expect(nics).toEqual([
      { mac: "aa:00:00:00:00:02", enabled: true },
      { mac: "aa:00:00:00:00:01", enabled: false },
    ]);
  });
});

describe("toHardware", () => {
  it("assembles Ironic's properties", () => {
    expect(
      toHardware({
        processors: [{ TotalCores: 8, TotalThreads: 16, InstructionSet: "x86-64" }],
        dimms: [{ CapacityMiB: 4096 }],
        storage: { drives: [6 * GIB], simpleStorage: [] },
        nics: [{ mac: "aa:bb:cc:dd:ee:ff", enabled: true }],
      }),
    ).toEqual({
      cpus: 16,
      memory_mb: 4096,
      local_gb: 5,
      cpu_arch: "x86_64",
      nics: [{ mac: "aa:bb:cc:dd:ee:ff", enabled: true }],
      summary: {
        processors: [{ type: "CPU", instruction_set: "x86-64", count: 1 }],
        drives: [],
        nics: [{ count: 1 }],
        memory: [{ cxl: false, capacity_mib: 4096, count: 1 }],
      },
    });
  });
});
