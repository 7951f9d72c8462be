import type { CliIo } from "./context.ts";

export interface MemoryIo extends CliIo {
  /** Everything written to stdout / stderr so far. */
  out(): string;
  err(): string;
  /** As if Ctrl-C was pressed: calls the listeners registered through `onInterrupt`. */
  interrupt(): void;
}

/**
 * I/O kept in memory: to run the CLI inside another program (or a test) and read what it printed. `files` stand in
 * for the file system (bulk files); `answers` for what a person would type at prompts.
 */
export function memoryIo(
  options: { tty?: boolean; files?: Record<string, string>; answers?: string[] } = {},
): MemoryIo {
  let stdout = "";
  let stderr = "";
  const answers = [...(options.answers ?? [])];
  const interruptListeners = new Set<() => void>();
  return {
    stdout: { write: (text: string) => (stdout += text), isTTY: false },
    stderr: { write: (text: string) => (stderr += text), isTTY: false },
    stdinIsTTY: Boolean(options.tty),
    prompt: async (question) => {
      stderr += question;
      return answers.shift() ?? "";
    },
    readFile: async (path) => {
      const text = options.files?.[path];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
      return text;
    },
    onInterrupt(listener) {
      interruptListeners.add(listener);
      return () => interruptListeners.delete(listener);
    },
    out: () => stdout,
    err: () => stderr,
    interrupt: () => {
      for (const listener of [...interruptListeners]) listener();
    },
  };
}
