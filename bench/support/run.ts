import { fileURLToPath, pathToFileURL } from "node:url";

/** The repository root. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Prints what `run` returns when `moduleUrl` is the script node was started with (not when imported). */
export async function printWhenMain(moduleUrl: string, run: () => Promise<string>): Promise<void> {
  if (moduleUrl === pathToFileURL(process.argv[1] ?? "").href) console.log(await run());
}

/**
 * Keeps the CloudWatch metrics (EMF) that routes print on stdout, as Lambda wants them, out of a report that is
 * printed on stdout.
 */
export function dropEmfLines(): void {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) =>
    typeof chunk === "string" && chunk.startsWith('{"_aws"')
      ? true
      : write(chunk, ...rest)) as typeof process.stdout.write;
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

/** Progress on stderr, so a piped table on stdout stays clean. */
export function progress(message: string): void {
  process.stderr.write(`${message}\n`);
}
