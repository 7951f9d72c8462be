import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface RunningProcess {
  child: ChildProcess;
  output: () => string;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /**
   * SIGKILL to the whole process group (only for a process spawned with `group`): it and every process it started
   * die at once, as in a crash. Resolves once the leader is gone.
   */
  crash(): Promise<void>;
}

/** Spawns a command and waits until its output matches `ready`. */
export async function spawnUntil(
  command: string,
  args: string[],
  options: {
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    ready: RegExp;
    timeoutMs?: number;
    /** In a process group of its own, so that `crash` can kill all it started. */
    group?: boolean;
  },
): Promise<RunningProcess> {
  const child = spawn(command, args, {
    env: options.env,
    cwd: options.cwd,
    stdio: ["ignore", "pipe", "pipe"],
    detached: options.group ?? false,
  });
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`timed out waiting for ${options.ready}; output:\n${output}`)),
      options.timeoutMs ?? 30_000,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      if (options.ready.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code} before it was ready; output:\n${output}`));
    });
  });
  return {
    child,
    output: () => output,
    stop: async (signal = "SIGINT") => {
      child.kill(signal);
      return exited;
    },
    crash: async () => {
      if (!options.group || child.pid === undefined)
        throw new Error("crash needs a process spawned with group");
      process.kill(-child.pid, "SIGKILL");
      await exited;
    },
  };
}
