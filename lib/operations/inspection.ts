import type { InspectionReport } from "./model.ts";

/** The properties Valence registers and Ironic's inspection writes: what the report compares. */
export const INSPECTED_PROPERTIES = ["cpus", "memory_mb", "local_gb", "cpu_arch"] as const;

/** The node as registered, as the inspect step saw it before sending `inspect` (checkpointed, so plain JSON). */
export interface RegisteredView {
  properties: Partial<Record<(typeof INSPECTED_PROPERTIES)[number], string | number | null>>;
  /** The addresses of the node's Ironic ports, lower-case. */
  macs: string[];
}

type Value = string | number | null;

/** The properties the report compares, as plain values (Ironic 21.4 writes numbers as strings). */
export function registeredView(properties: Record<string, unknown>, macs: readonly string[]): RegisteredView {
  const picked: RegisteredView["properties"] = {};
  for (const name of INSPECTED_PROPERTIES) picked[name] = plain(properties[name]);
  return { properties: picked, macs: macs.map((mac) => mac.toLowerCase()).sort() };
}

function plain(raw: unknown): Value {
  return typeof raw === "string" || typeof raw === "number" ? raw : null;
}

/** `32` and `"32"` agree: Ironic's inspection writes `memory_mb` and `local_gb` as strings. */
function same(a: Value, b: Value): boolean {
  if (a === null || b === null) return a === b;
  const numbers = [Number(a), Number(b)];
  if (typeof a !== typeof b && numbers.every((n) => Number.isFinite(n))) return numbers[0] === numbers[1];
  return String(a) === String(b);
}

/**
 * What Ironic's inspection found against what was registered: each compared property with both values, and the
 * ports — those Ironic's inspection added (its own, never Valence's to delete) and registered ones now gone.
 */
export function inspectionReport(before: RegisteredView, after: RegisteredView): InspectionReport {
  const properties = INSPECTED_PROPERTIES.map((name) => {
    const registered = before.properties[name] ?? null;
    const found = after.properties[name] ?? null;
    return { name, registered: text(registered), found: text(found), agrees: same(registered, found) };
  });
  const registered = new Set(before.macs);
  const found = new Set(after.macs);
  const ports = {
    registered: [...registered],
    found: [...found],
    added_by_inspection: [...found].filter((mac) => !registered.has(mac)),
    missing: [...registered].filter((mac) => !found.has(mac)),
  };
  const agrees = properties.every((property) => property.agrees) && ports.missing.length === 0;
  return { agrees, properties, ports };
}

/** One sentence for the step's `detail`. */
export function describeInspection(report: InspectionReport): string {
  const differing = report.properties
    .filter((property) => !property.agrees)
    .map((property) => `${property.name} ${show(property.found)} (registered ${show(property.registered)})`);
  const parts = [
    differing.length === 0
      ? `inspection agrees with the registration (${report.properties.map((p) => `${p.name} ${show(p.registered)}`).join(", ")})`
      : `inspection found ${differing.join(", ")}`,
    `${report.ports.found.length} port(s)`,
  ];
  if (report.ports.added_by_inspection.length > 0)
    parts.push(`added by Ironic's inspection: ${report.ports.added_by_inspection.join(", ")}`);
  if (report.ports.missing.length > 0) parts.push(`gone: ${report.ports.missing.join(", ")}`);
  return parts.join("; ");
}

const text = (value: Value) => (value === null ? null : String(value));
const show = (value: string | null) => value ?? "none";
