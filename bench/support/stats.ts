import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import Table from "cli-table3";

/** The repository root. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const RESULTS = fileURLToPath(new URL("../results/", import.meta.url));

/** Nearest-rank percentile (p in 0..100) of unsorted samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export const median = (samples: readonly number[]) => percentile(samples, 50);

export function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

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

/** Integer setting from the environment, e.g. `BENCH_NODES=5`. */
export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0)
    throw new Error(`${name} must be a non-negative integer, got ${raw}`);
  return value;
}
