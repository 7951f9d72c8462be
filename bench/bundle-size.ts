/**
 * Bundle size of every deployed function, bundled exactly as the CDK stack bundles it (same esbuild options),
 * with the packages that weigh most. `npx tsx bench/bundle-size.ts [--check] [--budget-kb=400]`: with --check,
 * exits 1 when a bundle is over budget. Cold starts grow with bundle size; the budget keeps that visible
 * (`bench/cold-start.ts` measures the import times too).
 */
import { buildBundle, deployedHandlers } from "./support/bundles.ts";

const check = process.argv.includes("--check");
const budgetKb = Number(process.argv.find((arg) => arg.startsWith("--budget-kb="))?.split("=")[1] ?? 400);

const handlers = deployedHandlers();
let over = 0;
for (const handler of handlers) {
  const bundle = await buildBundle(handler, { entry: `functions/${handler}.ts` });
  const kb = bundle.bytes / 1024;
  const top = [...bundle.byPackage]
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
