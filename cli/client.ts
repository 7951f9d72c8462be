import { ApiError, describeErrorBody, type RequestSent, UnreachableError, UsageError } from "./errors.ts";
import type { RequestToSign } from "./sigv4.ts";

/** Adds authentication headers to a request about to be sent (SigV4 for API Gateway). */
export type Signer = (request: RequestToSign) => Promise<Record<string, string>>;

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  /** Parsed JSON; `undefined` for an empty body (204). */
  body: T;
  /** The request this answers, to name the route in an error. */
  request?: RequestSent;
}

export type QueryValues = Record<string, string | number | undefined>;

export interface ClientOptions {
  sign?: Signer;
  fetch?: typeof fetch;
}

/** `<https://h/v1/nodes?marker=x>; rel="next"` → that URL. */
export function nextPageUrl(link: string | null): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(",")) {
    const match = /<([^>]+)>\s*;(.*)$/.exec(part.trim());
    if (match && /(^|;)\s*rel="?next"?\s*(;|$)/.test(match[2] ?? "")) return match[1];
  }
  return undefined;
}

/**
 * `Retry-After` in milliseconds: delay-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or
 * unreadable.
 */
export function retryAfterMs(header: string | null, now: Date = new Date()): number | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

/** The `ApiError` an error answer stands for: Valence's `title: detail`, or a readable line from anything else. */
export function apiErrorOf(response: Pick<ApiResponse, "status" | "body" | "request">): ApiError {
  const text = typeof response.body === "string" ? response.body : JSON.stringify(response.body ?? "");
  const { code, message } = describeErrorBody(response.status, response.body, text, response.request);
  return new ApiError(response.status, response.body, code, message);
}

function parseBaseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--url: "${text}" is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new UsageError(`--url: "${text}" is not http(s)`);
  return url;
}

/**
 * The Valence API over HTTP. Every request goes through one place, so signing, error mapping and unreachable
 * services are handled the same for every command.
 */
export class ValenceClient {
  readonly baseUrl: URL;
  private readonly fetch: typeof fetch;

  constructor(
    baseUrl: string,
    private readonly options: ClientOptions = {},
  ) {
    this.baseUrl = parseBaseUrl(baseUrl);
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  /** The URL of an API path, keeping a base path (`https://host/prod`) if the base URL has one. */
  url(path: string, query: QueryValues = {}): URL {
    const url = new URL(`${this.baseUrl.pathname.replace(/\/+$/, "")}${path}`, this.baseUrl.origin);
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    return url;
  }

  /** Sends one request and answers whatever came back; throws only when nothing came back. */
  async send<T = unknown>(method: string, url: URL, body?: unknown): Promise<ApiResponse<T>> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    let headers: Record<string, string> = {
      accept: "application/json",
      ...(text === undefined ? {} : { "content-type": "application/json" }),
    };
    if (this.options.sign) {
      const signed = await this.options.sign({
        method,
        url,
        headers,
        ...(text === undefined ? {} : { body: text }),
      });
      // fetch sets Host itself, to the same value that was signed.
      const { host: _host, ...rest } = signed;
      headers = rest;
    }
    let response: Response;
    try {
      response = await this.fetch(url, { method, headers, ...(text === undefined ? {} : { body: text }) });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason = cause?.code ?? cause?.message ?? (error as Error).message;
      throw new UnreachableError(`cannot reach Valence at ${url.origin}: ${reason}`, { cause: error });
    }
    const raw = await response.text();
    let parsed: unknown;
    if (raw) {
      try {
        parsed = JSON.parse(raw);
      } catch {
        parsed = raw;
      }
    }
    const basePath = this.baseUrl.pathname.replace(/\/+$/, "");
    const path = url.pathname.startsWith(`${basePath}/`) ? url.pathname.slice(basePath.length) : url.pathname;
    return {
      status: response.status,
      headers: response.headers,
      body: parsed as T,
      request: { method, path, signed: Boolean(this.options.sign) },
    };
  }

  /** One API call; an error status becomes an `ApiError` carrying Valence's `title: detail`. */
  async call<T = unknown>(
    method: string,
    path: string,
    options: { query?: QueryValues; body?: unknown } = {},
  ): Promise<ApiResponse<T>> {
    return this.checked(await this.send<T>(method, this.url(path, options.query), options.body));
  }

  /**
   * Every item of a paginated list, following `Link: <...>; rel="next"`; at most `max` items when given. `more`
   * says whether the API had more than were fetched.
   */
  async listAll<T>(
    path: string,
    query: QueryValues = {},
    max?: number,
  ): Promise<{ items: T[]; more: boolean }> {
    const items: T[] = [];
    let url: URL | undefined = this.url(path, query);
    while (url) {
      const response = this.checked(await this.send<T[]>("GET", url));
      items.push(...response.body);
      const next = nextPageUrl(response.headers.get("link"));
      if (max !== undefined && items.length >= max)
        return { items: items.slice(0, max), more: next !== undefined || items.length > max };
      // The next page on our own origin: the API builds the link from the Host it saw, which a proxy may change.
      url = next ? this.linked(next) : undefined;
    }
    return { items, more: false };
  }

  /**
   * A URL the API answered (`Location`, `Link`) as one to send to: on our own origin, since the API builds links
   * from the Host it saw, which a proxy may change.
   */
  linked(link: string): URL {
    return this.onOurOrigin(new URL(link, this.baseUrl));
  }

  /** A GET of a URL the API gave (see `linked`); an error status becomes an `ApiError` as in `call`. */
  async get<T = unknown>(url: URL): Promise<ApiResponse<T>> {
    return this.checked(await this.send<T>("GET", url));
  }

  private onOurOrigin(url: URL): URL {
    return new URL(`${url.pathname}${url.search}`, this.baseUrl.origin);
  }

  private checked<T>(response: ApiResponse<T>): ApiResponse<T> {
    if (response.status < 400) return response;
    throw apiErrorOf(response);
  }
}
