import * as z from "zod/mini";
import { collectSecrets, SECRET_KEY, scrub } from "../scrub.ts";
import { formatIssue, safeParse } from "../validation.ts";
import {
  authSecrets,
  type IronicAuth,
  KeystoneSession,
  type KeystoneToken,
  resolveEndpoint,
} from "./auth.ts";
import type {
  IronicCallContext,
  IronicDriver,
  ListNodesQuery,
  NodePage,
  WaitForProvisionStateOptions,
} from "./driver.ts";
import {
  IronicBadResponseError,
  IronicEndpointError,
  IronicNodeLockedError,
  IronicNodeNotFoundError,
  IronicProvisionFailedError,
  IronicProvisionTimeoutError,
  IronicRequestError,
  IronicUnavailableError,
  IronicVersionError,
} from "./errors.ts";
import { errorFromNetwork, errorFromResponse } from "./faults.ts";
import { validateIronicName } from "./names.ts";
import {
  backoffDelay,
  DEFAULT_POLL_POLICY,
  DEFAULT_RETRY_POLICY,
  type Deadline,
  pollDelay,
  pollPolicy,
  type RetryPolicy,
  sleep,
} from "./retry.ts";
import {
  ConductorListSchema,
  FullNodeListSchema,
  type IronicConductor,
  type IronicDriverInfo,
  IronicDriverSchema,
  type IronicNode,
  type IronicNodeField,
  IronicNodeSchema,
  type IronicPort,
  IronicPortSchema,
  type JsonPatchOperation,
  type NewIronicNode,
  type NewIronicPort,
  NodeListSchema,
  type NodeValidation,
  NodeValidationSchema,
  PortListSchema,
  type ProvisionTarget,
  RootSchema,
  TraitListSchema,
} from "./schemas.ts";
import {
  type ApiVersion,
  chooseVersion,
  compareVersions,
  formatVersion,
  MAX_API_VERSION,
  MIN_API_VERSION,
  parseVersion,
} from "./version.ts";

/** What the driver reports about its traffic. Never carries headers, bodies, tokens or passwords. */
export type IronicLogEvent =
  | {
      event: "request";
      method: string;
      path: string;
      status?: number;
      durationMs: number;
      attempt: number;
      requestId: string;
      /** Ironic's `OpenStack-Request-ID` for this exchange. */
      ironicRequestId?: string;
      apiVersion?: string;
      error?: string;
    }
  | {
      event: "retry";
      method: string;
      path: string;
      attempt: number;
      delayMs: number;
      reason: string;
      requestId: string;
    }
  | { event: "version"; apiVersion: string; serverMax: string; requestId: string }
  | { event: "token"; expiresAt: string; endpoint?: string; requestId: string };

export interface IronicDriverOptions {
  /** Ironic's base URL (`http://host:6385`); optional with Keystone auth, whose catalog has it. */
  url?: string;
  auth: IronicAuth;
  /** Per HTTP request. @default 10_000 */
  timeoutMs?: number;
  /** Highest API version to ask for. @default "1.82" */
  maxVersion?: string;
  fetch?: typeof fetch;
  log?: (event: IronicLogEvent) => void;
  /** Default request id of this driver's calls; one is generated per call otherwise. */
  requestId?: string;
  /** Default deadline of this driver's calls. */
  deadline?: Deadline;
  retry?: Partial<RetryPolicy>;
  /** Values to mask in anything Ironic says, beyond those the driver sends itself (e.g. BMC passwords). */
  knownSecrets?: readonly string[];
  /** For tests: jitter source. */
  random?: () => number;
  /** For tests: clock of the token cache. */
  now?: () => number;
}

const DEFAULT_FAILURE_STATES = [
  "error",
  "deploy failed",
  "clean failed",
  "inspect failed",
  "rescue failed",
  "unrescue failed",
  "adopt failed",
];
const MAX_PAGE_SIZE = 1000;

/** State shared by a driver and all its `withContext` views: configuration, version, token. */
interface SharedState {
  readonly url: string | undefined;
  readonly auth: IronicAuth;
  readonly timeoutMs: number;
  readonly maxVersion: ApiVersion;
  readonly fetch: typeof fetch;
  readonly log: (event: IronicLogEvent) => void;
  readonly retry: RetryPolicy;
  readonly random: () => number;
  readonly secrets: ReadonlySet<string>;
  readonly keystone: KeystoneSession | undefined;
  version: string | undefined;
  versionPending: Promise<string> | undefined;
}

