import type { EndpointInterface, IronicAuth, KeystoneCredentials } from "./auth.ts";
import { IronicConfigError } from "./errors.ts";

export interface CloudConfigSources {
  /** The environment to read `OS_*` from; lib/ never reads the process environment itself. */
  env: Record<string, string | undefined>;
  /** Reads a file; returns undefined when it does not exist. */
  readFile: (path: string) => string | undefined;
  /**
   * Parses clouds.yaml. Injected rather than imported: the YAML parser is large and Lambda has no clouds.yaml, so
   * only the local stack passes one. Without it, a clouds.yaml that is found is an error.
   */
  parseYaml?: (text: string) => unknown;
  /** Directory searched for `./clouds.yaml`. @default "." */
  cwd?: string;
}

export interface ResolvedCloud {
  /** Ironic's URL when configured (endpoint override); otherwise Keystone's catalog provides it. */
  url?: string;
  auth: IronicAuth;
  /** The `OS_CLOUD` entry used, and the clouds.yaml it came from. */
  cloud?: string;
  source?: string;
}

/** Settings after flattening a clouds.yaml entry (its `auth` block included) and overlaying `OS_*`. */
type Settings = Partial<Record<SettingName, string>>;
type SettingName =
  | "auth_type"
  | "auth_url"
  | "username"
  | "user_id"
  | "password"
  | "project_name"
  | "project_id"
  | "user_domain_name"
  | "user_domain_id"
  | "project_domain_name"
  | "project_domain_id"
  | "default_domain"
  | "application_credential_id"
  | "application_credential_secret"
  | "region_name"
  | "interface"
  | "endpoint";

/**
 * Where each setting is read, in order of precedence: `env`, the `OS_*` variables (the openstack CLI's names);
 * `cloud`, the clouds.yaml keys (after `-` → `_`), top level or inside `auth`.
 */
const SOURCES: Record<SettingName, { env: readonly string[]; cloud: readonly string[] }> = {
  auth_type: { env: ["OS_AUTH_TYPE"], cloud: ["auth_type"] },
  auth_url: { env: ["OS_AUTH_URL"], cloud: ["auth_url"] },
  username: { env: ["OS_USERNAME"], cloud: ["username", "user_name"] },
  user_id: { env: ["OS_USER_ID"], cloud: ["user_id"] },
  password: { env: ["OS_PASSWORD"], cloud: ["password"] },
  project_name: { env: ["OS_PROJECT_NAME", "OS_TENANT_NAME"], cloud: ["project_name", "tenant_name"] },
  project_id: { env: ["OS_PROJECT_ID", "OS_TENANT_ID"], cloud: ["project_id", "tenant_id"] },
  user_domain_name: { env: ["OS_USER_DOMAIN_NAME"], cloud: ["user_domain_name"] },
  user_domain_id: { env: ["OS_USER_DOMAIN_ID"], cloud: ["user_domain_id"] },
  project_domain_name: { env: ["OS_PROJECT_DOMAIN_NAME"], cloud: ["project_domain_name"] },
  project_domain_id: { env: ["OS_PROJECT_DOMAIN_ID"], cloud: ["project_domain_id"] },
  default_domain: { env: ["OS_DEFAULT_DOMAIN"], cloud: ["default_domain", "domain_id"] },
  application_credential_id: {
    env: ["OS_APPLICATION_CREDENTIAL_ID"],
    cloud: ["application_credential_id"],
  },
  application_credential_secret: {
    env: ["OS_APPLICATION_CREDENTIAL_SECRET"],
    cloud: ["application_credential_secret"],
  },
  region_name: { env: ["OS_REGION_NAME"], cloud: ["baremetal_region_name", "region_name"] },
  interface: { env: ["OS_INTERFACE"], cloud: ["baremetal_interface", "interface", "endpoint_type"] },
  endpoint: {
    env: ["OS_BAREMETAL_ENDPOINT_OVERRIDE", "OS_ENDPOINT_OVERRIDE"],
    cloud: ["baremetal_endpoint_override", "endpoint_override", "endpoint"],
  },
};

/** Each setting's first value that `lookup` finds among its names in `from`. */
function collect(from: "env" | "cloud", lookup: (name: string) => string | undefined): Settings {
  const settings: Settings = {};
  for (const [setting, names] of Object.entries(SOURCES) as [SettingName, (typeof SOURCES)[SettingName]][]) {
    for (const name of names[from]) {
      const value = lookup(name);
      if (value !== undefined) {
        settings[setting] = value;
        break;
      }
    }
  }
  return settings;
}

function candidateFiles(sources: CloudConfigSources): string[] {
  const files: string[] = [];
  const explicit = sources.env.OS_CLIENT_CONFIG_FILE;
  if (explicit) files.push(explicit);
  files.push(`${(sources.cwd ?? ".").replace(/\/+$/, "")}/clouds.yaml`);
  const home = sources.env.HOME;
  if (home) files.push(`${home.replace(/\/+$/, "")}/.config/openstack/clouds.yaml`);
  files.push("/etc/openstack/clouds.yaml");
  return files;
}

function normalizeKeys(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key.replace(/-/g, "_"), item]));
}

