/**
 * cold-start: every deployed function bundled as the stack bundles it, its minified size, and the time Node
 * takes to import it in a fresh process (median of BENCH_COLD_RUNS ≥ 20 processes, interleaved so that noise
 * hits every bundle alike), next to a baseline bundle that only imports the DynamoDB document client.
 *
 * Targets (issue 9): ≤ 400 KB each; import ≤ 1.3× the baseline's.
 *
 * `npx tsx bench/cold-start.ts` — env: BENCH_COLD_RUNS (default 21), BENCH_COLD_ONLY=get-node,list-nodes,
 * BENCH_COLD_BEFORE=<another checkout> (its bundles too, interleaved: before and after in one run).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { BASELINE_SOURCE, type BuiltBundle, buildBundle, deployedHandlers } from "./support/bundles.ts";
import { ratio, renderTable, saveResult, verdict } from "./support/report.ts";
import { envInt, printWhenMain, ROOT } from "./support/run.ts";
import { median, percentile, round } from "./support/stats.ts";

const RUNS = Math.max(20, envInt("BENCH_COLD_RUNS", 21));
/** The stack sets NODE_OPTIONS=--enable-source-maps; BENCH_COLD_SOURCE_MAPS=0 shows what that costs. */
const SOURCE_MAPS = process.env.BENCH_COLD_SOURCE_MAPS !== "0";
const BUDGET_KB = 400;
const MAX_INIT_RATIO = 1.3;
const BASELINE = "baseline (DynamoDB document client)";

/**
 * Imports one bundle in a fresh Node, as Lambda's runtime would (with source maps enabled, as the stack sets
 * NODE_OPTIONS), and reports how long the import took on fd 3 (the bundle may log on stdout).
 */
const IMPORT = `
import { writeSync } from "node:fs";
const started = performance.now();
await import(process.argv[1]);
writeSync(3, JSON.stringify({ importMs: performance.now() - started }));
`;

function importOnce(file: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        ...(SOURCE_MAPS ? ["--enable-source-maps"] : []),
        "--input-type=module",
        "-e",
        IMPORT,
        pathToFileURL(file).href,
      ],
      {
        // What Lambda gives a function, and nothing of ours: no local settings leak into the measurement.
        env: {
          PATH: process.env.PATH ?? "",
          AWS_REGION: "us-east-1",
          AWS_ACCESS_KEY_ID: "AKIDBENCH",
          AWS_SECRET_ACCESS_KEY: "bench",
          AWS_SESSION_TOKEN: "bench",
          AWS_LAMBDA_FUNCTION_NAME: "bench",
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
          VALENCE_TABLE_NAME: "valence",
        },
        stdio: ["ignore", "ignore", "pipe", "pipe"],
      },
    );
    let report = "";
    let stderr = "";
    child.stdio[3]?.on("data", (chunk: Buffer) => {
      report += chunk.toString("utf8");
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0 && report) resolve((JSON.parse(report) as { importMs: number }).importMs);
      else reject(new Error(`importing ${file} failed (${code}): ${stderr.slice(0, 500)}`));
    });
  });
}

function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

/**
 * Not functions, and not judged: what part of a function's import is zod building our schemas, which every
 * module with schemas does at load (the bundler cannot drop or defer it).
 */
function referenceBundles(): { name: string; contents: string }[] {
  const schemaModules = [
    ...readdirSync(join(ROOT, "lib"), { recursive: true, encoding: "utf8" })
      .filter((file) => file.endsWith("schemas.ts"))
      .map((file) => `lib/${file}`),
    "lib/config.ts",
    "lib/nodes/model.ts",
    "lib/api/common.ts",
  ].filter((file) => existsSync(join(ROOT, file)));
  return [
    { name: "ref: zod/mini alone", contents: 'import * as z from "zod/mini"; export const s = z.string();' },
    {
      name: `ref: zod + our ${schemaModules.length} schema modules`,
      contents: schemaModules.map((file) => `export * from "./${file}";`).join("\n"),
    },
  ];
}