interface RequestSpec<T> {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  expect: readonly number[];
  schema?: z.ZodMiniType<T>;
  /** Values in the body that must never appear in errors (beyond password-like keys). */
  secrets?: Iterable<string>;
}

function requiredVersion(value: string, what: string): ApiVersion {
  const parsed = parseVersion(value);
  if (!parsed) throw new IronicVersionError(`${what} ${JSON.stringify(value)} is not a MAJOR.MINOR version`);
  return parsed;
}

/** Connection and 503 failures and node locks are transient; a timed-out or cut write may have happened. */
function isRetryable(error: unknown, method: string): boolean {
  if (error instanceof IronicNodeLockedError) return true;
  if (!(error instanceof IronicUnavailableError)) return false;
  if (error.reason === "unavailable" || error.reason === "connect") return true;
  if (error.reason === "deadline") return false;
  return method === "GET" || method === "DELETE";
}

function baseUrl(url: string): string {
  return url.replace(/\/+$/, "").replace(/\/v1$/, "");
}

function patchSecrets(patch: readonly JsonPatchOperation[]): string[] {
  const secrets: string[] = [];
  for (const operation of patch) {
    if (operation.op === "remove") continue;
    const key = operation.path.split("/").pop() ?? "";
    if (SECRET_KEY.test(key) && typeof operation.value === "string") secrets.push(operation.value);
    else secrets.push(...collectSecrets(operation.value));
  }
  return secrets;
}

class HttpIronicDriver implements IronicDriver {
  constructor(
    private readonly shared: SharedState,
    private readonly context: IronicCallContext,
  ) {}

  withContext(context: IronicCallContext): IronicDriver {
    return new HttpIronicDriver(this.shared, { ...this.context, ...context });
  }

  withRequestId(requestId: string): IronicDriver {
    return this.withContext({ requestId });
  }

  async apiVersion(): Promise<string> {
    const requestId = this.newRequestId();
    const { base } = await this.credentials(requestId, this.timeoutFor());
    return this.negotiatedVersion(base, requestId);
  }

  // ---- drivers

  async getDriver(name: string): Promise<IronicDriverInfo> {
    return this.request({
      method: "GET",
      path: `/v1/drivers/${encodeURIComponent(name)}`,
      expect: [200],
      schema: IronicDriverSchema,
    });
  }

  listConductors(): Promise<IronicConductor[]> {
    return allPages(async (marker) => {
      const page = await this.request({
        method: "GET",
        path: "/v1/conductors",
        query: { detail: true, marker },
        expect: [200],
        schema: ConductorListSchema,
      });
      return { items: page.conductors, next: page.next };
    });
  }

  // ---- nodes

  getNode(ident: string): Promise<IronicNode>;
  getNode<F extends IronicNodeField>(ident: string, fields: readonly F[]): Promise<Pick<IronicNode, F>>;
  async getNode(ident: string, fields?: readonly IronicNodeField[]): Promise<Partial<IronicNode>> {
    const mask = Object.fromEntries((fields ?? []).map((field) => [field, true])) as Partial<
      Record<IronicNodeField, true>
    >;
    const schema = fields ? z.pick(IronicNodeSchema, mask) : IronicNodeSchema;
    return this.request({
      method: "GET",
      path: `/v1/nodes/${encodeURIComponent(ident)}`,
      query: { fields: fields?.join(",") },
      expect: [200],
      schema,
    });
  }

