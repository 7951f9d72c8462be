import { describe, expect, it } from "vitest";
import { parseConfig } from "../../lib/config.ts";
import { ConfigurationError, ValidationError } from "../../lib/errors.ts";
import {
  DEFAULT_HARDWARE_RULES,
  HardwareRuleSchema,
  type HardwareRules,
  hardwareTraits,
  MAX_TRAITS_PER_NODE,
  parseHardwareRules,
  registerTraits,
} from "../../lib/nodes/hardware-traits.ts";
import { resolvePlacement } from "../../lib/nodes/ironic-node.ts";
import type { Hardware } from "../../lib/nodes/model.ts";
import { withRuleResourceClass } from "../../lib/nodes/registration-saga.ts";
import { summarizeHardware } from "../../lib/redfish/hardware.ts";
import { MemoryIronic } from "../support/memory-ironic.ts";

const TRAIT = /^(CUSTOM_[A-Z0-9_]+|(HW|STORAGE|COMPUTE)_[A-Z0-9_]+)$/;

function gpuNode(): Hardware {
  const summary = summarizeHardware({
    processors: [
      { ProcessorType: "CPU", InstructionSet: "x86-64", Manufacturer: "Intel(R) Corporation", Model: "Xeon" },
      { ProcessorType: "CPU", InstructionSet: "x86-64", Manufacturer: "Intel(R) Corporation", Model: "Xeon" },
      ...Array.from({ length: 4 }, () => ({
        ProcessorType: "GPU",
        Manufacturer: "NVIDIA",
        Model: "NVIDIA A100",
      })),
    ],
    dimms: [
      { CapacityMiB: 65536, MemoryType: "DRAM", MemoryDeviceType: "DDR5" },
      { CapacityMiB: 65536, MemoryType: "DRAM", MemoryDeviceType: "DDR5" },
      { CapacityMiB: 131072, MemoryDeviceType: "DDR5", CXL: {} },
    ],
    storage: {
      driveKinds: [
        { media: "SSD", protocol: "NVMe" },
        { media: "SSD", protocol: "NVMe" },
        { media: "HDD", protocol: "SAS" },
      ],
    },
    nics: [
      { mac: "aa:00:00:00:00:01", enabled: true, speedMbps: 100_000 },
      { mac: "aa:00:00:00:00:02", enabled: true, speedMbps: 25_000 },
      { mac: "aa:00:00:00:00:03", enabled: false, speedMbps: 1_000 },
    ],
  });
  return { cpus: 64, memory_mb: 256 * 1024, local_gb: 893, cpu_arch: "x86_64", nics: [], summary };
}

describe("summarizeHardware", () => {
  it("groups devices by kind with counts, CXL memory apart, disabled NICs left out", () => {
    expect(gpuNode().summary).toEqual({
      processors: [
        {
          type: "CPU",
          manufacturer: "Intel(R) Corporation",
          model: "Xeon",
          instruction_set: "x86-64",
          count: 2,
        },
        { type: "GPU", manufacturer: "NVIDIA", model: "NVIDIA A100", count: 4 },
      ],
      drives: [
        { media: "HDD", protocol: "SAS", count: 1 },
        { media: "SSD", protocol: "NVMe", count: 2 },
      ],
      nics: [
        { speed_mbps: 100_000, count: 1 },
        { speed_mbps: 25_000, count: 1 },
      ],
      memory: [
        { device_type: "DDR5", cxl: true, capacity_mib: 131072, count: 1 },
        { type: "DRAM", device_type: "DDR5", cxl: false, capacity_mib: 131072, count: 2 },
      ],
    });
  });

  it("gives equal summaries for the same devices in another order", () => {
    const a = summarizeHardware({
      processors: [{ ProcessorType: "GPU", Model: "A" }, { ProcessorType: "CPU" }],
      dimms: [],
      storage: {},
      nics: [],
    });
    const b = summarizeHardware({
      processors: [{ ProcessorType: "CPU" }, { ProcessorType: "GPU", Model: "A" }],
      dimms: [],
      storage: {},
      nics: [],
    });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });
});

describe("hardwareTraits (shipped rules)", () => {
  it("names the GPUs by vendor, model and count, the drives, NICs, memory band and CXL memory", () => {
    const { traits, resource_class } = hardwareTraits(gpuNode());
    expect(traits).toEqual([
      "CUSTOM_CXL_MEMORY",
      "CUSTOM_GPU",
      "CUSTOM_GPU_COUNT_4",
      "CUSTOM_GPU_NVIDIA_A100",
      "CUSTOM_MEMORY_256G_1T",
      "CUSTOM_NIC_100G",
      "CUSTOM_NIC_25G",
      "CUSTOM_NVME",
      "HW_ARCH_X86_64",
      "STORAGE_DISK_HDD",
      "STORAGE_DISK_SSD",
    ]);
    expect(resource_class).toBeUndefined();
    for (const trait of traits) {
      expect(trait).toMatch(TRAIT);
      expect(trait.length).toBeLessThanOrEqual(255);
    }
  });

  it("gives a CPU-only node no accelerator trait", () => {
    const node = gpuNode();
    node.summary = { ...(node.summary as NonNullable<Hardware["summary"]>), processors: [] };
    expect(hardwareTraits(node).traits.filter((trait) => trait.includes("GPU"))).toEqual([]);
  });

  it("gives a node stored before summaries only its memory band", () => {
    const { summary: _summary, ...old } = gpuNode();
    expect(hardwareTraits(old).traits).toEqual(["CUSTOM_MEMORY_256G_1T"]);
  });

  it("leaves out a trait whose field the BMC does not report (a GPU without a model)", () => {
    const node = gpuNode();
    node.summary = {
      processors: [{ type: "GPU", count: 2 }],
      drives: [],
      nics: [],
      memory: [],
    };
    expect(hardwareTraits(node).traits).toEqual([
      "CUSTOM_GPU",
      "CUSTOM_GPU_COUNT_2",
      "CUSTOM_MEMORY_256G_1T",
    ]);
  });
});

