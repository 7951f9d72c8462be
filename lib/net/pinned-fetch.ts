import { promises as dns, type LookupAddress, type LookupOptions } from "node:dns";
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { Readable } from "node:stream";
import { type AddressPolicy, type AddressRefusal, checkAddress, checkHost } from "./address-policy.ts";

/** The address policy refused a connection: the URL's scheme or host, or an address its host name resolved to. */
export class AddressRefusedError extends Error {
  constructor(
    readonly host: string,
    readonly refusal: AddressRefusal,
  ) {
    super(`${host} refused by the address policy (${refusal.rule}): ${refusal.reason}`);
    this.name = "AddressRefusedError";
  }
}

/** Answers DNS for a host name: every address, as `dns.lookup(name, { all: true })` does. */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export interface PinnedFetchOptions {
  policy: AddressPolicy;
  /** false: accept any certificate (BMCs with self-signed ones); the traffic is still encrypted. */
  verifyCa: boolean;
  /** @default the system resolver (`dns.lookup`), as node:http uses */
  resolve?: Resolver;
}

export type PinnedFetch = (input: URL | string, init?: RequestInit) => Promise<Response>;

const NO_BODY = new Set([101, 204, 205, 304]);

const systemResolver: Resolver = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

interface Agents {
  http: HttpAgent;
  https: HttpsAgent;
}
/** Pooled connections per policy and resolver: every pooled socket was opened through that policy's lookup. */
const agentPools = new WeakMap<AddressPolicy, WeakMap<Resolver, Map<boolean, Agents>>>();

/**
 * `fetch` over node:http/https that connects only where the address policy allows: the URL's scheme and literal
 * host are checked before anything is sent, and a host name's addresses are checked by the DNS lookup of the
 * socket itself, so the address checked is the address connected to (a name that resolves elsewhere on the
 * next query, DNS rebinding, gains nothing). The body is a stream: the caller decides how much of it to read.
 * Redirects are not followed.
 */
export function pinnedFetch(options: PinnedFetchOptions): PinnedFetch {
  const resolve = options.resolve ?? systemResolver;
  const agents = agentsFor(options.policy, resolve, options.verifyCa);
  return (input, init = {}) => {
    const url = typeof input === "string" ? new URL(input) : input;
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      return Promise.reject(new TypeError(`unsupported protocol ${url.protocol}`));
    }
    const refusal =
      url.protocol === "http:" && !options.policy.allowHttp
        ? ({ rule: "http-not-allowed", reason: "http:// is not allowed in this deployment" } as const)
        : checkHost(options.policy, url.hostname);
    if (refusal) return Promise.reject(new AddressRefusedError(url.hostname, refusal));
    return send(url, init, url.protocol === "https:" ? agents.https : agents.http);
  };
}

function agentsFor(policy: AddressPolicy, resolve: Resolver, verifyCa: boolean): Agents {
  let byResolver = agentPools.get(policy);
  if (!byResolver) {
    byResolver = new WeakMap();
    agentPools.set(policy, byResolver);
  }
  let byVerify = byResolver.get(resolve);
  if (!byVerify) {
    byVerify = new Map();
    byResolver.set(resolve, byVerify);
  }
  let agents = byVerify.get(verifyCa);
  if (!agents) {
    const lookup = guardedLookup(policy, resolve);
    // As node's global agent: keep-alive, idle sockets closed after 5 s.
    const common = { keepAlive: true, timeout: 5_000, scheduling: "lifo" as const, lookup };
    agents = {
      http: new HttpAgent(common),
      https: new HttpsAgent({ ...common, rejectUnauthorized: verifyCa }),
    };
    byVerify.set(verifyCa, agents);
  }
  return agents;
}

type LookupCallback = (error: Error | null, address: string | LookupAddress[], family?: number) => void;

/** A socket's DNS lookup that refuses a name when any of its addresses is refused. */
export function guardedLookup(policy: AddressPolicy, resolve: Resolver) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    resolve(hostname)
      .then((found) => {
        for (const { address } of found) {
          const refusal = checkAddress(policy, address);
          if (refusal) throw new AddressRefusedError(hostname, refusal);
        }
        const wanted = options.family === 4 || options.family === 6 ? options.family : undefined;
        const addresses = wanted ? found.filter((entry) => entry.family === wanted) : found;
        const first = addresses[0];
        if (!first) {
          throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
        }
        if (options.all) callback(null, addresses);
        else callback(null, first.address, first.family);
      })
      .catch((error: Error) => callback(error, ""));
  };
}

function send(url: URL, init: RequestInit, agent: HttpAgent): Promise<Response> {
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((value, name) => {
    headers[name] = value;
  });
  const body = typeof init.body === "string" ? init.body : undefined;
  if (body !== undefined) headers["content-length"] = String(Buffer.byteLength(body));
  const request = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      {
        method: init.method ?? "GET",
        headers,
        agent,
        ...(init.signal ? { signal: init.signal } : {}),
      },
      (incoming) => resolve(toResponse(incoming)),
    );
    outgoing.on("error", reject);
    outgoing.end(body);
  });
}

function toResponse(incoming: IncomingMessage): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  const status = incoming.statusCode ?? 502;
  if (NO_BODY.has(status)) {
    incoming.resume();
    return new Response(null, { status, headers });
  }
  // Errors after the headers (a reset, the timeout's abort) surface while the body is read.
  return new Response(Readable.toWeb(incoming) as ReadableStream<Uint8Array>, { status, headers });
}
