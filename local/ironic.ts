/**
 * Runs a real, standalone OpenStack Ironic (API and conductor in one process, sqlite, no message bus) on this
 * machine, for integration tests and the local stack. Debian's `python3-ironic` provides it; there are no
 * console scripts, so the entry points are called through `/usr/bin/python3 -c`.
 *
 * The process helpers at the bottom are shared with `./keystone.ts`.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, copyFile, lstat, mkdir, mkdtemp, open, rename, rm, writeFile } from "node:fs/promises";
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

/**
 * Ironic's loggers at WARNING: at INFO, the conductor prints whole nodes (`Node(... driver_info={...})`, the BMC
 * password in clear) when it moves them, e.g. "Automated cleaning is disabled ... node Node(...)".
 */
const QUIET_LOG_LEVELS = [
  "ironic=WARNING",
  "ironic_lib=WARNING",
  "sushy=WARNING",
  "oslo_messaging=WARNING",
  "oslo_policy=WARNING",
  "oslo.cache=WARNING",
  "keystonemiddleware=WARNING",
  "keystoneauth=WARNING",
  "sqlalchemy=WARNING",
  "stevedore=WARNING",
  "futurist=WARNING",
  "urllib3=WARNING",
  "eventlet.wsgi.server=WARNING",
].join(",");

export type IronicAuthStrategy = "noauth" | "http_basic" | "keystone";

export interface IronicKeystoneSettings {
  /** Keystone's URL, e.g. `http://127.0.0.1:5000/v3`. */
  url: string;
  /** Ironic's service user (see `registerIronicInKeystone`). */
  username: string;
  password: string;
  /** @default "service" */
  projectName?: string;
  /** @default "default" */
  userDomainId?: string;
  /** @default "default" */
  projectDomainId?: string;
  /**
   * How long Ironic caches a validated token. Tests revoke tokens and expect Ironic to notice at once.
   * @default -1 (no cache)
   */
  tokenCacheSeconds?: number;
}

export interface StartIronicOptions {
  /** Where config, database, locks and log go. @default a new temp dir, removed by `stop()` */
  dataDir?: string;
  /** @default a free port */
  port?: number;
  host?: "127.0.0.1";
  /** Ironic's `auth_strategy`. @default "noauth" */
  auth?: IronicAuthStrategy;
  /** For `http_basic`: user → password, written as a bcrypt htpasswd file. */
  basicUsers?: Record<string, string>;
  /** Required for `keystone`. */
  keystone?: IronicKeystoneSettings;
  /** @default `<dataDir>/ironic.log` */
  logFile?: string;
  /** Where the migrated schema template is kept between starts. @default OPENSTACK_CACHE_DIR */
  cacheDir?: string;
  /** `[conductor] sync_power_state_interval`; Ironic's default is 60 s, 0 disables. */
  powerStateSyncSeconds?: number;
  /** Extra config, section → key → value; wins over the defaults. */
  config?: Record<string, Record<string, string | number | boolean>>;
  /** @default 60_000 */
  startTimeoutMs?: number;
}

export interface IronicService {
  /** `http://127.0.0.1:PORT` (no `/v1`). */
  url: string;
  port: number;
  dataDir: string;
  configFile: string;
  logFile: string;
  pid: number;
  /** How long `startIronic` took, for the curious. */
  startupMs: number;
  /** Stops Ironic (SIGTERM, then SIGKILL) and removes the data dir if it was a temp dir. */
  stop(): Promise<void>;
}

type IniSections = Record<string, Record<string, string | number | boolean>>;

function ini(sections: IniSections): string {
  return Object.entries(sections)
    .map(([section, keys]) =>
      [`[${section}]`, ...Object.entries(keys).map(([k, v]) => `${k} = ${v}`)].join("\n"),
    )
    .join("\n\n")
    .concat("\n");
}

function mergeSections(base: IniSections, extra: IniSections | undefined): IniSections {
  const merged: IniSections = { ...base };
  for (const [section, keys] of Object.entries(extra ?? {}))
    merged[section] = { ...merged[section], ...keys };
  return merged;
}

function ironicConfig(options: {
  dataDir: string;
  port: number;
  host: string;
  auth: IronicAuthStrategy;
  logFile: string;
  htpasswdFile?: string;
  keystone?: IronicKeystoneSettings;
  powerStateSyncSeconds?: number;
}): IniSections {
  const sections: IniSections = {
    DEFAULT: {
      auth_strategy: options.auth,
      rpc_transport: "none",
      enabled_hardware_types: "redfish,fake-hardware",
      enabled_boot_interfaces: "pxe,redfish-virtual-media,fake",
      enabled_management_interfaces: "redfish,fake",
      enabled_power_interfaces: "redfish,fake",
      enabled_inspect_interfaces: "no-inspect,redfish,fake",
      enabled_bios_interfaces: "no-bios,redfish,fake",
      enabled_raid_interfaces: "no-raid,redfish,fake",
      enabled_vendor_interfaces: "no-vendor,redfish,fake",
      enabled_deploy_interfaces: "direct,fake,ramdisk",
      enabled_network_interfaces: "noop",
      default_network_interface: "noop",
      host: "localhost",
      log_file: options.logFile,
      default_log_levels: QUIET_LOG_LEVELS,
      ...(options.htpasswdFile ? { http_basic_auth_user_file: options.htpasswdFile } : {}),
    },
    api: { host_ip: options.host, port: options.port, api_workers: 1 },
    database: { connection: `sqlite:///${join(options.dataDir, "ironic.sqlite")}` },
    conductor: {
      automated_clean: false,
      ...(options.powerStateSyncSeconds === undefined
        ? {}
        : { sync_power_state_interval: options.powerStateSyncSeconds }),
    },
    dhcp: { dhcp_provider: "none" },
    // Default 5 attempts × 4 s makes a `manage` against an unreachable BMC take ~20 s.
    redfish: { connection_attempts: 1, connection_retry_interval: 1 },
    oslo_concurrency: { lock_path: join(options.dataDir, "locks") },
  };
  if (options.keystone) {
    const keystone = options.keystone;
    sections.keystone_authtoken = {
      www_authenticate_uri: keystone.url,
      auth_url: keystone.url,
      auth_type: "password",
      username: keystone.username,
      password: keystone.password,
      project_name: keystone.projectName ?? "service",
      user_domain_id: keystone.userDomainId ?? "default",
      project_domain_id: keystone.projectDomainId ?? "default",
      token_cache_time: keystone.tokenCacheSeconds ?? -1,
    };
  }
  return sections;
}