/**
 * The baseline bundle with only what Lambda gives a function — credentials in the environment — reaches
 * dynalite: the credential provider the bundles carry (lib/runtime/lambda-credentials.ts) works.
 */
async function credentialsReachDynamo(file: string): Promise<string> {
  const { startDynalite } = await import("../local/dynalite.ts");
  const dynamo = await startDynalite();
  try {
    const code = `
      import { writeSync } from "node:fs";
      const { handler } = await import(process.argv[1]);
      try { await handler({ pk: "x", sk: "y" }); writeSync(3, "answered"); }
      catch (error) { writeSync(3, error.name); }
    `;
    return await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ["--input-type=module", "-e", code, pathToFileURL(file).href], {
        env: {
          PATH: process.env.PATH ?? "",
          AWS_REGION: "us-east-1",
          AWS_ACCESS_KEY_ID: "AKIDBENCH",
          AWS_SECRET_ACCESS_KEY: "bench",
          AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
          TABLE: "no-such-table",
        },
        stdio: ["ignore", "ignore", "ignore", "pipe"],
      });
      let report = "";
      child.stdio[3]?.on("data", (chunk: Buffer) => {
        report += chunk.toString("utf8");
      });
      child.on("error", reject);
      child.on("close", () => resolve(report || "no answer"));
    });
  } finally {
    await dynamo.close();
  }
}

/**
 * `BENCH_COLD_BEFORE=<checkout>`: the same functions (and baseline) bundled from another checkout of this
 * repository by that checkout's own bundler, imported interleaved with this one's, so that a change's before and
 * after are measured in one run under the same load. Rows `before: <name>`; a table of both ratios side by side.
 */
const BEFORE = process.env.BENCH_COLD_BEFORE;
const BEFORE_PREFIX = "before: ";

async function buildBefore(
  checkout: string,
  handlers: readonly string[],
  outdir: string,
): Promise<BuiltBundle[]> {
  const theirs = (await import(pathToFileURL(join(checkout, "bench/support/bundles.ts")).href)) as {
    buildBundle: typeof buildBundle;
    deployedHandlers: typeof deployedHandlers;
    BASELINE_SOURCE: string;
  };
  const known = new Set(theirs.deployedHandlers());
  const built = [
    await theirs.buildBundle(`${BEFORE_PREFIX}${BASELINE}`, { contents: theirs.BASELINE_SOURCE }, outdir),
  ];
  for (const handler of handlers.filter((name) => known.has(name))) {
    built.push(
      await theirs.buildBundle(`${BEFORE_PREFIX}${handler}`, { entry: `functions/${handler}.ts` }, outdir),
    );
  }
  return built;
}

/**
 * Each function before and after: its import p50 (ms) and the ratio of the two, and its ratio to its own side's
 * baseline (the baselines differ when the bundling of the AWS SDK changed).
 */
function compareWithBefore(checkout: string, handlers: readonly string[], samples: Map<string, number[]>) {
  const p50 = (name: string) => median(samples.get(name) ?? []);
  const rows = handlers.map((handler) => {
    const had = samples.has(`${BEFORE_PREFIX}${handler}`);
    const beforeMs = had ? p50(`${BEFORE_PREFIX}${handler}`) : null;
    const afterMs = p50(handler);
    return {
      name: handler,
      before_ms: beforeMs === null ? null : round(beforeMs),
      after_ms: round(afterMs),
      after_vs_before: beforeMs === null ? null : round(afterMs / beforeMs, 2),
      before: beforeMs === null ? null : round(beforeMs / p50(`${BEFORE_PREFIX}${BASELINE}`), 2),
      after: round(afterMs / p50(BASELINE), 2),
    };
  });
  const table = renderTable(
    `cold-start, before (${checkout}) and after, interleaved in one run: import p50, and each against its own baseline (before ${p50(`${BEFORE_PREFIX}${BASELINE}`).toFixed(1)} ms, after ${p50(BASELINE).toFixed(1)} ms)`,
    ["function", "before p50", "after p50", "after ÷ before", "before vs baseline", "after vs baseline"],
    rows.map((row) => [
      row.name,
      row.before_ms === null ? "–" : `${row.before_ms.toFixed(1)} ms`,
      `${row.after_ms.toFixed(1)} ms`,
      row.after_vs_before === null ? "new" : ratio(row.after_vs_before),
      row.before === null ? "–" : ratio(row.before),
      ratio(row.after),
    ]),
  );
  return { rows, table };
}

