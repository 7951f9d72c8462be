import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import Table from "cli-table3";

const RESULTS = fileURLToPath(new URL("../results/", import.meta.url));

/** `2.31×`; a missing figure prints as `-`. */
export function ratio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : "-";
}

export function ms(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(1)} ms` : "-";
}

export function verdict(ok: boolean): string {
  return ok ? "met" : "MISSED";
}

/** A plain box table, the same look for every benchmark. */
export function renderTable(title: string, head: string[], rows: (string | number)[][]): string {
  const table = new Table({ head, style: { head: [], border: [] } });
  for (const row of rows) table.push(row.map(String));
  return `${title}\n${table.toString()}`;
}

export interface BenchResult {
  name: string;
  /** The command that produced it. */
  command: string;
  started_at: string;
  host: { node: string; cpus: number; platform: string };
  parameters: Record<string, unknown>;
  results: unknown;
  targets: Record<string, { target: string; measured: string; met: boolean }>;
  /** The summary table as printed. */
  table: string;
}

/** Writes `bench/results/<name>.json` and returns its path. */
export function writeResult(result: BenchResult): string {
  mkdirSync(RESULTS, { recursive: true });
  const path = `${RESULTS}${result.name}.json`;
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
  return path;
}

export async function hostInfo(): Promise<BenchResult["host"]> {
  const os = await import("node:os");
  return { node: process.version, cpus: os.cpus().length, platform: `${os.platform()} ${os.arch()}` };
}

/** What a benchmark measured; {@link saveResult} adds where and when it ran. */
export type MeasuredResult = Omit<BenchResult, "command" | "started_at" | "host"> & {
  /** Default: `npx tsx bench/<name>.ts`. */
  command?: string;
  /** Default: now. */
  started?: Date;
};

/** Writes `bench/results/<name>.json` with the command, the start time and this host; returns its path. */
export async function saveResult({ name, command, started, ...measured }: MeasuredResult): Promise<string> {
  return writeResult({
    name,
    command: command ?? `npx tsx bench/${name}.ts`,
    started_at: (started ?? new Date()).toISOString(),
    host: await hostInfo(),
    ...measured,
  });
}
