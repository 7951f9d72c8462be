/**
 * Runs a real, standalone OpenStack Keystone (sqlite, fernet tokens, the standard library's WSGI server) for the
 * `keystone` auth path of the Ironic driver, in tests and the local stack. Debian's `python3-keystone`
 * provides it.
 */
import { randomBytes } from "node:crypto";
import { cp, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  cachedTemplate,
  type RunningService,
  runPython,
  type StartServiceOptions,
  startPythonService,
} from "./process.ts";

const SERVE_SCRIPT = fileURLToPath(new URL("./openstack/keystone_serve.py", import.meta.url));

export interface StartKeystoneOptions extends StartServiceOptions {
  /** Password of the bootstrap `admin` user (project `admin`, domain `default`). @default random */
  adminPassword?: string;
  /** @default "RegionOne" */
  region?: string;
  /** @default `<dataDir>/keystone.log` */
  logFile?: string;
}

export interface KeystoneService extends RunningService {
  /** `http://127.0.0.1:PORT/v3` */
  url: string;
  port: number;
  adminPassword: string;
  region: string;
  configFile: string;
  logFile: string;
}

function keystoneConfig(dataDir: string, logFile: string): string {
  return [
    "[DEFAULT]",
    `log_file = ${logFile}`,
    "[database]",
    `connection = sqlite:///${join(dataDir, "keystone.sqlite")}`,
    "[fernet_tokens]",
    `key_repository = ${join(dataDir, "fernet-keys")}`,
    "[fernet_receipts]",
    `key_repository = ${join(dataDir, "fernet-receipts")}`,
    "[credential]",
    `key_repository = ${join(dataDir, "credential-keys")}`,
    "[identity]",
    // bcrypt's minimum: every password check (each token request) stays fast.
    "password_hash_rounds = 4",
    "",
  ].join("\n");
}

function keystoneManage(configFile: string, ...args: string[]) {
  return runPython([
    "-c",
    "import sys; sys.argv = ['keystone-manage', '--config-file'] + sys.argv[1:]; " +
      "from keystone.cmd import manage; manage.main()",
    configFile,
    ...args,
  ]);
}

/**
 * A migrated database (WAL mode) and fernet/credential key repositories, made once per Keystone version and
 * copied by each start; bootstrap (admin user, endpoints for this port) then runs inside the server process.
 */
function keystoneTemplate(version: string): Promise<string> {
  return cachedTemplate({ name: "keystone", version }, async (work) => {
    const configFile = join(work, "keystone.conf");
    await writeFile(configFile, keystoneConfig(work, join(work, "keystone-manage.log")));
    const owner = ["--keystone-user", "root", "--keystone-group", "root"];
    await Promise.all([
      keystoneManage(configFile, "db_sync"),
      keystoneManage(configFile, "fernet_setup", ...owner),
      keystoneManage(configFile, "credential_setup", ...owner),
    ]);
    // Without WAL, writes such as role assignments fail with "database is locked" (HTTP 500).
    await runPython([
      "-c",
      "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('PRAGMA journal_mode=WAL'); c.close()",
      join(work, "keystone.sqlite"),
    ]);
    await rm(configFile);
    await rm(join(work, "keystone-manage.log"), { force: true });
    return work;
  });
}

/**
 * Start Keystone, bootstrapped with an `admin` user and the identity endpoints in `region`, and wait until
 * `/v3` answers (~2.5 s once the template is cached; the first start on a machine takes ~3 s more).
 */
export async function startKeystone(options: StartKeystoneOptions = {}): Promise<KeystoneService> {
  const keystone = { name: "Keystone", debianPackage: "python3-keystone" };
  return startPythonService(keystone, options, async ({ dataDir, host, port, version }) => {
    await cp(await keystoneTemplate(version), dataDir, { recursive: true });
    const region = options.region ?? "RegionOne";
    const adminPassword = options.adminPassword ?? randomBytes(12).toString("base64url");
    const logFile = resolve(options.logFile ?? join(dataDir, "keystone.log"));
    const configFile = join(dataDir, "keystone.conf");
    await writeFile(configFile, keystoneConfig(dataDir, logFile), { mode: 0o600 });

    const url = `http://${host}:${port}/v3`;
    return {
      launch: {
        code: `import runpy; runpy.run_path(${JSON.stringify(SERVE_SCRIPT)}, run_name='__main__')`,
        args: [configFile, host, String(port), region],
        input: `${adminPassword}\n`,
        readyUrl: url,
        logFile,
      },
      details: { url, port, adminPassword, region, configFile, logFile },
    };
  });
}

// ---- Keystone v3 API helpers (plain HTTP)

export interface PasswordLogin {
  username: string;
  password: string;
  /** @default "admin" for the admin user; scope of the token */
  projectName: string;
  /** @default "default" */
  domainId?: string;
}

/** A project-scoped token (`X-Subject-Token`) and its body. */
export async function keystoneToken(
  keystoneUrl: string,
  login: PasswordLogin,
): Promise<{
  token: string;
  body: { token: { expires_at: string; user: { id: string }; project?: { id: string } } };
}> {
  const domain = { id: login.domainId ?? "default" };
  const response = await fetch(`${keystoneUrl}/auth/tokens`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ["password"],
          password: { user: { name: login.username, domain, password: login.password } },
        },
        scope: { project: { name: login.projectName, domain } },
      },
    }),
  });
  const token = response.headers.get("X-Subject-Token");
  if (response.status !== 201 || !token) {
    throw new Error(
      `Keystone refused a token for ${login.username}: ${response.status} ${await response.text()}`,
    );
  }
  return { token, body: (await response.json()) as Awaited<ReturnType<typeof keystoneToken>>["body"] };
}

