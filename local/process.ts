/**
 * Running the OpenStack services this machine provides (Debian's python3-ironic, python3-keystone) for tests and
 * the local stack: their packages, a private cache for what a start copies instead of making, Python processes
 * in their own process group, and the life cycle both services share ({@link startPythonService}).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { lstat, mkdir, mkdtemp, open, rename, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** Debian's interpreter: another python3 may come first on PATH, without the OpenStack modules. */
export const PYTHON = "/usr/bin/python3";

/** Kill the Python child if this Node process dies without calling `stop()` (PR_SET_PDEATHSIG = 1). */
export const PYTHON_DIE_WITH_PARENT =
  "import ctypes, signal; ctypes.CDLL('libc.so.6', use_errno=True).prctl(1, signal.SIGKILL)";

/**
 * Schema templates and key repositories reused across starts: a start then copies instead of migrating. This is
 * the default for tests, one per user; the local stack keeps its own under its data directory. Either is used
 * only when `privateCacheDir` finds it is a directory of ours that nobody else can write.
 */
export const OPENSTACK_CACHE_DIR = join(tmpdir(), `valence-openstack-cache-${process.getuid?.() ?? "user"}`);

/**
 * Creates `dir` (mode 0700) or checks an existing one: a real directory (not a symlink), owned by this user, with
 * no access for group or others. Anything else in a shared place like /tmp could be someone else's planted
 * template, so it is refused rather than trusted.
 */
export async function privateCacheDir(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await lstat(dir);
  const uid = process.getuid?.();
  if (!info.isDirectory())
    throw new Error(`cache ${dir} is not a directory (a symlink?): refusing to use it`);
  if (uid !== undefined && info.uid !== uid) {
    throw new Error(`cache ${dir} belongs to uid ${info.uid}, not to us (${uid}): refusing to use it`);
  }
  if ((info.mode & 0o077) !== 0) {
    throw new Error(
      `cache ${dir} has mode ${(info.mode & 0o777).toString(8)}, open to others: refusing to use it`,
    );
  }
  return dir;
}

/** A port free right now on `host` (the OS picks it). */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

function exec(
  file: string,
  args: readonly string[],
  options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = execFile(
      file,
      args,
      { env: options.env ?? process.env, timeout: options.timeoutMs ?? 300_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          const tail = `${stderr}`.trim().split("\n").slice(-20).join("\n");
          reject(new Error(`${file} ${args[0] ?? ""} failed: ${error.message}\n${tail}`, { cause: error }));
        } else {
          resolveRun({ stdout: `${stdout}`, stderr: `${stderr}` });
        }
      },
    );
    // A child that exits before reading its input closes the pipe (EPIPE); its exit status tells the story.
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(options.input ?? "");
  });
}

/** Run Debian's python3 to completion. */
export function runPython(args: readonly string[], options: { input?: string } = {}) {
  return exec(PYTHON, args, options);
}

const installed = new Map<string, Promise<string>>();

/**
 * The installed version of a Debian package. If it is missing and we are root, install it; otherwise fail
 * naming the command to run.
 */
export function ensureDebianPackage(name: string): Promise<string> {
  let pending = installed.get(name);
  if (!pending) {
    pending = (async () => {
      const query = async () => {
        try {
          // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own field syntax
          const { stdout } = await exec("dpkg-query", ["-W", "-f", "${Status}|${Version}", name]);
          const [status, version] = stdout.split("|");
          return status?.endsWith(" installed") ? version : undefined;
        } catch {
          return undefined;
        }
      };
      const found = await query();
      if (found) return found;
      const command = `apt-get install -y --no-install-recommends ${name}`;
      if (process.getuid?.() !== 0) throw new Error(`${name} is not installed; run as root: ${command}`);
      const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
      try {
        await exec("apt-get", ["install", "-y", "--no-install-recommends", name], { env });
      } catch {
        // A fresh machine has no package lists yet.
        await exec("apt-get", ["update"], { env });
        await exec("apt-get", ["install", "-y", "--no-install-recommends", name], { env });
      }
      const after = await query();
      if (!after) throw new Error(`${name} is still not installed after: ${command}`);
      return after;
    })();
    pending.catch(() => installed.delete(name));
    installed.set(name, pending);
  }
  return pending;
}

export interface PythonProcess {
  pid: number;
  child: ChildProcess;
  /** The last few KB of its stdout and stderr. */
  output(): string;
  /** SIGTERM to the whole process group, SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Spawn Debian's python3 as the leader of its own process group, so `stop()` gets every descendant. */
export function spawnPython(args: readonly string[], options: { input?: string } = {}): PythonProcess {
  const child = spawn(PYTHON, args, { detached: true, stdio: ["pipe", "pipe", "pipe"] });
  if (child.pid === undefined) throw new Error(`cannot spawn ${PYTHON}`);
  const pid = child.pid;
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-16_384);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  child.stdin?.on("error", () => undefined);
  child.stdin?.end(options.input ?? "");
  const exited = new Promise<void>((resolveExit) => child.once("exit", () => resolveExit()));
  const hasExited = () => child.exitCode !== null || child.signalCode !== null;
  return {
    pid,
    child,
    output: () => output,
    stop: async (graceMs = 3_000) => {
      if (hasExited()) return;
      const signal = (name: NodeJS.Signals) => {
        try {
          process.kill(-pid, name);
        } catch {
          // Already gone.
        }
      };
      signal("SIGTERM");
      const timer = new Promise<"timeout">((resolveTimer) =>
        setTimeout(() => resolveTimer("timeout"), graceMs),
      );
      if ((await Promise.race([exited, timer])) === "timeout") {
        signal("SIGKILL");
        await exited;
      }
    },
  };
}

