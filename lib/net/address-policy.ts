/**
 * Which pod-manager addresses Valence may connect to. Pure: no DNS, no sockets. It is applied twice: to the URL
 * an operator gives (its literal host, before anything is stored or sent) and to every address a host name
 * resolves to when a connection is made (so a name that later resolves elsewhere, DNS rebinding, gains nothing).
 *
 * - Always refused: unspecified (0.0.0.0/8, ::), link-local (169.254.0.0/16, fe80::/10), cloud metadata
 *   (169.254.169.254, fd00:ec2::254) and multicast/reserved addresses: no BMC lives there.
 * - Loopback (127.0.0.0/8, ::1, `localhost`) only where the deployment allows it (the local stack).
 * - Private ranges are allowed (BMC networks are private); `allowedCidrs`, when set, narrows what is allowed.
 * - `http://` only where the deployment allows it: BMC passwords would travel in cleartext.
 */

import { PodManagerUrlRefusedError } from "../errors.ts";

export interface Cidr {
  readonly family: 4 | 6;
  readonly network: bigint;
  readonly prefix: number;
  /** As configured, for messages. */
  readonly text: string;
}

export interface AddressPolicy {
  readonly allowHttp: boolean;
  readonly allowLoopback: boolean;
  /** When non-empty, an address must lie in one of these. */
  readonly allowedCidrs: readonly Cidr[];
}

/** What a deployment gets unless it says otherwise: https only, no loopback, no narrowing. */
export const STRICT_ADDRESS_POLICY: AddressPolicy = {
  allowHttp: false,
  allowLoopback: false,
  allowedCidrs: [],
};

export type AddressRule =
  | "http-not-allowed"
  | "not-an-address"
  | "unspecified"
  | "link-local"
  | "metadata"
  | "multicast"
  | "loopback"
  | "not-in-allowed-cidrs";

/** Why an address or URL is refused: a stable rule name and a sentence for the operator. */
export interface AddressRefusal {
  readonly rule: AddressRule;
  readonly reason: string;
}

interface Address {
  family: 4 | 6;
  value: bigint;
}

const V4_BITS = 32;
const V6_BITS = 128;

/** Builds a policy from settings; throws on a CIDR that does not parse. */
export function addressPolicy(settings: {
  allowHttp?: boolean;
  allowLoopback?: boolean;
  allowedCidrs?: readonly string[];
}): AddressPolicy {
  return {
    allowHttp: settings.allowHttp ?? false,
    allowLoopback: settings.allowLoopback ?? false,
    allowedCidrs: (settings.allowedCidrs ?? []).map((text) => {
      const cidr = parseCidr(text);
      if (!cidr) throw new Error(`not a CIDR: ${text}`);
      return cidr;
    }),
  };
}

/** `10.0.0.0/8`, `fd12::/16`, or a single address (a /32 or /128). Undefined when it does not parse. */
export function parseCidr(text: string): Cidr | undefined {
  const trimmed = text.trim();
  const slash = trimmed.indexOf("/");
  const address = parseIp(slash === -1 ? trimmed : trimmed.slice(0, slash));
  if (!address) return undefined;
  const bits = address.family === 4 ? V4_BITS : V6_BITS;
  const prefixText = slash === -1 ? String(bits) : trimmed.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > bits) return undefined;
  return { family: address.family, network: address.value & mask(bits, prefix), prefix, text: trimmed };
}

/**
 * The verdict on a URL as written: its scheme, and its host when that is an address or `localhost`. Host names
 * pass here; their addresses are checked when a connection is made. The URL is parsed the way `fetch` parses
 * it, so `0x7f000001`, `2130706433` and `127.1` are all 127.0.0.1, and `[::ffff:127.0.0.1]` is too.
 */
export function checkUrl(policy: AddressPolicy, url: string): AddressRefusal | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined; // Not a URL at all: the schema says so.
  }
  if (parsed.protocol === "http:" && !policy.allowHttp) {
    return {
      rule: "http-not-allowed",
      reason: "http:// is not allowed: the pod-manager password would travel in cleartext; use https://",
    };
  }
  return checkHost(policy, parsed.hostname);
}

/** The verdict on a URL's host name (as `URL.hostname` gives it): an address, `localhost`, or a DNS name. */
export function checkHost(policy: AddressPolicy, hostname: string): AddressRefusal | undefined {
  const host = hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
  if (isIpLiteral(host)) return checkAddress(policy, host);
  const name = host.toLowerCase().replace(/\.+$/, "");
  // Resolvers answer `localhost` and its subdomains with loopback without asking DNS (RFC 6761).
  if (name === "localhost" || name.endsWith(".localhost")) {
    return policy.allowLoopback ? undefined : loopbackRefusal(hostname);
  }
  return undefined;
}

/** The verdict on one IP address (a literal, or what DNS answered). An address that does not parse is refused. */
export function checkAddress(policy: AddressPolicy, text: string): AddressRefusal | undefined {
  const address = parseIp(text);
  if (!address) return { rule: "not-an-address", reason: `${text} is not an IP address` };
  const kind = classify(address);
  switch (kind) {
    case "unspecified":
      return { rule: kind, reason: `${text} is an unspecified address` };
    case "metadata":
      return { rule: kind, reason: `${text} is a cloud metadata address` };
    case "link-local":
      return { rule: kind, reason: `${text} is a link-local address` };
    case "multicast":
      return { rule: kind, reason: `${text} is not a unicast address` };
    case "loopback":
      if (!policy.allowLoopback) return loopbackRefusal(text);
      break;
    case "other":
      break;
  }
  if (policy.allowedCidrs.length > 0 && !policy.allowedCidrs.some((cidr) => contains(cidr, address))) {
    return {
      rule: "not-in-allowed-cidrs",
      reason: `${text} is outside the allowed networks (${policy.allowedCidrs.map((cidr) => cidr.text).join(", ")})`,
    };
  }
  return undefined;
}

