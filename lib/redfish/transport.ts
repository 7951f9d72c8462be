import { logger } from "../log.ts";
import { type AddressPolicy, STRICT_ADDRESS_POLICY } from "../net/address-policy.ts";
import { AddressRefusedError, pinnedFetch, type Resolver } from "../net/pinned-fetch.ts";
import { scrub } from "../scrub.ts";
import {
  PodManagerAddressRefusedError,
  PodManagerAuthError,
  PodManagerOriginRefusedError,
  PodManagerResponseError,
  PodManagerResponseTooLargeError,
  PodManagerUnreachableError,
} from "./errors.ts";

export const DEFAULT_TIMEOUT_MS = 10_000;
/** Far above any Redfish resource or collection page; a pod manager cannot make Valence buffer without end. */
export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
const SESSIONS_PATH = "/redfish/v1/SessionService/Sessions";
const MAX_UPSTREAM_MESSAGE = 300;

export interface TransportOptions {
  url: string;
  username: string;
  password: string;
  verifyCa: boolean;
  timeoutMs?: number;
  headers?: Record<string, string>;
  /** @default STRICT_ADDRESS_POLICY */
  addressPolicy?: AddressPolicy;
  /** @default DEFAULT_MAX_RESPONSE_BYTES */
  maxResponseBytes?: number;
  /** Unit tests: answers in place of the network (the origin is still enforced, the address policy is not). */
  fetch?: typeof fetch;
  /** Unit tests: DNS answers for the address policy's connect-time check. */
  resolve?: Resolver;
  /** Basic credentials from the first request, a session only where Basic is refused. @default false */
  preferBasic?: boolean;
}

export interface RedfishResponse {
  method: string;
  path: string;
  status: number;
  headers: Headers;
  /** Parsed JSON, or `undefined` for an empty body. */
  body: unknown;
}

interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** The service root and session creation are read without credentials, as Redfish requires. */
  auth?: boolean;
}

type AuthState =
  | { kind: "session"; token: string; location?: string }
  | {
      kind: "basic" /** Sent without asking for a session first: a refusal falls back to one. */;
      preferred?: true;
    };

/**
 * Pod managers (origin and user) that refused Basic credentials sent without a session: in this process, their
 * one-shot reads open a session at once instead of paying for the refusal each time.
 */
const BASIC_REFUSED = new Set<string>();

/**
 * HTTP to one pod manager: authentication (Redfish session, Basic when sessions are refused), per-request
 * timeouts, TLS verification, and the mapping of transport failures to the client's errors. It returns every
 * HTTP status except 401/403 to the caller, which knows what a 404 or 409 means for its operation.
 */
export class RedfishTransport {
  /** The pod manager as named in error details: its origin only, never credentials. */
  readonly podManager: string;
  private readonly origin: string;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly fetchImpl: (input: URL, init: RequestInit) => Promise<Response>;
  private auth?: Promise<AuthState>;
  /** Basic credentials sent without a session, until the pod manager refuses them. */
  private unaskedBasic?: AuthState;
  private sessionToken?: string;

  constructor(private readonly options: TransportOptions) {
    const url = new URL(options.url);
    // Redfish paths are absolute, so only the origin of the configured URL matters.
    this.origin = url.origin;
    this.podManager = url.origin;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    // The address policy is checked on every connection (verify_ca false: any certificate is accepted).
    this.fetchImpl =
      options.fetch ??
      pinnedFetch({
        policy: options.addressPolicy ?? STRICT_ADDRESS_POLICY,
        verifyCa: options.verifyCa,
        ...(options.resolve ? { resolve: options.resolve } : {}),
      });
  }

  /** A Location header or `@odata.id` as a path on this pod manager (services often report internal hosts). */
  toPath(reference: string): string {
    const path = new URL(reference, this.origin).pathname;
    return path.length > 1 ? path.replace(/\/+$/, "") : path;
  }