/** bcrypt htpasswd lines (`user:$2b$...`) for Ironic's `http_basic`; passwords go through stdin, not argv. */
async function htpasswd(users: Record<string, string>): Promise<string> {
  const script = [
    "import bcrypt, json, sys",
    "users = json.load(sys.stdin)",
    // 4 rounds: the minimum, so each authenticated test request stays fast.
    "print(''.join('%s:%s\\n' % (u, bcrypt.hashpw(p.encode(), bcrypt.gensalt(4)).decode()) for u, p in users.items()), end='')",
  ].join("\n");
  const { stdout } = await runPython(["-c", script], { input: JSON.stringify(users) });
  return stdout;
}

/** Copy a cached, freshly migrated Ironic database (creating it once per Ironic version). */
async function ironicSchema(version: string, target: string, cacheDir: string): Promise<void> {
  const template = join(
    await privateCacheDir(cacheDir),
    `ironic-${version.replace(/[^\w.+-]/g, "_")}.sqlite`,
  );
  if (!existsSync(template)) {
    const work = await mkdtemp(join(cacheDir, "ironic-schema-"));
    try {
      const config = join(work, "ironic.conf");
      const database = join(work, "ironic.sqlite");
      await writeFile(
        config,
        ini({
          DEFAULT: { log_file: join(work, "dbsync.log") },
          database: { connection: `sqlite:///${database}` },
        }),
      );
      await runPython([
        "-c",
        "import sys; sys.argv = ['ironic-dbsync', '--config-file', sys.argv[1], 'create_schema']; " +
          "from ironic.cmd import dbsync; dbsync.main()",
        config,
      ]);
      // Atomic: a concurrent start sees either no template or a whole one.
      await rename(database, template);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
  // An existing database (the local stack's, under .valence) is kept: its nodes outlive a restart.
  if (!existsSync(target)) await copyFile(template, target);
  // It holds BMC passwords (driver_info): ours alone, also when an older start left it readable.
  await chmod(target, 0o600);
}

/**
 * Start Ironic and wait until its API answers. About 2 s once the schema template is cached (the first start
 * on a machine also migrates a database, ~1.5 s more).
 */
export async function startIronic(options: StartIronicOptions = {}): Promise<IronicService> {
  const started = Date.now();
  const version = await ensureDebianPackage("python3-ironic");
  const auth = options.auth ?? "noauth";
  if (auth === "keystone" && !options.keystone)
    throw new Error("startIronic: auth keystone needs options.keystone");
  if (auth === "http_basic" && !options.basicUsers)
    throw new Error("startIronic: auth http_basic needs basicUsers");

  const ownDataDir = options.dataDir === undefined;
  const dataDir = resolve(options.dataDir ?? (await mkdtemp(join(tmpdir(), "valence-ironic-"))));
  try {
    await mkdir(join(dataDir, "locks"), { recursive: true, mode: 0o700 });
    await chmod(dataDir, 0o700);
    const host = options.host ?? "127.0.0.1";
    const port = options.port ?? (await freePort(host));
    const logFile = resolve(options.logFile ?? join(dataDir, "ironic.log"));
    const configFile = join(dataDir, "ironic.conf");
    // Ironic appends to its log and keeps the mode it finds: create it 0600 first.
    await (await open(logFile, "a", 0o600)).close();
    await chmod(logFile, 0o600);

    let htpasswdFile: string | undefined;
    if (auth === "http_basic" && options.basicUsers) {
      htpasswdFile = join(dataDir, "htpasswd");
      await writeFile(htpasswdFile, await htpasswd(options.basicUsers), { mode: 0o600 });
    }
    const sections = ironicConfig({
      dataDir,
      port,
      host,
      auth,
      logFile,
      htpasswdFile,
      keystone: options.keystone,
      powerStateSyncSeconds: options.powerStateSyncSeconds,
    });
    await writeFile(configFile, ini(mergeSections(sections, options.config)), { mode: 0o600 });
    await ironicSchema(version, join(dataDir, "ironic.sqlite"), options.cacheDir ?? OPENSTACK_CACHE_DIR);

    const service = spawnPython([
      "-c",
      `${PYTHON_DIE_WITH_PARENT}; import sys; sys.argv = ['ironic', '--config-file', sys.argv[1]]; ` +
        "from ironic.cmd import singleprocess; singleprocess.main()",
      configFile,
    ]);
    const url = `http://${host}:${port}`;
    try {
      await waitForHttp(`${url}/`, service, {
        timeoutMs: options.startTimeoutMs ?? 60_000,
        name: "Ironic",
        logFile,
      });
    } catch (error) {
      await service.stop();
      throw error;
    }
    return {
      url,
      port,
      dataDir,
      configFile,
      logFile,
      pid: service.pid,
      startupMs: Date.now() - started,
      stop: async () => {
        await service.stop();
        if (ownDataDir) await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (ownDataDir) await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

// ---- process helpers (shared with ./keystone.ts)

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
