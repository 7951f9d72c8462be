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

describe("cpuArchOf", () => {
  it.each([
    [{ InstructionSet: "x86-64" }, "x86_64"],
    [{ InstructionSet: "ARM-A64" }, "aarch64"],
    [{ InstructionSet: "PowerISA" }, "ppc64le"],
    [{ InstructionSet: "RV64" }, "riscv64"],
    [{ InstructionSet: "IA-64" }, "ia64"],
    [{ ProcessorArchitecture: "x86" }, "x86_64"],
    [{ ProcessorArchitecture: "ARM" }, "aarch64"],
    [{ ProcessorArchitecture: "Power" }, "ppc64le"],
  ])("maps %j to %s", (processor, arch) => {
    expect(cpuArchOf(processor)).toBe(arch);
  });

  it("prefers the instruction set over the architecture family", () => {
    expect(cpuArchOf({ ProcessorArchitecture: "x86", InstructionSet: "x86" })).toBe("i686");
    expect(cpuArchOf({ ProcessorArchitecture: "ARM", InstructionSet: "ARM-A64" })).toBe("aarch64");
  });

  it("says nothing for OEM or missing values", () => {
    expect(cpuArchOf({ ProcessorArchitecture: "OEM", InstructionSet: "OEM" })).toBeUndefined();
    expect(cpuArchOf({})).toBeUndefined();
  });
});

describe("summarizeProcessors", () => {
  it("sums TotalCores of CPUs only, skipping GPUs and empty sockets", () => {
    const result = summarizeProcessors([
      { ProcessorType: "CPU", TotalCores: 8, InstructionSet: "ARM-A64" },
      { TotalCores: 8 },
      { ProcessorType: "GPU", TotalCores: 2048 },
      { ProcessorType: "CPU", TotalCores: 8, Status: { State: "Absent" } },
    ]);
    expect(result).toEqual({ cpus: 16, cpuArch: "aarch64" });
  });

  it("counts a processor without TotalCores as one core", () => {
    expect(
      summarizeProcessors([{ ProcessorType: "CPU" }, { ProcessorType: "CPU", TotalCores: 4 }]).cpus,
    ).toBe(5);
  });

  it("falls back to the summary's cores, then its count, and to x86_64", () => {
    expect(summarizeProcessors([], { coreCount: 24, count: 2 })).toEqual({ cpus: 24, cpuArch: "x86_64" });
    expect(summarizeProcessors([], { count: 2 })).toEqual({ cpus: 2, cpuArch: "x86_64" });
    expect(summarizeProcessors([])).toEqual({ cpus: 0, cpuArch: "x86_64" });
  });
});

describe("memoryMib", () => {
  it("sums DIMM capacities, ignoring absent slots", () => {
    expect(
      memoryMib([
        { CapacityMiB: 8192 },
        { CapacityMiB: 16384 },
        { CapacityMiB: 8192, Status: { State: "Absent" } },
      ]),
    ).toBe(24576);
  });

  it("prefers DIMMs over the summary, and uses the summary in GiB when no DIMM has a capacity", () => {
    expect(memoryMib([{ CapacityMiB: 1024 }], 64)).toBe(1024);
    expect(memoryMib([{ CapacityMiB: null }], 64)).toBe(65536);
    expect(memoryMib([], 1.5)).toBe(1536);
    expect(memoryMib([])).toBe(0);
  });
});

describe("localGb", () => {
  it("is the total in GiB, rounded down", () => {
    expect(localGb([274877906944, 274877906944])).toBe(512);
    expect(localGb([240_000_000_000])).toBe(223);
    expect(localGb([])).toBe(0);
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
        processors: [{ TotalCores: 8, InstructionSet: "x86-64" }],
        dimms: [{ CapacityMiB: 4096 }],
        storageBytes: [2 * 1024 ** 3],
        nics: [{ mac: "aa:bb:cc:dd:ee:ff", enabled: true }],
      }),
    ).toEqual({
      cpus: 8,
      memory_mb: 4096,
      local_gb: 2,
      cpu_arch: "x86_64",
      nics: [{ mac: "aa:bb:cc:dd:ee:ff", enabled: true }],
    });
  });
});