  async request(method: string, path: string, options: RequestOptions = {}): Promise<RedfishResponse> {
    const headers = this.baseHeaders(options.headers);
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    let auth: AuthState | undefined;
    if (options.auth !== false) {
      auth = await this.authenticate();
      if (auth.kind === "session") headers["X-Auth-Token"] = auth.token;
      else headers.Authorization = this.basicHeader();
    }
    const response = await this.send(method, path, headers, options.body);
    if (response.status === 401 || response.status === 403) {
      // Basic sent unasked and refused: this pod manager wants a session (its login says whether the credentials
      // are wrong).
      if (auth?.kind === "basic" && auth.preferred) {
        BASIC_REFUSED.add(this.basicKey());
        // Parallel requests refused alike start one session between them.
        if (this.unaskedBasic === auth) {
          this.auth = undefined;
          this.unaskedBasic = undefined;
        }
        return this.request(method, path, options);
      }
      throw new PodManagerAuthError(this.podManager, `${method} ${path}`, response.status);
    }
    return response;
  }

  /** GET that must succeed; anything but 2xx is an upstream error naming the path. */
  async get(path: string): Promise<unknown> {
    const response = await this.request("GET", path);
    if (!isSuccess(response.status)) throw this.statusError(response);
    return response.body;
  }

  /** An error for an unexpected status, with the pod manager's own message (secrets removed). */
  statusError(response: RedfishResponse): PodManagerResponseError {
    const message = this.upstreamMessage(response.body);
    return new PodManagerResponseError(
      this.podManager,
      `${response.method} ${response.path} answered ${response.status}${message ? `: ${message}` : ""}`,
    );
  }

  /** The human message of a Redfish error body, shortened and scrubbed of anything we sent as a secret. */
  upstreamMessage(body: unknown): string | undefined {
    if (typeof body !== "object" || body === null) return undefined;
    const error = (body as { error?: unknown }).error;
    if (typeof error !== "object" || error === null) return undefined;
    const { message, "@Message.ExtendedInfo": extended } = error as Record<string, unknown>;
    const parts = Array.isArray(extended)
      ? extended
          .map((info) =>
            typeof info === "object" && info !== null ? (info as { Message?: unknown }).Message : "",
          )
          .filter((text): text is string => typeof text === "string" && text.length > 0)
      : [];
    const text = parts.length > 0 ? parts.join("; ") : typeof message === "string" ? message : "";
    if (!text) return undefined;
    const scrubbed = this.redact(text);
    return scrubbed.length > MAX_UPSTREAM_MESSAGE
      ? `${scrubbed.slice(0, MAX_UPSTREAM_MESSAGE)}...`
      : scrubbed;
  }

  /** Deletes the Redfish session, if one was opened. Best effort: the session times out on its own anyway. */
  async close(): Promise<void> {
    const pending = this.auth;
    this.auth = undefined;
    if (pending) {
      const auth = await pending.catch(() => undefined);
      if (auth?.kind === "session" && auth.location) {
        const headers = this.baseHeaders({ "X-Auth-Token": auth.token });
        await this.send("DELETE", this.toPath(auth.location), headers, undefined).catch(() => undefined);
      }
    }
  }

  private authenticate(): Promise<AuthState> {
    if (!this.auth && this.options.preferBasic && !BASIC_REFUSED.has(this.basicKey())) {
      this.unaskedBasic = { kind: "basic", preferred: true };
      this.auth = Promise.resolve(this.unaskedBasic);
    }
    if (!this.auth) {
      this.auth = this.openSession();
      // A failed login must not stick: the next call tries again.
      this.auth.catch(() => {
        this.auth = undefined;
      });
    }
    return this.auth;
  }

  private async openSession(): Promise<AuthState> {
    const body = { UserName: this.options.username, Password: this.options.password };
    const headers = this.baseHeaders({ "Content-Type": "application/json" });
    const response = await this.send("POST", SESSIONS_PATH, headers, body);
    if (response.status === 401 || response.status === 403) {
      throw new PodManagerAuthError(this.podManager, `POST ${SESSIONS_PATH}`, response.status);
    }
    const token = response.headers.get("x-auth-token");
    if (isSuccess(response.status) && token) {
      this.sessionToken = token;
      return { kind: "session", token, location: response.headers.get("location") ?? undefined };
    }
    // Sessions refused (405, 404, 400, 501, or a 2xx without a token): Redfish allows Basic instead.
    if (
      isSuccess(response.status) ||
      (response.status >= 400 && response.status < 500) ||
      response.status === 501
    ) {
      return { kind: "basic" };
    }
    throw this.statusError(response);
  }