/** True for a dotted-quad IPv4 or an IPv6 literal (no brackets). */
export function isIpLiteral(text: string): boolean {
  return parseIp(text) !== undefined;
}

function loopbackRefusal(host: string): AddressRefusal {
  return { rule: "loopback", reason: `${host} is a loopback address, not allowed in this deployment` };
}

type Kind = "unspecified" | "metadata" | "link-local" | "multicast" | "loopback" | "other";

const V4_RANGES: Array<[string, Kind]> = [
  ["169.254.169.254/32", "metadata"],
  ["0.0.0.0/8", "unspecified"],
  ["127.0.0.0/8", "loopback"],
  ["169.254.0.0/16", "link-local"],
  ["224.0.0.0/4", "multicast"],
  ["240.0.0.0/4", "multicast"],
];

const V6_RANGES: Array<[string, Kind]> = [
  ["::/128", "unspecified"],
  ["::1/128", "loopback"],
  ["fd00:ec2::254/128", "metadata"],
  ["fe80::/10", "link-local"],
  ["ff00::/8", "multicast"],
];

/** IPv6 prefixes that carry an IPv4 address in their last 32 bits: mapped, compatible (deprecated), NAT64. */
const V4_EMBEDDING = ["::ffff:0:0/96", "::/96", "64:ff9b::/96"];

let ranges: { v4: Array<[Cidr, Kind]>; v6: Array<[Cidr, Kind]>; embedding: Cidr[] } | undefined;

function knownRanges() {
  const parse = (text: string) => parseCidr(text) as Cidr;
  ranges ??= {
    v4: V4_RANGES.map(([text, kind]) => [parse(text), kind]),
    v6: V6_RANGES.map(([text, kind]) => [parse(text), kind]),
    embedding: V4_EMBEDDING.map(parse),
  };
  return ranges;
}

function classify(address: Address): Kind {
  const known = knownRanges();
  if (address.family === 6) {
    // Exact IPv6 rules first (`::` and `::1` sit inside the compatible range).
    for (const [cidr, kind] of known.v6) if (contains(cidr, address)) return kind;
    if (known.embedding.some((cidr) => contains(cidr, address))) {
      return classify({ family: 4, value: address.value & 0xffffffffn });
    }
    return "other";
  }
  for (const [cidr, kind] of known.v4) if (contains(cidr, address)) return kind;
  return "other";
}

function contains(cidr: Cidr, address: Address): boolean {
  if (cidr.family !== address.family) return false;
  const bits = cidr.family === 4 ? V4_BITS : V6_BITS;
  return (address.value & mask(bits, cidr.prefix)) === cidr.network;
}

function mask(bits: number, prefix: number): bigint {
  const all = (1n << BigInt(bits)) - 1n;
  return all ^ ((1n << BigInt(bits - prefix)) - 1n);
}

/** Canonical dotted-quad IPv4 or IPv6 (with an optional trailing dotted quad and zone id). */
function parseIp(text: string): Address | undefined {
  if (text.includes(":")) return parseIpv6(text);
  const value = parseIpv4(text);
  return value === undefined ? undefined : { family: 4, value };
}

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

function parseIpv6(input: string): Address | undefined {
  const text = input.replace(/%.*$/, ""); // A zone id (fe80::1%eth0) does not change the address.
  let groups: string[];
  let tailV4: bigint | undefined;
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  let head = text;
  if (tail.includes(".")) {
    tailV4 = parseIpv4(tail);
    if (tailV4 === undefined) return undefined;
    head = text.slice(0, lastColon + 1);
    // "::1.2.3.4" leaves "::", "a::1.2.3.4" leaves "a::", "a:b:c:d:e:f:1.2.3.4" leaves "a:b:c:d:e:f:".
    if (head.endsWith(":") && !head.endsWith("::")) head = head.slice(0, -1);
  }
  const wanted = tailV4 === undefined ? 8 : 6;
  const halves = head.split("::");
  if (halves.length > 2) return undefined;
  const split = (part: string) => (part === "" ? [] : part.split(":"));
  if (halves.length === 2) {
    const left = split(halves[0] ?? "");
    const right = split(halves[1] ?? "");
    const missing = wanted - left.length - right.length;
    if (missing < 1) return undefined;
    groups = [...left, ...Array<string>(missing).fill("0"), ...right];
  } else {
    groups = split(head);
    if (groups.length !== wanted) return undefined;
  }
  let value = 0n;
  for (const group of groups) {
    if (!/^[0-9a-f]{1,4}$/i.test(group)) return undefined;
    value = (value << 16n) | BigInt(Number.parseInt(group, 16));
  }
  if (tailV4 !== undefined) value = (value << 32n) | tailV4;
  return { family: 6, value };
}

/** The check a pod-manager create or update runs on its URL: a `PodManagerUrlRefusedError` (400) when refused. */
export function podManagerUrlCheck(policy: AddressPolicy): (url: string) => void {
  return (url) => {
    const refusal = checkUrl(policy, url);
    if (refusal) throw new PodManagerUrlRefusedError(refusal.rule, refusal.reason);
  };
}