/** The last `lines` lines of a file, or "" if it does not exist. */
export async function tailFile(file: string, lines = 30): Promise<string> {
  try {
    const handle = await open(file, "r");
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, 16_384);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      return buffer.toString().split("\n").slice(-lines).join("\n");
    } finally {
      await handle.close();
    }
  } catch {
    return "";
  }
}

/** Poll `url` until it answers any HTTP status; fail early if the process exits, with its log tail. */
export async function waitForHttp(
  url: string,
  process_: PythonProcess,
  options: { timeoutMs: number; name: string; logFile: string },
): Promise<void> {
  const until = Date.now() + options.timeoutMs;
  for (;;) {
    const exitCode = process_.child.exitCode;
    if (exitCode !== null || process_.child.signalCode !== null) {
      throw new Error(
        `${options.name} exited (${exitCode ?? process_.child.signalCode}) before answering ${url}\n` +
          `${process_.output()}\n--- ${options.logFile}\n${await tailFile(options.logFile)}`,
      );
    }
    try {
      await fetch(url, { signal: AbortSignal.timeout(1_000) });
      return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > until) {
      throw new Error(
        `${options.name} did not answer ${url} within ${options.timeoutMs} ms\n` +
          `${process_.output()}\n--- ${options.logFile}\n${await tailFile(options.logFile)}`,
      );
    }
    await new Promise((resolveSleep) => setTimeout(resolveSleep, 100));
  }
}

/** How to run one service once its data directory is ready. */
export interface ServiceLaunch {
  /** The Python code to run (`python3 -c`), and its `sys.argv[1:]`. */
  code: string;
  args: readonly string[];
  /** Written to its stdin (secrets, rather than in argv). */
  input?: string;
  /** Polled until it answers: the service is up. */
  readyUrl: string;
  /** Its log, whose tail explains a start that failed. */
  logFile: string;
}

/** Where a service is started and on what. */
export interface ServicePlace {
  dataDir: string;
  host: string;
  port: number;
  /** The Debian package's version. */
  version: string;
}

export interface RunningService {
  dataDir: string;
  pid: number;
  /** How long the start took, for the curious. */
  startupMs: number;
  /** Stops the process group (SIGTERM, then SIGKILL) and removes the data dir if it was a temp one. */
  stop(): Promise<void>;
}

export interface StartServiceOptions {
  /** @default a new temp dir, removed by `stop()` */
  dataDir?: string;
  /** @default a free port */
  port?: number;
  host?: "127.0.0.1";
  /** @default 60_000 */
  startTimeoutMs?: number;
}

/**
 * The life cycle of a local OpenStack service: its Debian package, its data directory (a new temp one unless
 * given), what `prepare` writes there, the Python process (which dies with this one), the wait until it answers,
 * and a `stop` that ends it and removes a temp data directory. A failed start leaves no process and no temp
 * directory behind.
 */
export async function startPythonService<T>(
  service: { name: string; debianPackage: string },
  options: StartServiceOptions,
  prepare: (place: ServicePlace) => Promise<{ launch: ServiceLaunch; details: T }>,
): Promise<RunningService & T> {
  const started = Date.now();
  const version = await ensureDebianPackage(service.debianPackage);
  const ownDataDir = options.dataDir === undefined;
  const dataDir = resolve(
    options.dataDir ?? (await mkdtemp(join(tmpdir(), `valence-${service.name.toLowerCase()}-`))),
  );
  const removeOwnDataDir = async () => {
    if (ownDataDir) await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const host = options.host ?? "127.0.0.1";
    const port = options.port ?? (await freePort(host));
    const { launch, details } = await prepare({ dataDir, host, port, version });
    const child = spawnPython(["-c", `${PYTHON_DIE_WITH_PARENT}; ${launch.code}`, ...launch.args], {
      input: launch.input,
    });
    try {
      await waitForHttp(launch.readyUrl, child, {
        timeoutMs: options.startTimeoutMs ?? 60_000,
        name: service.name,
        logFile: launch.logFile,
      });
    } catch (error) {
      await child.stop();
      throw error;
    }
    return {
      ...details,
      dataDir,
      pid: child.pid,
      startupMs: Date.now() - started,
      stop: async () => {
        await child.stop();
        await removeOwnDataDir();
      },
    };
  } catch (error) {
    await removeOwnDataDir();
    throw error;
  }
}

/**
 * A template (a migrated database, key repositories) of `name` at `version`, made once per version in the private
 * cache `cacheDir` and then copied by each start. `build` makes it inside a fresh work directory and returns
 * its path there (the work directory itself for a directory); it is moved into place atomically, so a
 * concurrent start sees either no template or a whole one.
 */
export async function cachedTemplate(
  template: { name: string; version: string; extension?: string; cacheDir?: string },
  build: (work: string) => Promise<string>,
): Promise<string> {
  const cacheDir = await privateCacheDir(template.cacheDir ?? OPENSTACK_CACHE_DIR);
  const path = join(
    cacheDir,
    `${template.name}-${template.version.replace(/[^\w.+-]/g, "_")}${template.extension ?? ""}`,
  );
  if (existsSync(path)) return path;
  const work = await mkdtemp(join(cacheDir, `${template.name}-template-`));
  try {
    const built = await build(work);
    try {
      await rename(built, path);
    } catch (error) {
      // Another start made it first.
      if (!existsSync(path)) throw error;
    }
    return path;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
