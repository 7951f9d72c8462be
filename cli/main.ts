import { readFile } from "node:fs/promises";
import { CommanderError } from "commander";
import { readCliConfig } from "./config.ts";
import type { CliDependencies, CliIo } from "./context.ts";
import { EXIT, ExitWith, exitCodeOf, UsageError } from "./errors.ts";
import { buildProgram } from "./program.ts";
import { promptHidden } from "./prompt.ts";
import { defaultCredentials } from "./sigv4.ts";

function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdinIsTTY: Boolean(process.stdin.isTTY),
    prompt: (question) => promptHidden(question),
    readFile: (path) => readFile(path, "utf8"),
    onInterrupt(listener) {
      process.on("SIGINT", listener);
      return () => process.off("SIGINT", listener);
    },
  };
}

/**
 * Runs one command line (`argv` without `node` and the script) and answers its exit code; never exits the
 * process itself, so tests call it directly.
 */
export async function main(
  argv: readonly string[],
  overrides: Partial<CliDependencies> = {},
): Promise<number> {
  const deps: CliDependencies = {
    config: overrides.config ?? readCliConfig(),
    io: overrides.io ?? processIo(),
    credentials: overrides.credentials ?? defaultCredentials,
    ...(overrides.fetch ? { fetch: overrides.fetch } : {}),
    ...(overrides.sleep ? { sleep: overrides.sleep } : {}),
  };
  try {
    await buildProgram(deps).parseAsync([...argv], { from: "user" });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander printed the message (or the help) already.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (!(error instanceof ExitWith)) {
      const prefix = error instanceof UsageError ? "error: " : "";
      deps.io.stderr.write(`${prefix}${(error as Error).message}\n`);
    }
    return exitCodeOf(error);
  }
}

/** `bin/valence`: run with the process's arguments and exit with the command's code once output is flushed. */
export async function run(): Promise<void> {
  const code = await main(process.argv.slice(2));
  process.exitCode = code;
  await Promise.all(
    [process.stdout, process.stderr].map(
      (stream) => new Promise<void>((resolve) => stream.write("", () => resolve())),
    ),
  );
  process.exit(code);
}
