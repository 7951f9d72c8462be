/**
 * Runs a real, standalone OpenStack Ironic (API and conductor in one process, sqlite, no message bus) on this
 * machine, for integration tests and the local stack. Debian's `python3-ironic` provides it; there are no
 * console scripts, so the entry points are called through `/usr/bin/python3 -c`.
 */
import { existsSync } from "node:fs";
import { chmod, copyFile, mkdir, open, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import {
  cachedTemplate,
  type RunningService,
  runPython,
  type StartServiceOptions,
  startPythonService,
} from "./process.ts";

// Callers that start Ironic also pick its port, and tests check its cache.
export { freePort, OPENSTACK_CACHE_DIR, privateCacheDir } from "./process.ts";

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

/** `dataDir` holds config, database, locks and log. */
export interface StartIronicOptions extends StartServiceOptions {
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
}

export interface IronicService extends RunningService {
  /** `http://127.0.0.1:PORT` (no `/v1`). */
  url: string;
  port: number;
  configFile: string;
  logFile: string;
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
async function ironicSchema(version: string, target: string, cacheDir: string | undefined): Promise<void> {
  const template = await cachedTemplate(
    { name: "ironic", version, extension: ".sqlite", cacheDir },
    async (work) => {
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
      return database;
    },
  );
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
  const auth = options.auth ?? "noauth";
  if (auth === "keystone" && !options.keystone)
    throw new Error("startIronic: auth keystone needs options.keystone");
  if (auth === "http_basic" && !options.basicUsers)
    throw new Error("startIronic: auth http_basic needs basicUsers");

  const ironic = { name: "Ironic", debianPackage: "python3-ironic" };
  return startPythonService(ironic, options, async ({ dataDir, host, port, version }) => {
    await mkdir(join(dataDir, "locks"), { recursive: true, mode: 0o700 });
    await chmod(dataDir, 0o700);
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
    await ironicSchema(version, join(dataDir, "ironic.sqlite"), options.cacheDir);

    const url = `http://${host}:${port}`;
    const code =
      "import sys; sys.argv = ['ironic', '--config-file', sys.argv[1]]; " +
      "from ironic.cmd import singleprocess; singleprocess.main()";
    return {
      launch: { code, args: [configFile], readyUrl: `${url}/`, logFile },
      details: { url, port, configFile, logFile },
    };
  });
}
