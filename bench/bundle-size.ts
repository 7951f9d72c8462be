/**
 * Bundle size of every deployed function, bundled exactly as the CDK stack bundles it (same esbuild options),
 * with the packages that weigh most. `npx tsx bench/bundle-size.ts [--check] [--budget-kb=400]`: with --check,
 * exits 1 when a bundle is over budget. Cold starts grow with bundle size; the budget keeps that visible.
 */
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { defaultScheduledFunctions, deployedRoutes, functionNeeds } from "../infra/catalog.ts";
import { BUNDLING } from "../infra/constructs/valence-function.ts";

const root = fileURLToPath(new URL("../", import.meta.url));
const check = process.argv.includes("--check");
const budgetKb = Number(process.argv.find((arg) => arg.startsWith("--budget-kb="))?.split("=")[1] ?? 400);

const handlers = [...functionNeeds([...deployedRoutes(), ...defaultScheduledFunctions()]).keys()];
let over = 0;
for (const handler of handlers) {
  const result = await esbuild.build({
    entryPoints: [`${root}functions/${handler}.ts`],
    bundle: true,
    platform: "node",
    format: "esm",
    target: BUNDLING.target,
    mainFields: [...BUNDLING.mainFields],
    minify: BUNDLING.minify,
    banner: { js: BUNDLING.banner },
    external: [...BUNDLING.externalModules],
    metafile: true,
    write: false,
    outfile: "index.mjs",
    logLevel: "error",
  });
  const output = Object.values(result.metafile.outputs)[0];
  if (!output) throw new Error(`no output for ${handler}`);
  const byPackage = new Map<string, number>();
  for (const [file, input] of Object.entries(output.inputs)) {
    const match = file.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
    const name = match?.[1] ?? file.split("/").slice(0, 2).join("/");
    byPackage.set(name, (byPackage.get(name) ?? 0) + input.bytesInOutput);
  }
  const kb = output.bytes / 1024;
  const top = [...byPackage]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([name, bytes]) => `${name} ${(bytes / 1024).toFixed(0)}`)
    .join(", ");
  const flag = kb > budgetKb ? " OVER" : "";
  if (flag) over++;
  console.log(`${handler.padEnd(22)} ${kb.toFixed(0).padStart(6)} KB${flag.padEnd(5)}  ${top}`);
}
console.log(`budget ${budgetKb} KB: ${over} of ${handlers.length} over`);
if (check && over > 0) process.exitCode = 1;
