import * as z from "zod/mini";
import { ValidationError } from "../errors.ts";
import { lazySchema } from "../lazy-schema.ts";
import { PLACEMENT_SCHEMAS } from "../podmanagers/placement.ts";
import { safeParse } from "../validation.ts";
import type { Hardware, HardwareSummary } from "./model.ts";

/**
 * Ironic `traits` and `resource_class` from what a composed system holds. Operators compose nodes because they
 * differ (four GPUs here, NVMe and a 100G NIC there), and Nova picks a node for a flavor by its resource class and
 * required traits. Rules (deployment configuration, `VALENCE_HARDWARE_RULES`, else `DEFAULT_HARDWARE_RULES`) map
 * the hardware summary to both. Pure: no I/O, no environment.
 *
 * A rule matches one kind of device (`processor`, `drive`, `nic`, `memory_device`) or the node's total `memory`,
 * and gives trait templates and, optionally, a resource class. Templates take the matched devices' fields in
 * braces, each upper-cased with anything but letters and digits turned into `_`:
 * - processor: `{type}`, `{manufacturer}`, `{model}` (the manufacturer's name dropped from its start), `{count}`
 *   (of that type, manufacturer and model), `{total}` (of every processor the rule matched);
 * - drive: `{media}`, `{protocol}`, `{count}`, `{total}`;
 * - nic: `{speed_gbps}`, `{count}`, `{total}`;
 * - memory_device: `{type}`, `{device_type}`, `{gib}` (of those devices), `{count}`, `{total}`;
 * - memory: `{gib}` (the node's `memory_mb` in GiB).
 * A template naming a field the device does not report gives no trait for it.
 */

/** Ironic's limits: a node holds at most 50 traits (placement's limit per resource provider), each ≤ 255 chars. */
export const MAX_TRAITS_PER_NODE = 50;
export const MAX_TRAIT_LENGTH = 255;

/** `CUSTOM_` traits, or a standard os-traits name (its namespaces); Ironic refuses a standard name it does not know. */
const CUSTOM_TRAIT = /^CUSTOM_[A-Z0-9_]+$/;
const STANDARD_TRAIT = /^(COMPUTE|HW|STORAGE|MISC|OWNER)_[A-Z0-9_]+$/;

function traitProblem(name: string): string | undefined {
  if (name.length > MAX_TRAIT_LENGTH) return `is longer than ${MAX_TRAIT_LENGTH} characters`;
  if (!CUSTOM_TRAIT.test(name) && !STANDARD_TRAIT.test(name))
    return "must be CUSTOM_ followed by A-Z 0-9 _, or a standard os-traits name (HW_..., STORAGE_..., COMPUTE_...)";
  return undefined;
}

/** A trait name as Ironic takes it. */
export const TraitName = /* @__PURE__ */ lazySchema(() =>
  z.string().check(
    z.refine((name) => traitProblem(name) === undefined, {
      error: "must be CUSTOM_[A-Z0-9_]+ (≤ 255 characters) or a standard os-traits name",
    }),
  ),
);

const PLACEHOLDERS = {
  processor: ["type", "manufacturer", "model", "count", "total"],
  drive: ["media", "protocol", "count", "total"],
  nic: ["speed_gbps", "count", "total"],
  memory_device: ["type", "device_type", "gib", "count", "total"],
  memory: ["gib"],
} as const;
type Kind = keyof typeof PLACEHOLDERS;

const PLACEHOLDER = /\{([a-z_]+)\}/g;

const count = /* @__PURE__ */ lazySchema(() => z.number().check(z.int(), z.minimum(1)));
const text = /* @__PURE__ */ lazySchema(() => z.string().check(z.minLength(1), z.maxLength(255)));
/** One value or any of several, compared without regard to case. */
const oneOrMore = /* @__PURE__ */ lazySchema(() => z.union([text, z.array(text).check(z.minLength(1))]));
/** A lower bound (`min_*`), inclusive. */
const atLeast = /* @__PURE__ */ lazySchema(() => z.number().check(z.nonnegative()));
/** An upper bound (`max_*`), exclusive. */
const below = /* @__PURE__ */ lazySchema(() => z.number().check(z.positive()));