  async listNodesPage<F extends IronicNodeField = IronicNodeField>(
    query: ListNodesQuery<F> = {},
  ): Promise<NodePage<F>> {
    const { fields, limit, ...filters } = query;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE)) {
      throw new RangeError(`limit must be an integer in 1..${MAX_PAGE_SIZE}, got ${limit}`);
    }
    const page = await this.request({
      method: "GET",
      // Without `fields`, only /detail returns whole nodes.
      path: fields ? "/v1/nodes" : "/v1/nodes/detail",
      query: { ...filters, limit, fields: fields?.join(",") },
      expect: [200],
      schema: fields ? NodeListSchema : FullNodeListSchema,
    });
    if (fields) {
      const missing = fields.filter((field) => page.nodes.some((node) => !(field in node)));
      if (missing.length > 0) {
        throw new IronicBadResponseError(
          `Ironic listed nodes without the requested field(s) ${missing.join(", ")}`,
        );
      }
    }
    return { nodes: page.nodes as Pick<IronicNode, F>[], nextMarker: markerOf(page.next) };
  }

  async *listNodes<F extends IronicNodeField = IronicNodeField>(
    query: ListNodesQuery<F> = {},
  ): AsyncIterable<Pick<IronicNode, F>> {
    let marker = query.marker;
    const seen = new Set<string>();
    for (;;) {
      const page = await this.listNodesPage({ ...query, marker });
      yield* page.nodes;
      if (!page.nextMarker || page.nodes.length === 0 || seen.has(page.nextMarker)) return;
      seen.add(page.nextMarker);
      marker = page.nextMarker;
    }
  }

  async findNodes<F extends IronicNodeField = IronicNodeField>(
    query: ListNodesQuery<F> = {},
  ): Promise<Pick<IronicNode, F>[]> {
    const nodes: Pick<IronicNode, F>[] = [];
    for await (const node of this.listNodes(query)) nodes.push(node);
    return nodes;
  }

  async createNode(node: NewIronicNode): Promise<IronicNode> {
    if (node.name !== undefined) validateIronicName(node.name);
    return this.request({
      method: "POST",
      path: "/v1/nodes",
      body: node,
      expect: [201],
      schema: IronicNodeSchema,
    });
  }

  async updateNode(ident: string, patch: readonly JsonPatchOperation[]): Promise<IronicNode> {
    for (const operation of patch) {
      if (operation.path === "/name" && operation.op !== "remove" && typeof operation.value === "string") {
        validateIronicName(operation.value);
      }
    }
    return this.request({
      method: "PATCH",
      path: `/v1/nodes/${encodeURIComponent(ident)}`,
      body: patch,
      expect: [200],
      schema: IronicNodeSchema,
      secrets: patchSecrets(patch),
    });
  }

  validateNode(ident: string): Promise<NodeValidation> {
    return this.request({
      method: "GET",
      path: `/v1/nodes/${encodeURIComponent(ident)}/validate`,
      expect: [200],
      schema: NodeValidationSchema,
    });
  }

  async getTraits(ident: string): Promise<string[]> {
    const { traits } = await this.request({
      method: "GET",
      path: `/v1/nodes/${encodeURIComponent(ident)}/traits`,
      expect: [200],
      schema: TraitListSchema,
    });
    return traits;
  }

  async setTraits(ident: string, traits: readonly string[]): Promise<void> {
    await this.request({
      method: "PUT",
      path: `/v1/nodes/${encodeURIComponent(ident)}/traits`,
      body: { traits },
      expect: [204],
    });
  }

  /**
   * Ironic can fail a DELETE after the node is gone: it releases the node's lock by row id after deleting the row,
   * and where the database reuses that id (SQLite) the release meets another node and answers 400 NodeNotLocked.
   * A failed DELETE is therefore checked: a node that no longer exists was deleted.
   */
  async deleteNode(ident: string): Promise<void> {
    try {
      await this.request({ method: "DELETE", path: `/v1/nodes/${encodeURIComponent(ident)}`, expect: [204] });
    } catch (error) {
      if (!(error instanceof IronicRequestError)) throw error;
      const gone = await this.getNode(ident, ["uuid"]).then(
        () => false,
        (lookup: unknown) => lookup instanceof IronicNodeNotFoundError,
      );
      if (!gone) throw error;
    }
  }

  // ---- ports

  listPorts(filter: { node_uuid?: string; address?: string; limit?: number } = {}): Promise<IronicPort[]> {
    return allPages(async (marker) => {
      const page = await this.request({
        method: "GET",
        path: "/v1/ports/detail",
        query: {
          node_uuid: filter.node_uuid,
          address: filter.address?.toLowerCase(),
          limit: filter.limit,
          marker,
        },
        expect: [200],
        schema: PortListSchema,
      });
      return { items: page.ports, next: page.next };
    });
  }

  async getPortByAddress(address: string): Promise<IronicPort | undefined> {
    const [port] = await this.listPorts({ address });
    return port;
  }

  async createPort(port: NewIronicPort): Promise<IronicPort> {
    return this.request({
      method: "POST",
      path: "/v1/ports",
      body: port,
      expect: [201],
      schema: IronicPortSchema,
    });
  }

  async deletePort(uuid: string): Promise<void> {
    await this.request({ method: "DELETE", path: `/v1/ports/${encodeURIComponent(uuid)}`, expect: [204] });
  }

  // ---- states

  async setProvisionState(
    ident: string,
    target: ProvisionTarget,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    await this.request({
      method: "PUT",
      path: `/v1/nodes/${encodeURIComponent(ident)}/states/provision`,
      body: { ...extra, target },
      expect: [202],
    });
  }

  async setMaintenance(ident: string, reason?: string): Promise<void> {
    await this.request({
      method: "PUT",
      path: `/v1/nodes/${encodeURIComponent(ident)}/maintenance`,
      body: reason === undefined ? {} : { reason },
      expect: [202],
    });
  }

  async clearMaintenance(ident: string): Promise<void> {
    await this.request({
      method: "DELETE",
      path: `/v1/nodes/${encodeURIComponent(ident)}/maintenance`,
      expect: [202],
    });
  }

  async waitForProvisionState(ident: string, options: WaitForProvisionStateOptions): Promise<IronicNode> {
    const policy = pollPolicy({
      initialMs: options.pollMs,
      factor: options.pollFactor,
      // A first delay above the default cap, asked for alone, raises the cap rather than failing.
      maxMs: options.maxPollMs ?? Math.max(options.pollMs ?? 0, DEFAULT_POLL_POLICY.maxMs),
      jitter: options.pollJitter,
    });
    const waitUntil = Date.now() + (options.timeoutMs ?? 300_000);
    const remaining = () => Math.min(waitUntil - Date.now(), this.remaining());
    const failureStates = new Set(options.failureStates ?? DEFAULT_FAILURE_STATES);
    for (let poll = 0; ; poll++) {
      const node = await this.getNode(ident);
      const settled = node.target_provision_state === null;
      if (node.provision_state === options.target && settled) return node;
      const failed = failureStates.has(node.provision_state) || (settled && !!node.last_error);
      if (failed) {
        const lastError = node.last_error === null ? null : scrub(node.last_error, this.shared.secrets);
        throw new IronicProvisionFailedError(
          `node ${node.uuid} is ${node.provision_state}, not ${options.target}${lastError ? `: ${lastError}` : ""}`,
          { uuid: node.uuid, provisionState: node.provision_state, lastError },
        );
      }
      const left = remaining();
      if (left > 0) await sleep(Math.min(pollDelay(poll, policy, this.shared.random), left));
      // Out of time: say where the node was rather than failing the next poll on the deadline.
      if (remaining() <= 0) {
        const moving = node.target_provision_state ? ` on its way to ${node.target_provision_state}` : "";
        throw new IronicProvisionTimeoutError(
          `node ${node.uuid} did not reach ${options.target} in time; it is ${node.provision_state}${moving}`,
        );
      }
    }
  }

  // ---- transport

  private newRequestId(): string {
    return this.context.requestId ?? `req-${crypto.randomUUID()}`;
  }

  private remaining(): number {
    return this.context.deadline ? this.context.deadline() : Number.POSITIVE_INFINITY;
  }

  private timeoutFor(): number {
    return Math.max(1, Math.min(this.shared.timeoutMs, this.remaining()));
  }

  /** One request, retried on node locks, 503s and connection failures with full-jitter backoff. */
  private async request<T>(spec: RequestSpec<T>): Promise<T> {
    const requestId = this.newRequestId();
    const secrets = new Set(this.shared.secrets);
    collectSecrets(spec.body, secrets);
    for (const secret of spec.secrets ?? []) secrets.add(secret);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(spec, requestId, secrets, attempt);
      } catch (error) {
        if (!isRetryable(error, spec.method) || attempt >= this.shared.retry.maxAttempts) throw error;
        const delayMs = backoffDelay(attempt - 1, this.shared.retry, this.shared.random);
        // Never sleep past the deadline: give up with the last error instead.
        if (delayMs >= this.remaining()) throw error;
        this.shared.log({
          event: "retry",
          method: spec.method,
          path: spec.path,
          attempt,
          delayMs,
          reason: error instanceof Error ? error.message : String(error),
          requestId,
        });
        await sleep(delayMs);
      }
    }
  }

  /** One attempt; inside it, a 406 re-negotiates the version once and a Keystone 401 refreshes the token once. */
  private async attempt<T>(
    spec: RequestSpec<T>,
    requestId: string,
    secrets: Set<string>,
    attempt: number,
  ): Promise<T> {
    let renegotiated = false;
    let refreshed = false;
    for (;;) {
      if (this.remaining() <= 0) {
        throw new IronicUnavailableError(`deadline reached before ${spec.method} ${spec.path}`, "deadline", {
          method: spec.method,
          path: spec.path,
        });
      }
      const timeoutMs = this.timeoutFor();
      const { base, headers, token } = await this.credentials(requestId, timeoutMs);
      const version = await this.negotiatedVersion(base, requestId);
      const url = new URL(`${base}${spec.path}`);
      for (const [key, value] of Object.entries(spec.query ?? {})) {
        if (value !== undefined) url.searchParams.set(key, String(value));
      }
      const started = Date.now();
      let response: Response;
      let text: string;
      try {
        response = await this.shared.fetch(url, {
          method: spec.method,
          headers: {
            ...headers,
            Accept: "application/json",
            "X-OpenStack-Ironic-API-Version": version,
            "X-OpenStack-Request-ID": requestId,
            ...(spec.body === undefined ? {} : { "Content-Type": "application/json" }),
          },
          body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
          signal: AbortSignal.timeout(timeoutMs),
        });
        text = await response.text();
      } catch (error) {
        const failure = errorFromNetwork(error, {
          service: "Ironic",
          method: spec.method,
          path: spec.path,
          timeoutMs,
        });
        this.shared.log({
          event: "request",
          method: spec.method,
          path: spec.path,
          durationMs: Date.now() - started,
          attempt,
          requestId,
          apiVersion: version,
          error: failure.message,
        });
        throw failure;
      }
      const ironicRequestId =
        response.headers.get("X-OpenStack-Request-ID") ??
        response.headers.get("OpenStack-Request-ID") ??
        undefined;
      this.shared.log({
        event: "request",
        method: spec.method,
        path: spec.path,
        status: response.status,
        durationMs: Date.now() - started,
        attempt,
        requestId,
        ironicRequestId,
        apiVersion: version,
      });

      if (response.status === 406 && !renegotiated) {
        renegotiated = true;
        if (this.renegotiate(response.headers, version)) continue;
      }
      if (response.status === 401 && token && this.shared.keystone && !refreshed) {
        refreshed = true;
        this.shared.keystone.invalidate(token.value);
        continue;
      }
      if (!spec.expect.includes(response.status)) {
        throw errorFromResponse(response.status, text, {
          method: spec.method,
          path: spec.path,
          ironicRequestId,
          secrets,
        });
      }
      if (!spec.schema) return undefined as T;
      return parseBody(spec.schema, text, `${spec.method} ${spec.path}`, ironicRequestId);
    }
  }

  /** The base URL and auth headers; with Keystone, a cached or fresh token and the catalog's endpoint. */
  private async credentials(
    requestId: string,
    timeoutMs: number,
  ): Promise<{ base: string; headers: Record<string, string>; token?: KeystoneToken }> {
    const { auth, keystone } = this.shared;
    if (auth.type === "http_basic") {
      const basic = Buffer.from(`${auth.username}:${auth.password}`).toString("base64");
      return {
        base: baseUrl(resolveEndpoint(this.shared.url, undefined, auth)),
        headers: { Authorization: `Basic ${basic}` },
      };
    }
    if (keystone) {
      const token = await keystone.token({ requestId, timeoutMs });
      return {
        base: baseUrl(resolveEndpoint(this.shared.url, token, auth)),
        headers: { "X-Auth-Token": token.value },
        token,
      };
    }
    return { base: baseUrl(resolveEndpoint(this.shared.url, undefined, auth)), headers: {} };
  }

  /** Without a version header Ironic speaks 1.1 (nodes born `available`), so every request carries one. */
  private async negotiatedVersion(base: string, requestId: string): Promise<string> {
    if (this.shared.version) return this.shared.version;
    this.shared.versionPending ??= this.discoverVersion(base, requestId).finally(() => {
      this.shared.versionPending = undefined;
    });
    return this.shared.versionPending;
  }

  private async discoverVersion(base: string, requestId: string): Promise<string> {
    const timeoutMs = this.timeoutFor();
    let response: Response;
    let text: string;
    try {
      response = await this.shared.fetch(`${base}/`, {
        headers: { Accept: "application/json", "X-OpenStack-Request-ID": requestId },
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      throw errorFromNetwork(error, { service: "Ironic", method: "GET", path: "/", timeoutMs });
    }
    if (!response.ok) throw errorFromResponse(response.status, text, { method: "GET", path: "/" });
    const root = parseBody(RootSchema, text, "GET /", undefined);
    const advertised = [root.default_version, ...(root.versions ?? [])].filter((v) => v !== undefined);
    let max: ApiVersion | undefined;
    let min: ApiVersion | undefined;
    for (const entry of advertised) {
      const version = parseVersion(entry.version);
      if (version && (!max || compareVersions(version, max) > 0)) {
        max = version;
        min = entry.min_version ? parseVersion(entry.min_version) : undefined;
      }
    }
    if (!max) throw new IronicVersionError("Ironic's GET / advertised no API version");
    const chosen = this.choose({ min, max });
    this.shared.version = chosen;
    this.shared.log({ event: "version", apiVersion: chosen, serverMax: formatVersion(max), requestId });
    return chosen;
  }

  private choose(server: { min?: ApiVersion; max: ApiVersion }): string {
    const ours = { min: requiredVersion(MIN_API_VERSION, "minimum"), max: this.shared.maxVersion };
    const chosen = chooseVersion(server, ours);
    if (!chosen) {
      const range = `${server.min ? formatVersion(server.min) : "?"}..${formatVersion(server.max)}`;
      throw new IronicVersionError(
        `Ironic speaks API ${range}; Valence needs ${MIN_API_VERSION}..${formatVersion(ours.max)} ` +
          `(from ${MIN_API_VERSION} new nodes start in enroll)`,
      );
    }
    return formatVersion(chosen);
  }

  /** After a 406, pick again from the range Ironic states; false when that changes nothing. */
  private renegotiate(headers: Headers, current: string): boolean {
    const max = parseVersion(headers.get("X-OpenStack-Ironic-API-Maximum-Version") ?? "");
    if (!max) return false;
    const min = parseVersion(headers.get("X-OpenStack-Ironic-API-Minimum-Version") ?? "");
    const chosen = this.choose({ max, min });
    if (chosen === current) return false;
    this.shared.version = chosen;
    return true;
  }
}

/**
 * Every item of a listing Ironic pages with `next` links: page after page until one is empty, has no next, or
 * points back to a marker already followed.
 */
async function allPages<T>(
  page: (marker: string | undefined) => Promise<{ items: T[]; next?: string | undefined }>,
): Promise<T[]> {
  const items: T[] = [];
  const seen = new Set<string>();
  let marker: string | undefined;
  for (;;) {
    const answered = await page(marker);
    items.push(...answered.items);
    const next = markerOf(answered.next);
    if (!next || answered.items.length === 0 || seen.has(next)) return items;
    seen.add(next);
    marker = next;
  }
}

function markerOf(next: string | undefined): string | undefined {
  if (!next) return undefined;
  try {
    return new URL(next).searchParams.get("marker") ?? undefined;
  } catch {
    return undefined;
  }
}

function parseBody<T>(
  schema: z.ZodMiniType<T>,
  text: string,
  where: string,
  ironicRequestId: string | undefined,
): T {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new IronicBadResponseError(`Ironic answered ${where} with a body that is not JSON`, {
      cause: error,
      ironicRequestId,
    });
  }
  const parsed = safeParse(schema, json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => formatIssue(issue, json)).join("; ");
    throw new IronicBadResponseError(`Ironic answered ${where} with an unexpected shape: ${issues}`, {
      ironicRequestId,
    });
  }
  return parsed.data;
}

