import { join, resolve } from "node:path";
import * as esbuild from "esbuild";
import { defaultScheduledFunctions, deployedRoutes, functionNeeds } from "../../infra/catalog.ts";
import { BUNDLING } from "../../infra/constructs/valence-function.ts";
import { ROOT } from "./run.ts";

/** Every function the stack deploys, by handler name (`functions/<name>.ts`). */
export function deployedHandlers(): string[] {
  return [...functionNeeds([...deployedRoutes(), ...defaultScheduledFunctions()]).keys()];
}

/**
 * `esbuildArgs` of the stack's bundling (CDK passes them to the esbuild CLI) as esbuild API options. Only the
 * flags the stack uses are understood; anything else is an error rather than a silently different bundle.
 */
function extraOptions(): esbuild.BuildOptions {
  const args = (BUNDLING as { esbuildArgs?: Record<string, string | boolean | string[]> }).esbuildArgs ?? {};
  const options: esbuild.BuildOptions = {};
  for (const [flag, value] of Object.entries(args)) {
    if (flag === "--alias") {
      const entries = Array.isArray(value) ? value : [String(value)];
      options.alias = Object.fromEntries(
        entries.map((entry) => {
          const [name, target] = entry.split("=") as [string, string];
          // The CLI runs in the project root, where a relative target is resolved.
          return [name, target.startsWith(".") ? resolve(ROOT, target) : target];
        }),
      );
    } else if (flag === "--legal-comments") {
      options.legalComments = value as esbuild.BuildOptions["legalComments"];
    } else {
      throw new Error(`bench/support/bundles.ts does not know the esbuild flag ${flag}; teach it`);
    }
  }
  return options;
}

/** esbuild options equal to what `cdk synth` runs for a function (see `infra/constructs/valence-function.ts`). */
export function stackBuildOptions(): esbuild.BuildOptions {
  return {
    bundle: true,
    platform: "node",
    format: "esm",
    target: BUNDLING.target,
    mainFields: [...BUNDLING.mainFields],
    minify: BUNDLING.minify,
    sourcemap: BUNDLING.sourceMap,
    sourcesContent: (BUNDLING as { sourcesContent?: boolean }).sourcesContent ?? true,
    banner: { js: BUNDLING.banner },
    external: [...BUNDLING.externalModules],
    metafile: true,
    logLevel: "error",
    ...extraOptions(),
  };
}

export interface BuiltBundle {
  name: string;
  /** The `index.mjs` written, or undefined when built in memory. */
  file?: string;
  bytes: number;
  /** Bytes in the output per package (or per file of ours). */
  byPackage: Map<string, number>;
}

function composition(output: esbuild.Metafile["outputs"][string]): Map<string, number> {
  const byPackage = new Map<string, number>();
  for (const [file, input] of Object.entries(output.inputs)) {
    const match = file.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
    const name = match?.[1] ?? file;
    byPackage.set(name, (byPackage.get(name) ?? 0) + input.bytesInOutput);
  }
  return byPackage;
}

/**
 * Bundles `entry` (a file, or module source when `contents` is given) as the stack would. With `outdir`, writes
 * `<outdir>/<name>/index.mjs` (and its map); otherwise builds in memory.
 */
export async function buildBundle(
  name: string,
  source: { entry: string } | { contents: string },
  outdir?: string,
): Promise<BuiltBundle> {
  const file = outdir ? join(outdir, name, "index.mjs") : undefined;
  const result = await esbuild.build({
    ...stackBuildOptions(),
    ...("entry" in source
      ? { entryPoints: [resolve(ROOT, source.entry)] }
      : { stdin: { contents: source.contents, resolveDir: ROOT, loader: "ts", sourcefile: `${name}.ts` } }),
    outfile: file ?? "index.mjs",
    write: Boolean(file),
  });
  const output = Object.entries(result.metafile?.outputs ?? {}).find(([path]) => path.endsWith(".mjs"))?.[1];
  if (!output) throw new Error(`esbuild produced no bundle for ${name}`);
  return { name, ...(file ? { file } : {}), bytes: output.bytes, byPackage: composition(output) };
}

/**
 * The baseline of the cold-start target: a function that only imports the DynamoDB document client and makes
 * it on first use, as our functions do.
 */
export const BASELINE_SOURCE = `
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
let client;
export const handler = async (event) => {
  client ??= DynamoDBDocumentClient.from(new DynamoDBClient({}));
  return client.send(new GetCommand({ TableName: process.env.TABLE, Key: { pk: event.pk, sk: event.sk } }));
};
`;