/** "a–b" of the smallest and largest, or the one value. */
function span(values: readonly number[]): string {
  const [low, high] = [Math.min(...values).toFixed(0), Math.max(...values).toFixed(0)];
  return low === high ? low : `${low}–${high}`;
}

/**
 * What bounds the import ratio: a least-squares line of import p50 against bundle size over the baseline and
 * every function, and the size at which that line reaches the target ratio.
 */
function sizeFit(rows: readonly { kb: number; import_ms_p50: number }[], baselineMs: number) {
  const n = rows.length;
  const meanKb = rows.reduce((sum, row) => sum + row.kb, 0) / n;
  const meanMs = rows.reduce((sum, row) => sum + row.import_ms_p50, 0) / n;
  const sxy = rows.reduce((sum, row) => sum + (row.kb - meanKb) * (row.import_ms_p50 - meanMs), 0);
  const sxx = rows.reduce((sum, row) => sum + (row.kb - meanKb) ** 2, 0);
  const syy = rows.reduce((sum, row) => sum + (row.import_ms_p50 - meanMs) ** 2, 0);
  const msPerKb = sxx > 0 ? sxy / sxx : 0;
  const interceptMs = meanMs - msPerKb * meanKb;
  return {
    points: n,
    interceptMs: round(interceptMs, 2),
    msPerKb: round(msPerKb, 4),
    r2: round(sxx > 0 && syy > 0 ? (sxy * sxy) / (sxx * syy) : 0, 3),
    budgetKb: round(
      msPerKb > 0 ? (MAX_INIT_RATIO * baselineMs - interceptMs) / msPerKb : Number.POSITIVE_INFINITY,
    ),
  };
}