const ProcessorMatch = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    type: z.optional(oneOrMore),
    manufacturer: z.optional(oneOrMore),
    /** A part of the model, e.g. `A100`. */
    model_contains: z.optional(text),
    instruction_set: z.optional(oneOrMore),
    min_count: z.optional(count),
  }),
);
const DriveMatch = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    media: z.optional(oneOrMore),
    protocol: z.optional(oneOrMore),
    min_count: z.optional(count),
  }),
);
const NicMatch = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    min_speed_mbps: z.optional(atLeast),
    max_speed_mbps: z.optional(below),
    min_count: z.optional(count),
  }),
);
const MemoryDeviceMatch = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    cxl: z.optional(z.boolean()),
    type: z.optional(oneOrMore),
    device_type: z.optional(oneOrMore),
    min_count: z.optional(count),
  }),
);
const MemoryMatch = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    min_gib: z.optional(atLeast),
    max_gib: z.optional(below),
  }),
);

/** What a rule matches: exactly one kind. */
const RuleWhen = /* @__PURE__ */ lazySchema(() =>
  z.union([
    z.strictObject({ processor: ProcessorMatch }),
    z.strictObject({ drive: DriveMatch }),
    z.strictObject({ nic: NicMatch }),
    z.strictObject({ memory_device: MemoryDeviceMatch }),
    z.strictObject({ memory: MemoryMatch }),
  ]),
);

const TraitTemplate = /* @__PURE__ */ lazySchema(() =>
  z.string().check(z.minLength(1), z.maxLength(MAX_TRAIT_LENGTH)),
);

export const HardwareRuleSchema = /* @__PURE__ */ lazySchema(() =>
  z
    .strictObject({
      /** For the operator and error messages. */
      name: z.optional(text),
      when: RuleWhen,
      traits: z._default(z.array(TraitTemplate).check(z.maxLength(MAX_TRAITS_PER_NODE)), []),
      /** The resource class of a node this rule matches; the first matching rule that has one decides. */
      resource_class: z.optional(PLACEMENT_SCHEMAS.resource_class),
    })
    .check(
      z.superRefine((rule, context) => {
        const kind = kindOf(rule.when);
        for (const [index, template] of rule.traits.entries()) {
          const problem = templateProblem(kind, template);
          if (problem)
            context.issues.push({
              code: "custom",
              message: problem,
              input: template,
              path: ["traits", index],
            });
        }
      }),
    ),
);
export type HardwareRule = z.infer<typeof HardwareRuleSchema>;

export const HardwareRulesSchema = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    rules: z.array(HardwareRuleSchema).check(z.maxLength(200)),
  }),
);
export type HardwareRules = z.infer<typeof HardwareRulesSchema>;

function kindOf(when: HardwareRule["when"]): Kind {
  return Object.keys(when)[0] as Kind;
}

/** Whether a template can give a valid trait: its placeholders are the kind's, the rest a valid name. */
function templateProblem(kind: Kind, template: string): string | undefined {
  const allowed: readonly string[] = PLACEHOLDERS[kind];
  for (const [, placeholder] of template.matchAll(PLACEHOLDER)) {
    if (!allowed.includes(placeholder as string))
      return `{${placeholder}} is not a field of a ${kind} rule (${allowed.map((name) => `{${name}}`).join(", ")})`;
  }
  const problem = traitProblem(template.replace(PLACEHOLDER, "X"));
  return problem ? `${template} ${problem}` : undefined;
}

/**
 * The rules shipped: accelerators by type, vendor, model and count; the CPUs' architecture as os-traits names it;
 * drives by media (the standard `STORAGE_DISK_SSD` / `STORAGE_DISK_HDD`) and NVMe; NICs by speed; memory bands;
 * CXL memory. No resource class: without a configured rule that sets one, the pod manager's or the deployment's
 * applies.
 */