/**
 * Create the Ironic driver. Create it once per Lambda container and reuse it: the negotiated API version and
 * the Keystone token are cached on it. Use `withContext` / `withRequestId` per invocation.
 */
export function createIronicDriver(options: IronicDriverOptions): IronicDriver {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const shared: SharedState = {
    url: options.url,
    auth: options.auth,
    timeoutMs,
    maxVersion: requiredVersion(options.maxVersion ?? MAX_API_VERSION, "maxVersion"),
    fetch: fetchImpl,
    log: options.log ?? (() => {}),
    retry: { ...DEFAULT_RETRY_POLICY, ...options.retry },
    random: options.random ?? Math.random,
    secrets: new Set([...authSecrets(options.auth), ...(options.knownSecrets ?? [])]),
    keystone:
      options.auth.type === "keystone"
        ? new KeystoneSession(options.auth, {
            fetch: fetchImpl,
            timeoutMs,
            now: options.now,
            onToken: (token, requestId) =>
              options.log?.({
                event: "token",
                expiresAt: new Date(token.expiresAt).toISOString(),
                endpoint: token.endpoint,
                requestId,
              }),
          })
        : undefined,
    version: undefined,
    versionPending: undefined,
  };
  if (!options.url && options.auth.type !== "keystone") {
    throw new IronicEndpointError("an Ironic URL is required unless Keystone's catalog provides it");
  }
  return new HttpIronicDriver(shared, { requestId: options.requestId, deadline: options.deadline });
}
