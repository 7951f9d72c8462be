import * as z from "zod/mini";
import { lazySchema } from "../lazy-schema.ts";
import { formatIssue, safeParse } from "../validation.ts";
import { IronicAuthError, IronicBadResponseError, IronicEndpointError } from "./errors.ts";
import { errorFromNetwork, errorFromResponse } from "./faults.ts";

export type KeystoneCredentials =
  | {
      method: "password";
      /** A user name needs its domain (`userDomainName` or `userDomainId`); it defaults to the `default` domain. */
      username?: string;
      userId?: string;
      password: string;
      userDomainName?: string;
      userDomainId?: string;
      /** Scope: a project name needs its domain (defaults to the `default` domain); no project = unscoped. */
      projectName?: string;
      projectId?: string;
      projectDomainName?: string;
      projectDomainId?: string;
    }
  | {
      method: "application_credential";
      id: string;
      secret: string;
    };

export type EndpointInterface = "public" | "internal" | "admin";

export interface KeystoneAuth {
  type: "keystone";
  /** Keystone's URL, with or without the trailing `/v3`. */
  authUrl: string;
  credentials: KeystoneCredentials;
  /** Interface of the Ironic endpoint to pick from the catalog. @default "public" */
  interface?: EndpointInterface;
  /** Region of the Ironic endpoint; any region when unset. */
  region?: string;
  /** @default "baremetal" */
  serviceType?: string;
}

/** How the driver authenticates to Ironic: the three `auth_strategy` values Ironic supports. */
export type IronicAuth =
  | { type: "none" }
  | { type: "http_basic"; username: string; password: string }
  | KeystoneAuth;

/** Secret values of an auth configuration, to be scrubbed from anything Ironic or Keystone says. */
export function authSecrets(auth: IronicAuth): string[] {
  // The header value too: an Ironic (or a proxy) that quotes our Authorization header quotes it in base64.
  if (auth.type === "http_basic") {
    return [auth.password, Buffer.from(`${auth.username}:${auth.password}`).toString("base64")];
  }
  if (auth.type === "keystone") {
    return auth.credentials.method === "password" ? [auth.credentials.password] : [auth.credentials.secret];
  }
  return [];
}

const CatalogSchema = /* @__PURE__ */ lazySchema(() =>
  z.array(
    z.object({
      type: z.string(),
      endpoints: z.array(
        z.object({
          interface: z.string(),
          url: z.string(),
          region_id: z.optional(z.nullable(z.string())),
          region: z.optional(z.nullable(z.string())),
        }),
      ),
    }),
  ),
);
export type KeystoneCatalog = z.infer<typeof CatalogSchema>;

const TokenBodySchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    token: z.object({ expires_at: z.string(), catalog: z.optional(CatalogSchema) }),
  }),
);

/** The catalog endpoint of `serviceType` on `interface`, in `region` if given; undefined if there is none. */
export function selectEndpoint(
  catalog: KeystoneCatalog,
  wanted: { serviceType: string; interface: EndpointInterface; region?: string },
): string | undefined {
  for (const service of catalog) {
    if (service.type !== wanted.serviceType) continue;
    const endpoint = service.endpoints.find(
      (candidate) =>
        candidate.interface === wanted.interface &&
        (wanted.region === undefined || (candidate.region_id ?? candidate.region) === wanted.region),
    );
    if (endpoint) return endpoint.url;
  }
  return undefined;
}

/** `http://keystone:5000`, `.../v3` and `.../v3/` all mean the same token URL. */
export function tokensUrl(authUrl: string): string {
  const base = authUrl.replace(/\/+$/, "");
  return `${/\/v3$/.test(base) ? base : `${base}/v3`}/auth/tokens`;
}

function domain(name: string | undefined, id: string | undefined): { id: string } | { name: string } {
  if (id) return { id };
  if (name) return { name };
  return { id: "default" };
}

/** The `POST /v3/auth/tokens` body for the credentials. */
export function tokenRequestBody(credentials: KeystoneCredentials): unknown {
  if (credentials.method === "application_credential") {
    return {
      auth: {
        identity: {
          methods: ["application_credential"],
          application_credential: { id: credentials.id, secret: credentials.secret },
        },
      },
    };
  }
  const user = credentials.userId
    ? { id: credentials.userId, password: credentials.password }
    : {
        name: credentials.username,
        password: credentials.password,
        domain: domain(credentials.userDomainName, credentials.userDomainId),
      };
  const project = credentials.projectId
    ? { id: credentials.projectId }
    : credentials.projectName
      ? {
          name: credentials.projectName,
          domain: domain(credentials.projectDomainName, credentials.projectDomainId),
        }
      : undefined;
  return {
    auth: {
      identity: { methods: ["password"], password: { user } },
      ...(project ? { scope: { project } } : {}),
    },
  };
}