  /** The connection's own headers (e.g. a request id) go on every request, under the ones Redfish needs. */
  private baseHeaders(extra?: Record<string, string>): Record<string, string> {
    return { ...this.options.headers, ...extra, Accept: "application/json", "OData-Version": "4.0" };
  }

  private basicKey(): string {
    return `${this.origin} ${this.options.username}`;
  }

  private basicHeader(): string {
    return `Basic ${Buffer.from(`${this.options.username}:${this.options.password}`).toString("base64")}`;
  }

  private async send(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: unknown,
  ): Promise<RedfishResponse> {
    const init: RequestInit = {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
      redirect: "manual",
    };
    // The one place requests leave: each goes to the configured origin or nowhere. A link such as
    // `//other-host/x` or `/\other-host/x` resolves to another host; it would get our credentials.
    const target = new URL(path, this.origin);
    if (target.origin !== this.origin) {
      logger.warn("pod-manager request refused: off the pod manager's origin", {
        pod_manager: this.podManager,
        refused_origin: target.origin,
        method,
      });
      throw new PodManagerOriginRefusedError(this.podManager, target.origin, `${method} ${path}`);
    }
    let text: string;
    let response: Response;
    try {
      response = await this.fetchImpl(target, init);
      text = await this.readBody(response, `${method} ${path}`);
    } catch (error) {
      if (error instanceof PodManagerResponseTooLargeError) throw error;
      if (error instanceof AddressRefusedError) {
        logger.warn("pod-manager connection refused by the address policy", {
          pod_manager: this.podManager,
          host: error.host,
          rule: error.refusal.rule,
        });
        throw new PodManagerAddressRefusedError(this.podManager, error.refusal.reason);
      }
      // The raw error stays out of `cause`: it is logged, and socket errors may quote what was being sent.
      throw new PodManagerUnreachableError(this.podManager, this.describeFailure(error, method, path));
    }
    return {
      method,
      path,
      status: response.status,
      headers: response.headers,
      body: this.parseBody(text, method, path, response.status),
    };
  }

  /** The body as text, read up to the cap: a larger answer stops the read (and the connection) there. */
  private async readBody(response: Response, request: string): Promise<string> {
    const tooLarge = () =>
      new PodManagerResponseTooLargeError(this.podManager, request, this.maxResponseBytes);
    const declared = Number(response.headers.get("content-length") ?? Number.NaN);
    if (declared > this.maxResponseBytes) {
      await response.body?.cancel().catch(() => undefined);
      throw tooLarge();
    }
    if (!response.body) return "";
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > this.maxResponseBytes) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(value);
    }
    return Buffer.concat(chunks).toString("utf8");
  }

  private parseBody(text: string, method: string, path: string, status: number): unknown {
    if (text.trim() === "") return undefined;
    try {
      return JSON.parse(text);
    } catch {
      // An error page in HTML is still an error with a status worth reporting; a 2xx must be JSON.
      if (!isSuccess(status)) return undefined;
      throw new PodManagerResponseError(
        this.podManager,
        `${method} ${path} answered ${status} with a body that is not JSON`,
      );
    }
  }

  private describeFailure(error: unknown, method: string, path: string): string {
    if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
      return `${method} ${path} timed out after ${this.timeoutMs} ms`;
    }
    // fetch wraps the socket error: "fetch failed" with the useful part (ECONNREFUSED, ENOTFOUND) in the cause.
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    const message = cause instanceof Error ? cause.message : String(cause);
    const code = (cause as { code?: unknown } | undefined)?.code;
    const text = message || (typeof code === "string" ? code : "request failed");
    return this.redact(typeof code === "string" && !text.includes(code) ? `${code}: ${text}` : text);
  }

  /**
   * Removes the password, the Basic header value and the session token (and any other credential form) from text
   * that may echo them: the one scrubber, given what this transport knows to be secret.
   */
  redact(text: string): string {
    return scrub(text, [
      this.options.password,
      this.basicHeader().slice("Basic ".length),
      this.sessionToken ?? "",
    ]);
  }
}

export function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}
