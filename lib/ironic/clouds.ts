import type { EndpointInterface, IronicAuth } from "./auth.ts";
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

/** `OS_*` variables, in order of precedence for each setting (the openstack CLI's names). */
const ENV_NAMES: Record<SettingName, readonly string[]> = {
  auth_type: ["OS_AUTH_TYPE"],
  auth_url: ["OS_AUTH_URL"],
  username: ["OS_USERNAME"],
  user_id: ["OS_USER_ID"],
  password: ["OS_PASSWORD"],
  project_name: ["OS_PROJECT_NAME", "OS_TENANT_NAME"],
  project_id: ["OS_PROJECT_ID", "OS_TENANT_ID"],
  user_domain_name: ["OS_USER_DOMAIN_NAME"],
  user_domain_id: ["OS_USER_DOMAIN_ID"],
  project_domain_name: ["OS_PROJECT_DOMAIN_NAME"],
  project_domain_id: ["OS_PROJECT_DOMAIN_ID"],
  default_domain: ["OS_DEFAULT_DOMAIN"],
  application_credential_id: ["OS_APPLICATION_CREDENTIAL_ID"],
  application_credential_secret: ["OS_APPLICATION_CREDENTIAL_SECRET"],
  region_name: ["OS_REGION_NAME"],
  interface: ["OS_INTERFACE"],
  endpoint: ["OS_BAREMETAL_ENDPOINT_OVERRIDE", "OS_ENDPOINT_OVERRIDE"],
};

/** clouds.yaml keys (after `-` → `_`), top level or inside `auth`, for each setting; first found wins. */
const CLOUD_KEYS: Record<SettingName, readonly string[]> = {
  auth_type: ["auth_type"],
  auth_url: ["auth_url"],
  username: ["username", "user_name"],
  user_id: ["user_id"],
  password: ["password"],
  project_name: ["project_name", "tenant_name"],
  project_id: ["project_id", "tenant_id"],
  user_domain_name: ["user_domain_name"],
  user_domain_id: ["user_domain_id"],
  project_domain_name: ["project_domain_name"],
  project_domain_id: ["project_domain_id"],
  default_domain: ["default_domain", "domain_id"],
  application_credential_id: ["application_credential_id"],
  application_credential_secret: ["application_credential_secret"],
  region_name: ["baremetal_region_name", "region_name"],
  interface: ["baremetal_interface", "interface", "endpoint_type"],
  endpoint: ["baremetal_endpoint_override", "endpoint_override", "endpoint"],
};

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
    const settings: Settings = {};
    for (const [name, keys] of Object.entries(CLOUD_KEYS) as [SettingName, readonly string[]][]) {
      for (const key of keys) {
        const found = scalar(auth[key]) ?? scalar(entry[key]);
        if (found !== undefined) {
          settings[name] = found;
          break;
        }
      }
    }
    return { settings, source: file };
  }
  throw new IronicConfigError(
    `OS_CLOUD=${cloud} is set but no clouds.yaml was found (tried ${tried.join(", ")})`,
  );
}

function fromEnv(env: Record<string, string | undefined>): Settings {
  const settings: Settings = {};
  for (const [name, variables] of Object.entries(ENV_NAMES) as [SettingName, readonly string[]][]) {
    for (const variable of variables) {
      const value = env[variable];
      if (value !== undefined && value !== "") {
        settings[name] = value;
        break;
      }
    }
  }
  return settings;
}

function endpointInterface(value: string | undefined): EndpointInterface {
  const normalized = (value ?? "public").replace(/URL$/, "").toLowerCase();
  if (normalized === "public" || normalized === "internal" || normalized === "admin") return normalized;
  throw new IronicConfigError(`interface: must be public, internal or admin, got ${value}`);
}

function required(settings: Settings, name: SettingName, why: string): string {
  const value = settings[name];
  if (value === undefined) {
    throw new IronicConfigError(`${name}: is required for ${why} (clouds.yaml or ${ENV_NAMES[name][0]})`);
  }
  return value;
}

/**
 * Work out how to reach Ironic the way the openstack CLI would: the `OS_CLOUD` entry of the first clouds.yaml
 * found (`OS_CLIENT_CONFIG_FILE`, `./clouds.yaml`, `~/.config/openstack/clouds.yaml`,
 * `/etc/openstack/clouds.yaml`), with `OS_*` variables overriding it. Pure: the caller passes the environment
 * and a file reader, so it runs the same in Lambda, the local stack and tests.
 */
export function resolveCloudConfig(sources: CloudConfigSources): ResolvedCloud {
  const cloud = sources.env.OS_CLOUD || undefined;
  const fromFile = cloud ? readCloud(sources, cloud) : undefined;
  const settings: Settings = { ...fromFile?.settings, ...fromEnv(sources.env) };
  const origin = { ...(cloud ? { cloud } : {}), ...(fromFile ? { source: fromFile.source } : {}) };

  const authType = (
    settings.auth_type ??
    (settings.application_credential_id
      ? "v3applicationcredential"
      : settings.auth_url
        ? "password"
        : settings.username && settings.password
          ? "http_basic"
          : "none")
  ).toLowerCase();
  const url = settings.endpoint;

  switch (authType) {
    case "none":
    case "noauth":
      return { url: required(settings, "endpoint", "auth_type none"), auth: { type: "none" }, ...origin };
    case "http_basic":
      return {
        url: required(settings, "endpoint", "auth_type http_basic"),
        auth: {
          type: "http_basic",
          username: required(settings, "username", "auth_type http_basic"),
          password: required(settings, "password", "auth_type http_basic"),
        },
        ...origin,
      };
    case "password":
    case "v3password": {
      const why = "Keystone password authentication";
      if (!settings.username && !settings.user_id) required(settings, "username", why);
      const domainId = settings.default_domain;
      return {
        url,
        auth: {
          type: "keystone",
          authUrl: required(settings, "auth_url", why),
          interface: endpointInterface(settings.interface),
          region: settings.region_name,
          credentials: {
            method: "password",
            username: settings.username,
            userId: settings.user_id,
            password: required(settings, "password", why),
            userDomainName: settings.user_domain_name,
            userDomainId: settings.user_domain_id ?? (settings.user_domain_name ? undefined : domainId),
            projectName: settings.project_name,
            projectId: settings.project_id,
            projectDomainName: settings.project_domain_name,
            projectDomainId:
              settings.project_domain_id ?? (settings.project_domain_name ? undefined : domainId),
          },
        },
        ...origin,
      };
    }
    case "v3applicationcredential":
    case "applicationcredential":
    case "application_credential": {
      const why = "Keystone application-credential authentication";
      return {
        url,
        auth: {
          type: "keystone",
          authUrl: required(settings, "auth_url", why),
          interface: endpointInterface(settings.interface),
          region: settings.region_name,
          credentials: {
            method: "application_credential",
            id: required(settings, "application_credential_id", why),
            secret: required(settings, "application_credential_secret", why),
          },
        },
        ...origin,
      };
    }
    default:
      throw new IronicConfigError(
        `auth_type: ${authType} is not supported (use password, v3applicationcredential, http_basic or none)`,
      );
  }
}