export interface KeystoneToken {
  value: string;
  /** Epoch ms. */
  expiresAt: number;
  /** Ironic's URL from the catalog, if the catalog has one for the configured interface and region. */
  endpoint?: string;
}

/** Re-authenticate this long before Keystone's expiry, so a token never dies mid-request. */
export const TOKEN_EXPIRY_MARGIN_MS = 60_000;

export interface KeystoneSessionOptions {
  fetch: typeof fetch;
  timeoutMs: number;
  now?: () => number;
  /** Called with each new token (for logging: never log `token.value`). */
  onToken?: (token: KeystoneToken, requestId: string) => void;
}

/**
 * A Keystone token and the Ironic endpoint it comes with, cached per driver (one per Lambda container) until a
 * minute before expiry. Concurrent callers share one in-flight authentication.
 */
export class KeystoneSession {
  private cached: KeystoneToken | undefined;
  private pending: Promise<KeystoneToken> | undefined;
  private readonly now: () => number;

  constructor(
    private readonly auth: KeystoneAuth,
    private readonly options: KeystoneSessionOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** A valid token; authenticates when none is cached or the cached one is about to expire. */
  async token(context: { requestId: string; timeoutMs: number }): Promise<KeystoneToken> {
    const cached = this.cached;
    if (cached && cached.expiresAt - TOKEN_EXPIRY_MARGIN_MS > this.now()) return cached;
    this.pending ??= this.authenticate(context).finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** Forget `token` (Ironic refused it). A newer token obtained meanwhile by another caller is kept. */
  invalidate(token: string): void {
    if (this.cached?.value === token) this.cached = undefined;
  }

  private async authenticate(context: { requestId: string; timeoutMs: number }): Promise<KeystoneToken> {
    const url = tokensUrl(this.auth.authUrl);
    const path = new URL(url).pathname;
    const secrets =
      this.auth.credentials.method === "password"
        ? [this.auth.credentials.password]
        : [this.auth.credentials.secret];
    let response: Response;
    let body: string;
    try {
      response = await this.options.fetch(url, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-OpenStack-Request-ID": context.requestId,
        },
        body: JSON.stringify(tokenRequestBody(this.auth.credentials)),
        signal: AbortSignal.timeout(context.timeoutMs),
      });
      body = await response.text();
    } catch (error) {
      throw errorFromNetwork(error, {
        service: "Keystone",
        method: "POST",
        path,
        timeoutMs: context.timeoutMs,
      });
    }
    if (response.status === 401 || response.status === 403) {
      throw new IronicAuthError(`Keystone refused the credentials (${response.status})`, {
        status: response.status,
        method: "POST",
        path,
      });
    }
    if (!response.ok) {
      throw errorFromResponse(response.status, body, { method: "POST", path, secrets });
    }
    const value = response.headers.get("X-Subject-Token");
    if (!value) throw new IronicBadResponseError("Keystone answered without an X-Subject-Token header");
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch (error) {
      throw new IronicBadResponseError("Keystone answered a token that is not JSON", { cause: error });
    }
    const parsed = safeParse(TokenBodySchema, json);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((issue) => formatIssue(issue, json, "token")).join("; ");
      throw new IronicBadResponseError(`Keystone answered an unexpected token: ${issues}`);
    }
    const expiresAt = Date.parse(parsed.data.token.expires_at);
    if (Number.isNaN(expiresAt)) {
      throw new IronicBadResponseError(`Keystone answered an unreadable token.expires_at`);
    }
    const wanted = {
      serviceType: this.auth.serviceType ?? "baremetal",
      interface: this.auth.interface ?? "public",
      region: this.auth.region,
    };
    const endpoint = selectEndpoint(parsed.data.token.catalog ?? [], wanted);
    const token: KeystoneToken = { value, expiresAt, endpoint };
    this.cached = token;
    this.options.onToken?.(token, context.requestId);
    return token;
  }
}

/** The Ironic URL to use: the configured one wins; else the catalog's; else a clear error. */
export function resolveEndpoint(
  configured: string | undefined,
  token: KeystoneToken | undefined,
  auth: IronicAuth,
) {
  if (configured) return configured;
  if (token?.endpoint) return token.endpoint;
  if (auth.type === "keystone") {
    const where = `interface ${auth.interface ?? "public"}${auth.region ? `, region ${auth.region}` : ""}`;
    throw new IronicEndpointError(
      `no ${auth.serviceType ?? "baremetal"} endpoint in the Keystone catalog for ${where}; set the Ironic URL`,
    );
  }
  throw new IronicEndpointError("no Ironic URL configured");
}