describe("hardwareTraits (configured rules)", () => {
  const rules: HardwareRules = parseHardwareRules(
    JSON.stringify({
      rules: [
        { when: { processor: { type: "GPU", min_count: 8 } }, resource_class: "baremetal-gpu-large" },
        {
          when: { processor: { type: "GPU", model_contains: "a100" } },
          traits: ["CUSTOM_GPU"],
          resource_class: "baremetal-gpu",
        },
        { when: { drive: { protocol: "NVMe" } }, traits: ["CUSTOM_NVME"], resource_class: "baremetal-nvme" },
      ],
    }),
  );

  it("takes the resource class of the first rule that matches", () => {
    expect(hardwareTraits(gpuNode(), rules)).toEqual({
      traits: ["CUSTOM_GPU", "CUSTOM_NVME"],
      resource_class: "baremetal-gpu",
    });
  });

  it("precedence: a rule's resource class over the pod manager's, the pod manager's over the deployment's", async () => {
    const ironic = new MemoryIronic();
    const resolve = (ruleClass: string | undefined, podmClass: string | undefined) =>
      resolvePlacement(ironic, {
        body: withRuleResourceClass<{ resource_class?: string }>({}, ruleClass),
        podm: podmClass ? { resource_class: podmClass } : {},
        podmName: "podm",
        defaultResourceClass: "baremetal",
      }).then((placement) => placement.resource_class);
    expect(await resolve("from-rule", "from-podm")).toBe("from-rule");
    expect(await resolve(undefined, "from-podm")).toBe("from-podm");
    expect(await resolve(undefined, undefined)).toBe("baremetal");
  });

  it("precedence: the register body's resource class over a rule's", () => {
    expect(withRuleResourceClass({ resource_class: "from-body" }, "from-rule").resource_class).toBe(
      "from-body",
    );
    expect(withRuleResourceClass<{ resource_class?: string }>({}, "from-rule").resource_class).toBe(
      "from-rule",
    );
    expect(withRuleResourceClass<{ resource_class?: string }>({}, undefined).resource_class).toBeUndefined();
  });
});

describe("rule bounds", () => {
  it("takes min_* from 0 and max_* above 0, for NIC speed and memory alike", () => {
    const valid = (when: unknown) => HardwareRuleSchema.safeParse({ when, traits: ["CUSTOM_X"] }).success;

    expect(valid({ nic: { min_speed_mbps: 0, max_speed_mbps: 1 } })).toBe(true);
    expect(valid({ memory: { min_gib: 0, max_gib: 64 } })).toBe(true);
    expect(valid({ nic: { min_speed_mbps: -1 } })).toBe(false);
    expect(valid({ nic: { max_speed_mbps: 0 } })).toBe(false);
    expect(valid({ memory: { min_gib: -1 } })).toBe(false);
    expect(valid({ memory: { max_gib: 0 } })).toBe(false);
  });
});

describe("parseHardwareRules", () => {
  it("ships the defaults when unset", () => {
    expect(parseHardwareRules(undefined)).toBe(DEFAULT_HARDWARE_RULES);
    expect(parseConfig({}).VALENCE_HARDWARE_RULES).toBe(DEFAULT_HARDWARE_RULES);
  });

  it("refuses a trait template that cannot make a valid trait, naming it", () => {
    expect(() =>
      parseHardwareRules(
        JSON.stringify({ rules: [{ when: { processor: { type: "GPU" } }, traits: ["gpu"] }] }),
      ),
    ).toThrow(/VALENCE_HARDWARE_RULES\.rules\.0\.traits\.0: gpu must be CUSTOM_/);
    expect(() =>
      parseHardwareRules(
        JSON.stringify({ rules: [{ when: { drive: { media: "SSD" } }, traits: ["CUSTOM_{model}"] }] }),
      ),
    ).toThrow(/\{model\} is not a field of a drive rule/);
  });

  it("fails the configuration at start with a clear message", () => {
    expect(() => parseConfig({ VALENCE_HARDWARE_RULES: "{not json" })).toThrow(ConfigurationError);
    expect(() => parseConfig({ VALENCE_HARDWARE_RULES: '{"rules":[{"when":{"gpu":{}}}]}' })).toThrow(
      /VALENCE_HARDWARE_RULES/,
    );
  });
});

describe("registerTraits", () => {
  const fromRules = ["CUSTOM_GPU", "HW_ARCH_X86_64"];

  it("adds to and removes from the rules' traits", () => {
    expect(registerTraits(fromRules, { add: ["CUSTOM_RACK_7"], remove: ["HW_ARCH_X86_64"] })).toEqual([
      "CUSTOM_GPU",
      "CUSTOM_RACK_7",
    ]);
  });

  it("replaces them with a full list", () => {
    expect(registerTraits(fromRules, ["CUSTOM_ONLY"])).toEqual(["CUSTOM_ONLY"]);
  });

  it(`refuses more than ${MAX_TRAITS_PER_NODE} traits, before anything is created`, () => {
    const many = Array.from({ length: 50 }, (_, index) => `CUSTOM_T${index}`);
    expect(registerTraits([], many)).toHaveLength(50);
    expect(() => registerTraits(fromRules, { add: many, remove: [] })).toThrow(ValidationError);
  });
});
