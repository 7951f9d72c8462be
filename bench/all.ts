/**
 * `npm run bench`: every benchmark, one after another, each in its own process (each starts its own local stack,
 * and the composition root's singletons belong to one stack), then all their tables together and the targets
 * each one met or missed (from `bench/results/<name>.json`).
 *
 * `npm run bench -- cold-start get-latency` runs only those.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { BenchResult } from "./support/report.ts";

const BENCHMARKS = [
  "cold-start",
  "get-latency",
  "register-floor",
  "register-lifecycle",
  "fleet-enroll",
  "reconcile",
] as const;

const requested = process.argv.slice(2).filter((arg) => !arg.startsWith("-"));
const unknown = requested.filter((name) => !(BENCHMARKS as readonly string[]).includes(name));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s) ${unknown.join(", ")}; known: ${BENCHMARKS.join(", ")}`);
  process.exit(2);
}
const selected = requested.length > 0 ? requested : [...BENCHMARKS];

function run(name: string): Promise<{ code: number; stdout: string }> {
  const tsx = fileURLToPath(new URL("../node_modules/.bin/tsx", import.meta.url));
  const script = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(tsx, [script], {
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, stdout }));
  });
}

const outcomes: string[] = [];
let failed = 0;
for (const name of selected) {
  const started = Date.now();
  process.stderr.write(`\n=== ${name}\n`);
  const { code, stdout } = await run(name);
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  if (code !== 0) {
    failed++;
    outcomes.push(`${name}: FAILED (exit ${code}) after ${seconds} s\n${stdout}`);
    continue;
  }
  const result = JSON.parse(
    readFileSync(fileURLToPath(new URL(`./results/${name}.json`, import.meta.url)), "utf8"),
  ) as BenchResult;
  const targets = Object.values(result.targets)
    .map((target) => `${target.met ? "met" : "MISSED"}: ${target.target} — ${target.measured}`)
    .join("\n  ");
  outcomes.push(`${result.table}\n  ${targets}\n  (${seconds} s, bench/results/${name}.json)`);
}

console.log(`\n${outcomes.join("\n\n")}`);
if (failed > 0) process.exitCode = 1;