function scalar(value: unknown): string | undefined {
  if (typeof value === "string") return value === "" ? undefined : value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

function readCloud(sources: CloudConfigSources, cloud: string): { settings: Settings; source: string } {
  const tried: string[] = [];
  for (const file of candidateFiles(sources)) {
    const text = sources.readFile(file);
    if (text === undefined) {
      tried.push(file);
      continue;
    }
    if (!sources.parseYaml) {
      throw new IronicConfigError(
        `${file}: clouds.yaml is read by the local stack only; set OS_* variables instead`,
      );
    }
    let document: unknown;
    try {
      document = sources.parseYaml(text);
    } catch (error) {
      throw new IronicConfigError(`${file}: not valid YAML`, { cause: error });
    }
    // Cloud names are kept as written; only setting keys accept `-` for `_`.
    const listed = normalizeKeys(document).clouds;
    const clouds: Record<string, unknown> =
      listed !== null && typeof listed === "object" && !Array.isArray(listed) ? { ...listed } : {};
    if (!(cloud in clouds)) {
      const known = Object.keys(clouds).join(", ") || "none";
      throw new IronicConfigError(`OS_CLOUD=${cloud}: no such cloud in ${file} (it has: ${known})`);
    }
    const entry = normalizeKeys(clouds[cloud]);
    const auth = normalizeKeys(entry.auth);
    return { settings: collect("cloud", (key) => scalar(auth[key]) ?? scalar(entry[key])), source: file };
  }
  throw new IronicConfigError(
    `OS_CLOUD=${cloud} is set but no clouds.yaml was found (tried ${tried.join(", ")})`,
  );
}

function fromEnv(env: Record<string, string | undefined>): Settings {
  return collect("env", (variable) => env[variable] || undefined);
}

function endpointInterface(value: string | undefined): EndpointInterface {
  const normalized = (value ?? "public").replace(/URL$/, "").toLowerCase();
  if (normalized === "public" || normalized === "internal" || normalized === "admin") return normalized;
  throw new IronicConfigError(`interface: must be public, internal or admin, got ${value}`);
}

function required(settings: Settings, name: SettingName, why: string): string {
  const value = settings[name];
  if (value === undefined) {
    throw new IronicConfigError(`${name}: is required for ${why} (clouds.yaml or ${SOURCES[name].env[0]})`);
  }
  return value;
}

/** The `OS_CLOUD` entry's settings with `OS_*` over them, and where they came from. */
function settingsOf(sources: CloudConfigSources): {
  settings: Settings;
  origin: Omit<ResolvedCloud, "url" | "auth">;
} {
  const cloud = sources.env.OS_CLOUD || undefined;
  const fromFile = cloud ? readCloud(sources, cloud) : undefined;
  return {
    settings: { ...fromFile?.settings, ...fromEnv(sources.env) },
    origin: { ...(cloud ? { cloud } : {}), ...(fromFile ? { source: fromFile.source } : {}) },
  };
}

/** `auth_type` as set, or what the settings imply: an application credential, a Keystone URL, a user. */
function authTypeOf(settings: Settings): string {
  return (
    settings.auth_type ??
    (settings.application_credential_id
      ? "v3applicationcredential"
      : settings.auth_url
        ? "password"
        : settings.username && settings.password
          ? "http_basic"
          : "none")
  ).toLowerCase();
}

/**
 * Keystone authentication with the `credentials` read last, and where in its catalog Ironic's endpoint is.
 * Settings are checked in the order their errors are reported: the URL, the interface, then the credentials.
 */
function keystoneAuth(settings: Settings, why: string, credentials: () => KeystoneCredentials): IronicAuth {
  return {
    type: "keystone",
    authUrl: required(settings, "auth_url", why),
    interface: endpointInterface(settings.interface),
    region: settings.region_name,
    credentials: credentials(),
  };
}

function passwordCredentials(settings: Settings, why: string): KeystoneCredentials {
  const domainId = settings.default_domain;
  return {
    method: "password",
    username: settings.username,
    userId: settings.user_id,
    password: required(settings, "password", why),
    userDomainName: settings.user_domain_name,
    userDomainId: settings.user_domain_id ?? (settings.user_domain_name ? undefined : domainId),
    projectName: settings.project_name,
    projectId: settings.project_id,
    projectDomainName: settings.project_domain_name,
    projectDomainId: settings.project_domain_id ?? (settings.project_domain_name ? undefined : domainId),
  };
}

/**
 * Work out how to reach Ironic the way the openstack CLI would: the `OS_CLOUD` entry of the first clouds.yaml
 * found (`OS_CLIENT_CONFIG_FILE`, `./clouds.yaml`, `~/.config/openstack/clouds.yaml`,
 * `/etc/openstack/clouds.yaml`), with `OS_*` variables overriding it. Pure: the caller passes the environment
 * and a file reader, so it runs the same in Lambda, the local stack and tests.
 */
export function resolveCloudConfig(sources: CloudConfigSources): ResolvedCloud {
  const { settings, origin } = settingsOf(sources);
  const authType = authTypeOf(settings);
  switch (authType) {
    case "none":
    case "noauth":
      return { url: required(settings, "endpoint", "auth_type none"), auth: { type: "none" }, ...origin };
    case "http_basic": {
      const why = "auth_type http_basic";
      const url = required(settings, "endpoint", why);
      const username = required(settings, "username", why);
      return {
        url,
        auth: { type: "http_basic", username, password: required(settings, "password", why) },
        ...origin,
      };
    }
    case "password":
    case "v3password": {
      const why = "Keystone password authentication";
      if (!settings.username && !settings.user_id) required(settings, "username", why);
      const auth = keystoneAuth(settings, why, () => passwordCredentials(settings, why));
      return { url: settings.endpoint, auth, ...origin };
    }
    case "v3applicationcredential":
    case "applicationcredential":
    case "application_credential": {
      const why = "Keystone application-credential authentication";
      const auth = keystoneAuth(settings, why, () => ({
        method: "application_credential",
        id: required(settings, "application_credential_id", why),
        secret: required(settings, "application_credential_secret", why),
      }));
      return { url: settings.endpoint, auth, ...origin };
    }
    default:
      throw new IronicConfigError(
        `auth_type: ${authType} is not supported (use password, v3applicationcredential, http_basic or none)`,
      );
  }
}