async function call<T>(
  keystoneUrl: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const response = await fetch(`${keystoneUrl}${path}`, {
    method,
    headers: { "X-Auth-Token": token, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`Keystone ${method} ${path}: ${response.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** The id of the entity named `name` in `collection` (`projects`, `users`, `roles`, `services`), or undefined. */
async function findId(keystoneUrl: string, token: string, collection: string, query: string) {
  const found = await call<Record<string, { id: string }[]>>(
    keystoneUrl,
    token,
    "GET",
    `/${collection}?${query}`,
  );
  return found[collection]?.[0]?.id;
}

export interface IronicServiceUser {
  username: string;
  password: string;
  projectName: string;
  userId: string;
  projectId: string;
  serviceId: string;
  endpointId: string;
}

/**
 * Make Keystone know Ironic: a `service` project, an `ironic` user with role `admin` on it, a `baremetal`
 * service and a `public` endpoint at `ironicUrl` in the region. Idempotent. Ironic's URL is needed before
 * Ironic runs: pick its port first (`freePort`).
 */
export async function registerIronicInKeystone(
  keystone: Pick<KeystoneService, "url" | "adminPassword"> & { region?: string },
  options: { ironicUrl: string; username?: string; password?: string; projectName?: string },
): Promise<IronicServiceUser> {
  const url = keystone.url;
  const region = keystone.region ?? "RegionOne";
  const username = options.username ?? "ironic";
  const password = options.password ?? randomBytes(12).toString("base64url");
  const projectName = options.projectName ?? "service";
  const { token } = await keystoneToken(url, {
    username: "admin",
    password: keystone.adminPassword,
    projectName: "admin",
  });

  const projectId =
    (await findId(url, token, "projects", `name=${encodeURIComponent(projectName)}&domain_id=default`)) ??
    (
      await call<{ project: { id: string } }>(url, token, "POST", "/projects", {
        project: { name: projectName, domain_id: "default", description: "Service users" },
      })
    ).project.id;

  let userId = await findId(url, token, "users", `name=${encodeURIComponent(username)}&domain_id=default`);
  if (userId) {
    await call(url, token, "PATCH", `/users/${userId}`, { user: { password } });
  } else {
    userId = (
      await call<{ user: { id: string } }>(url, token, "POST", "/users", {
        user: {
          name: username,
          password,
          domain_id: "default",
          default_project_id: projectId,
          enabled: true,
        },
      })
    ).user.id;
  }
  const adminRoleId = await findId(url, token, "roles", "name=admin");
  if (!adminRoleId) throw new Error("Keystone has no admin role; was it bootstrapped?");
  await call(url, token, "PUT", `/projects/${projectId}/users/${userId}/roles/${adminRoleId}`);

  const serviceId =
    (await findId(url, token, "services", "type=baremetal")) ??
    (
      await call<{ service: { id: string } }>(url, token, "POST", "/services", {
        service: { type: "baremetal", name: "ironic", description: "Bare metal provisioning", enabled: true },
      })
    ).service.id;
  const existing = await call<{ endpoints: { id: string }[] }>(
    url,
    token,
    "GET",
    `/endpoints?service_id=${serviceId}&interface=public&region_id=${encodeURIComponent(region)}`,
  );
  const endpointId = existing.endpoints[0]?.id;
  const endpoint = {
    service_id: serviceId,
    interface: "public",
    region_id: region,
    url: options.ironicUrl,
    enabled: true,
  };
  const saved = endpointId
    ? await call<{ endpoint: { id: string } }>(url, token, "PATCH", `/endpoints/${endpointId}`, { endpoint })
    : await call<{ endpoint: { id: string } }>(url, token, "POST", "/endpoints", { endpoint });

  return { username, password, projectName, userId, projectId, serviceId, endpointId: saved.endpoint.id };
}

/** An application credential of the logged-in user (inheriting its roles on the token's project). */
export async function createApplicationCredential(
  keystoneUrl: string,
  login: PasswordLogin,
  name: string,
): Promise<{ id: string; secret: string }> {
  const { token, body } = await keystoneToken(keystoneUrl, login);
  const created = await call<{ application_credential: { id: string; secret: string } }>(
    keystoneUrl,
    token,
    "POST",
    `/users/${body.token.user.id}/application_credentials`,
    { application_credential: { name, description: "Valence test credential" } },
  );
  return { id: created.application_credential.id, secret: created.application_credential.secret };
}

/** Revoke `token` (it then fails validation everywhere), authenticated as the admin. */
export async function revokeToken(keystone: Pick<KeystoneService, "url" | "adminPassword">, token: string) {
  const admin = await keystoneToken(keystone.url, {
    username: "admin",
    password: keystone.adminPassword,
    projectName: "admin",
  });
  const response = await fetch(`${keystone.url}/auth/tokens`, {
    method: "DELETE",
    headers: { "X-Auth-Token": admin.token, "X-Subject-Token": token },
  });
  if (response.status !== 204) throw new Error(`Keystone did not revoke the token: ${response.status}`);
}
