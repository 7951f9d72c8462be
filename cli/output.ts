import Table from "cli-table3";

export type OutputFormat = "table" | "json";

/** Where the CLI writes: `process.stdout`/`stderr`, or buffers in tests. */
export interface Writer {
  write(text: string): unknown;
}

/** No colours: output is read by people and by scripts alike, and ANSI codes get in the way of the latter. */
const STYLE = { head: [], border: [] };
/** A rule under the header only, as OpenStack's clients print tables: drops cli-table3's rules between rows. */
function render(table: Table.Table): string {
  let ruleSeen = false;
  const lines = table
    .toString()
    .split("\n")
    .filter((line) => {
      if (!line.startsWith("├")) return true;
      if (ruleSeen) return false;
      ruleSeen = true;
      return true;
    });
  return `${lines.join("\n")}\n`;
}

/** `-f json`: the API's JSON as it came, pretty-printed. */
export function formatJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** OpenStack clients show `None` for null; we do too, so `node-show` reads like `openstack baremetal node show`. */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (Array.isArray(value)) return value.map(formatValue).join("\n");
  if (typeof value === "object") {
    return Object.entries(value as Record<string, unknown>)
      .map(
        ([key, item]) =>
          `${key}=${item !== null && typeof item === "object" ? JSON.stringify(item) : formatValue(item)}`,
      )
      .join(", ");
  }
  return String(value);
}

/** Nested objects become dotted rows (`hardware.cpus`), so a node's hardware is readable at a glance. */
export function flattenFields(value: Record<string, unknown>, prefix = ""): [string, unknown][] {
  const rows: [string, unknown][] = [];
  for (const [key, item] of Object.entries(value)) {
    if (item !== null && typeof item === "object" && !Array.isArray(item)) {
      rows.push(...flattenFields(item as Record<string, unknown>, `${prefix}${key}.`));
    } else {
      rows.push([`${prefix}${key}`, item]);
    }
  }
  return rows;
}

/** One resource as a Field | Value table. */
export function formatDetail(value: Record<string, unknown>): string {
  const table = new Table({ head: ["Field", "Value"], style: STYLE });
  for (const [field, item] of flattenFields(value)) table.push([field, formatValue(item)]);
  return render(table);
}

export interface Column {
  header: string;
  /** Dotted path into each item (`ironic_state.provision_state`). */
  path: string;
}

/**
 * A table's columns written as one line, `"UUID=uuid, Ironic Node=ironic_node_uuid"`: each `Header=path`, in the
 * order shown.
 */
export function columns(spec: string): readonly Column[] {
  return spec.split(", ").map((column) => {
    const at = column.indexOf("=");
    return { header: column.slice(0, at), path: column.slice(at + 1) };
  });
}

function valueAt(item: unknown, path: string): unknown {
  let current = item;
  for (const key of path.split(".")) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** Many resources as one row each. */
export function formatList(items: readonly unknown[], columns: readonly Column[]): string {
  const table = new Table({ head: columns.map((column) => column.header), style: STYLE });
  for (const item of items) table.push(columns.map((column) => formatValue(valueAt(item, column.path))));
  return render(table);
}

export const NODE_COLUMNS = columns(
  "UUID=uuid, Name=name, Managed By=managed_by, Pod Manager=podm_id, Index=index, Ironic Node=ironic_node_uuid",
);

export const POD_MANAGER_COLUMNS = columns("UUID=uuid, Name=name, URL=url, Driver=driver, Status=status");

export const HISTORY_COLUMNS = columns(
  "At=at, Action=action, Outcome=outcome, Actor=actor, Request=request_id, Detail=detail",
);