export const DEFAULT_HARDWARE_RULES: HardwareRules = {
  rules: [
    {
      name: "gpu",
      when: { processor: { type: "GPU" } },
      traits: ["CUSTOM_GPU", "CUSTOM_GPU_{manufacturer}_{model}", "CUSTOM_GPU_COUNT_{total}"],
    },
    {
      name: "fpga",
      when: { processor: { type: "FPGA" } },
      traits: ["CUSTOM_FPGA", "CUSTOM_FPGA_{manufacturer}_{model}", "CUSTOM_FPGA_COUNT_{total}"],
    },
    {
      name: "accelerator",
      when: { processor: { type: ["Accelerator", "NPU", "DSP"] } },
      traits: [
        "CUSTOM_ACCELERATOR",
        "CUSTOM_{type}_{manufacturer}_{model}",
        "CUSTOM_ACCELERATOR_COUNT_{total}",
      ],
    },
    {
      name: "x86-64",
      when: { processor: { type: "CPU", instruction_set: "x86-64" } },
      traits: ["HW_ARCH_X86_64"],
    },
    {
      name: "aarch64",
      when: { processor: { type: "CPU", instruction_set: "ARM-A64" } },
      traits: ["HW_ARCH_AARCH64"],
    },
    {
      name: "ppc64le",
      when: { processor: { type: "CPU", instruction_set: "PowerISA" } },
      traits: ["HW_ARCH_PPC64LE"],
    },
    { name: "nvme", when: { drive: { protocol: "NVMe" } }, traits: ["CUSTOM_NVME"] },
    { name: "ssd", when: { drive: { media: "SSD" } }, traits: ["STORAGE_DISK_SSD"] },
    { name: "hdd", when: { drive: { media: "HDD" } }, traits: ["STORAGE_DISK_HDD"] },
    { name: "nic-speed", when: { nic: { min_speed_mbps: 1000 } }, traits: ["CUSTOM_NIC_{speed_gbps}G"] },
    { name: "memory-small", when: { memory: { max_gib: 64 } }, traits: ["CUSTOM_MEMORY_LT_64G"] },
    {
      name: "memory-medium",
      when: { memory: { min_gib: 64, max_gib: 256 } },
      traits: ["CUSTOM_MEMORY_64G_256G"],
    },
    {
      name: "memory-large",
      when: { memory: { min_gib: 256, max_gib: 1024 } },
      traits: ["CUSTOM_MEMORY_256G_1T"],
    },
    { name: "memory-huge", when: { memory: { min_gib: 1024 } }, traits: ["CUSTOM_MEMORY_1T_PLUS"] },
    { name: "cxl-memory", when: { memory_device: { cxl: true } }, traits: ["CUSTOM_CXL_MEMORY"] },
  ],
};

/**
 * Parses `VALENCE_HARDWARE_RULES` (JSON); absent, the shipped defaults. Throws with every problem named, so a
 * deployment with bad rules fails at start, not at the first register.
 */
export function parseHardwareRules(json: string | undefined): HardwareRules {
  if (json === undefined || json.trim() === "") return DEFAULT_HARDWARE_RULES;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new Error(`VALENCE_HARDWARE_RULES: not JSON (${(error as Error).message})`);
  }
  const result = safeParse(HardwareRulesSchema, value);
  if (result.success) return result.data;
  const problems = result.error.issues.map(
    (issue) => `${["VALENCE_HARDWARE_RULES", ...issue.path.map(String)].join(".")}: ${issue.message}`,
  );
  throw new Error(problems.join("; "));
}

/** Upper case, anything but letters and digits one `_`, none at either end. */
function traitPart(value: string): string {
  return value
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
}

const lower = (value: string) => value.toLowerCase();
function matches(expected: string | readonly string[] | undefined, actual: string | undefined): boolean {
  if (expected === undefined) return true;
  if (actual === undefined) return false;
  const list = typeof expected === "string" ? [expected] : expected;
  return list.some((candidate) => lower(candidate) === lower(actual));
}

/** `NVIDIA` + `NVIDIA A100-SXM4` → `A100-SXM4`: the vendor is said once. */
function modelWithoutVendor(model: string | undefined, manufacturer: string | undefined): string | undefined {
  if (!model || !manufacturer) return model;
  const trimmed = model.slice(manufacturer.length).replace(/^[\s_-]+/, "");
  return lower(model).startsWith(lower(manufacturer)) && trimmed ? trimmed : model;
}

type Fields = Record<string, string | number | undefined>;

/** The devices a rule matches, each with its template fields; empty when the rule does not match. */
function matched(when: HardwareRule["when"], hardware: Hardware, summary: HardwareSummary): Fields[] {
  if ("processor" in when) {
    const m = when.processor;
    const found = summary.processors.filter(
      (p) =>
        matches(m.type, p.type) &&
        matches(m.manufacturer, p.manufacturer) &&
        matches(m.instruction_set, p.instruction_set) &&
        (m.model_contains === undefined || lower(p.model ?? "").includes(lower(m.model_contains))),
    );
    return withTotal(m.min_count, found, (p) => ({
      type: p.type,
      manufacturer: p.manufacturer,
      model: modelWithoutVendor(p.model, p.manufacturer),
      count: p.count,
    }));
  }
  if ("drive" in when) {
    const m = when.drive;
    const found = summary.drives.filter((d) => matches(m.media, d.media) && matches(m.protocol, d.protocol));
    return withTotal(m.min_count, found, (d) => ({ media: d.media, protocol: d.protocol, count: d.count }));
  }
  if ("nic" in when) {
    const m = when.nic;
    const found = summary.nics.filter(
      (n) =>
        n.speed_mbps !== undefined &&
        n.speed_mbps >= (m.min_speed_mbps ?? 0) &&
        (m.max_speed_mbps === undefined || n.speed_mbps < m.max_speed_mbps),
    );
    return withTotal(m.min_count, found, (n) => ({
      speed_gbps:
        n.speed_mbps !== undefined && n.speed_mbps >= 1000 ? Math.floor(n.speed_mbps / 1000) : undefined,
      count: n.count,
    }));
  }
  if ("memory_device" in when) {
    const m = when.memory_device;
    const found = summary.memory.filter(
      (d) =>
        (m.cxl === undefined || d.cxl === m.cxl) &&
        matches(m.type, d.type) &&
        matches(m.device_type, d.device_type),
    );
    return withTotal(m.min_count, found, (d) => ({
      type: d.type,
      device_type: d.device_type,
      gib: Math.floor(d.capacity_mib / 1024),
      count: d.count,
    }));
  }
  const m = when.memory;
  const gib = hardware.memory_mb / 1024;
  if (hardware.memory_mb <= 0) return [];
  if (gib < (m.min_gib ?? 0) || (m.max_gib !== undefined && gib >= m.max_gib)) return [];
  return [{ gib: Math.floor(gib) }];
}