export async function runColdStart(): Promise<string> {
  const only = process.env.BENCH_COLD_ONLY?.split(",").filter(Boolean);
  const handlers = deployedHandlers().filter((handler) => !only || only.includes(handler));
  const outdir = mkdtempSync(join(tmpdir(), "valence-cold-"));
  try {
    const bundles: BuiltBundle[] = [await buildBundle(BASELINE, { contents: BASELINE_SOURCE }, outdir)];
    for (const handler of handlers) {
      bundles.push(await buildBundle(handler, { entry: `functions/${handler}.ts` }, outdir));
    }
    const references = referenceBundles();
    for (const reference of references) {
      bundles.push(await buildBundle(reference.name, { contents: reference.contents }, outdir));
    }
    const isReference = (name: string) => references.some((reference) => reference.name === name);
    const before = BEFORE ? await buildBefore(BEFORE, handlers, outdir) : [];
    bundles.push(...before);

    // One warm-up import each (file cache), then RUNS rounds, each importing every bundle once in random order.
    const samples = new Map<string, number[]>(bundles.map((bundle) => [bundle.name, []]));
    for (const bundle of bundles) await importOnce(bundle.file as string);
    for (let round = 0; round < RUNS; round++) {
      for (const bundle of shuffled(bundles)) {
        samples.get(bundle.name)?.push(await importOnce(bundle.file as string));
      }
    }

    const baselineMs = median(samples.get(BASELINE) ?? []);
    const rows = bundles
      .filter((bundle) => !bundle.name.startsWith(BEFORE_PREFIX))
      .map((bundle) => {
        const times = samples.get(bundle.name) ?? [];
        const importMs = median(times);
        const kb = bundle.bytes / 1024;
        const top = [...bundle.byPackage]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 4)
          .map(([name, bytes]) => `${name.replace(/^node_modules\//, "")} ${(bytes / 1024).toFixed(0)}`)
          .join(", ");
        return {
          name: bundle.name,
          kb: round(kb),
          import_ms_p50: round(importMs),
          import_ms_p90: round(percentile(times, 90)),
          init_ratio: round(importMs / baselineMs, 2),
          size_ok: kb <= BUDGET_KB,
          init_ok:
            bundle.name === BASELINE || isReference(bundle.name) || importMs / baselineMs <= MAX_INIT_RATIO,
          largest: top,
        };
      });
    const functions = rows.filter((row) => row.name !== BASELINE && !isReference(row.name));
    const worstSize = Math.max(...functions.map((row) => row.kb));
    const worstRatio = Math.max(...functions.map((row) => row.init_ratio));
    const table = renderTable(
      `cold-start: ${functions.length} function bundles, import time = median of ${RUNS} fresh Node processes${SOURCE_MAPS ? " (--enable-source-maps, as deployed)" : " (without source maps)"}`,
      ["bundle", "size", "import p50", "p90", "vs baseline", "≤400 KB", "≤1.3×", "largest parts (KB)"],
      rows.map((row) => [
        row.name,
        `${row.kb.toFixed(0)} KB`,
        `${row.import_ms_p50.toFixed(1)} ms`,
        `${row.import_ms_p90.toFixed(1)} ms`,
        row.name === BASELINE ? "1.00×" : ratio(row.init_ratio),
        isReference(row.name) ? "" : row.size_ok ? "yes" : "NO",
        isReference(row.name) ? "" : row.init_ok ? "yes" : "NO",
        row.largest,
      ]),
    );
    const targets = {
      size: {
        target: `every bundle ≤ ${BUDGET_KB} KB`,
        measured: `largest ${worstSize.toFixed(0)} KB`,
        met: functions.every((row) => row.size_ok),
      },
      init: {
        target: `import ≤ ${MAX_INIT_RATIO}× the baseline (${baselineMs.toFixed(1)} ms)`,
        measured: `worst ${worstRatio.toFixed(2)}×`,
        met: functions.every((row) => row.init_ok),
      },
    };
    const fit = sizeFit(
      rows.filter((row) => !isReference(row.name)),
      baselineMs,
    );
    const missed = functions.filter((row) => !row.init_ok);
    const bound = `import time against size over the ${fit.points} bundles: ${fit.interceptMs.toFixed(1)} ms + ${(fit.msPerKb * 100).toFixed(1)} ms per 100 KB (r² ${fit.r2.toFixed(2)}); ${MAX_INIT_RATIO}× the baseline is reached at ${fit.budgetKb.toFixed(0)} KB${missed.length > 0 ? `; the ${missed.length} over it carry ${span(missed.map((row) => row.kb))} KB` : ""}`;
    const credentials = await credentialsReachDynamo(bundles[0]?.file as string);
    const comparison = BEFORE ? compareWithBefore(BEFORE, handlers, samples) : undefined;
    const summary = `${table}${comparison ? `\n${comparison.table}` : ""}\n${bound}\nenvironment credentials only (the bundles' provider): the baseline bundle's GetItem got ${credentials} from dynalite (ResourceNotFoundException = signed and answered)\ntargets: size ${verdict(targets.size.met)} (${targets.size.measured}), init ${verdict(targets.init.met)} (${targets.init.measured})`;
    await saveResult({
      name: SOURCE_MAPS ? "cold-start" : "cold-start-no-source-maps",
      command: "npx tsx bench/cold-start.ts",
      parameters: {
        runs: RUNS,
        source_maps: SOURCE_MAPS,
        budget_kb: BUDGET_KB,
        max_init_ratio: MAX_INIT_RATIO,
        credentials_check: credentials,
      },

      results: {
        rows,
        size_fit: { ...fit, text: bound },
        ...(comparison ? { before: comparison.rows } : {}),
      },
      targets,
      table: summary,
    });
    return summary;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

await printWhenMain(import.meta.url, runColdStart);