function withTotal<T extends { count: number }>(
  minCount: number | undefined,
  found: readonly T[],
  fields: (entry: T) => Fields,
): Fields[] {
  const total = found.reduce((sum, entry) => sum + entry.count, 0);
  if (total === 0 || total < (minCount ?? 1)) return [];
  return found.map((entry) => ({ ...fields(entry), total }));
}

/** The template filled in, or nothing when it names a field the device does not report. */
function fill(template: string, fields: Fields): string | undefined {
  let missing = false;
  const filled = template.replace(PLACEHOLDER, (_match, name: string) => {
    const value = fields[name];
    if (value === undefined || value === "") {
      missing = true;
      return "";
    }
    return traitPart(String(value));
  });
  if (missing) return undefined;
  const name = filled.replace(/_+/g, "_").replace(/_$/, "");
  return traitProblem(name) === undefined ? name : undefined;
}

/** What the rules give for one node: its traits (sorted, each once) and the first matching rule's resource class. */
export interface HardwareTraits {
  traits: string[];
  resource_class?: string;
}

/**
 * Traits and resource class of a node from its hardware. A node read before Valence kept a summary gets only
 * what `memory` rules say. Exported for the reconciler, which re-syncs a drifted node's traits with it.
 */
export function hardwareTraits(
  hardware: Hardware,
  rules: HardwareRules = DEFAULT_HARDWARE_RULES,
): HardwareTraits {
  const summary = hardware.summary ?? { processors: [], drives: [], nics: [], memory: [] };
  const traits = new Set<string>();
  let resourceClass: string | undefined;
  for (const rule of rules.rules) {
    const devices = matched(rule.when, hardware, summary);
    if (devices.length === 0) continue;
    resourceClass ??= rule.resource_class;
    for (const template of rule.traits) {
      for (const fields of devices) {
        const trait = fill(template, fields);
        if (trait) traits.add(trait);
      }
    }
  }
  return { traits: [...traits].sort(), ...(resourceClass ? { resource_class: resourceClass } : {}) };
}

/** The register body's `traits`: a full list replaces what the rules give; `{add, remove}` adjusts it. */
export const RegisterTraits = /* @__PURE__ */ lazySchema(() =>
  z.union([
    z.array(TraitName).check(z.maxLength(MAX_TRAITS_PER_NODE)),
    z.strictObject({
      add: z._default(z.array(TraitName).check(z.maxLength(MAX_TRAITS_PER_NODE)), []),
      remove: z._default(z.array(TraitName).check(z.maxLength(200)), []),
    }),
  ]),
);
export type RegisterTraitsInput = z.infer<typeof RegisterTraits>;

/**
 * The traits a register sets: the rules' traits adjusted by the body (`{add, remove}`) or replaced by it (a list),
 * sorted and each once. More than Ironic's 50 is a 400 naming how many, before anything is created.
 */
export function registerTraits(
  fromRules: readonly string[],
  body: RegisterTraitsInput | undefined,
): string[] {
  let traits: Set<string>;
  if (body === undefined) traits = new Set(fromRules);
  else if (Array.isArray(body)) traits = new Set(body);
  else {
    traits = new Set([...fromRules, ...body.add]);
    for (const trait of body.remove) traits.delete(trait);
  }
  const sorted = [...traits].sort();
  if (sorted.length > MAX_TRAITS_PER_NODE) {
    throw new ValidationError(
      `body.traits: the node would have ${sorted.length} traits and Ironic takes at most ${MAX_TRAITS_PER_NODE}; remove some with {"traits": {"remove": [...]}} or give the full list`,
    );
  }
  return sorted;
}
