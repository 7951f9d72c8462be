/**
 * Property-based fuzzing of every route of the API over HTTP: generated path ids, query strings, headers and
 * bodies (wrong types, huge and unicode strings, nested junk, prototype-pollution keys, invalid UUIDs,
 * negative and huge limits, bad JSON, wrong content types). The properties: never a 5xx; every error is
 * Valence's body; a 4xx writes nothing to DynamoDB; a request refused for its input (400) and a request for
 * something the store does not have never call Ironic or the pod manager.
 *
 * Shared by `test/integration/fuzz-api.test.ts` (≥ 1,000 cases per route) and `bench/fuzz.ts` (as many as asked).
 */
import { Agent, request } from "node:http";
import fc from "fast-check";
import type { RouteDefinition } from "../../lib/api/routes.ts";
import type { FaultProxy } from "./fault-proxy.ts";

export interface FuzzFixtures {
  podmId: string;
  /** The pod manager's (proxy) URL, already taken: a create with it is a 409. */
  podmUrl: string;
  /** A URL where nothing listens: a pod manager created with it probes offline, fast and locally. */
  closedUrl: string;
  valenceNode: { uuid: string; name: string; index: string; macs: string[] };
  ironicNode: { uuid: string; name: string };
}

export interface FuzzTarget {
  apiUrl: string;
  proxies: { ironic: FaultProxy; podm: FaultProxy; dynamo: FaultProxy };
  fixtures: FuzzFixtures;
  scan(): Promise<Record<string, unknown>[]>;
  /** The secret store's content (the local file store): a refusal must not leave a secret behind either. */
  secrets(): Promise<Record<string, unknown>>;
  /** Puts the fixtures back after a case that changed them (a 2xx register, unregister, delete, update). */
  restore(): Promise<void>;
  /**
   * Ends the operations a case started (a 202): cancelled, and their workflows run to their end, so that their
   * writes land before the next case is judged by what it wrote.
   */
  settled(): Promise<void>;
}

export interface FuzzCase {
  method: string;
  /** Raw path and query, as sent on the request line. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

export interface FuzzOutcome {
  route: string;
  cases: number;
  statuses: Record<string, number>;
  codes: Record<string, number>;
  /** 4xx answers, and how many of them reached Ironic or the pod manager (allowed only for upstream refusals). */
  refusedAfterCallout: Record<string, number>;
  /**
   * Table scans before and after the route's run: identical when nothing was written, or the same nodes and pod
   * managers when only refusals wrote (history, intents set and cleared); not compared when a 2xx changed it.
   */
  scanUnchanged: boolean | "not compared (2xx answers changed it)";
  ms: number;
}

// ---- generators

const NASTY_STRINGS = [
  "",
  " ",
  "null",
  "true",
  "0",
  "-1",
  "NaN",
  "Infinity",
  "1e309",
  "-0",
  "0x10",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "../../etc/passwd",
  "..",
  ".",
  "\u0000",
  "\u0000abc",
  "'; DROP TABLE nodes;--",
  "<script>alert(1)</script>",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log4shell probe, sent as text
  "${jndi:ldap://127.0.0.1/x}",
  "{{7*7}}",
  "ü",
  "😀",
  "\u202e",
  "\ud800",
  "\uffff",
  "a".repeat(256),
  "a".repeat(70_000),
  "00000000-0000-0000-0000-000000000000",
  "ffffffff-ffff-ffff-ffff-ffffffffffff",
  "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
  "not-a-uuid",
  "6ba7b810-9dad-11d1-80b4-00c04fd430c",
  "6BA7B810-9DAD-11D1-80B4-00C04FD430C8",
  "{6ba7b810-9dad-11d1-80b4-00c04fd430c8}",
  "http://",
  "http://127.0.0.1:1",
  "ftp://127.0.0.1/",
  "javascript:alert(1)",
  "http://user:pass@127.0.0.1:1/",
  "52:54:00:00:00:01",
  "52-54-00-00-00-01",
  "zz:zz:zz:zz:zz:zz",
  "2024-01-01T00:00:00.000Z#deadbeef",
  "9999-99-99T99:99:99Z#zzzzzzzz",
];

const junkString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 20 }) },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.uuid() },
);

/**
 * For the request line: Node's parser (like API Gateway, whose limit is 10 KB) refuses an oversized request line
 * before any handler runs, so path and query junk stay well under it; bodies get the huge strings.
 */
const urlJunk = junkString.filter((text) => text.length <= 300);

const junkNumber = fc.oneof(
  fc.constantFrom(0, -0, -1, 1, 2 ** 31, 2 ** 53, -(2 ** 53), 1e300, -1e300, 0.5, 1001, 1000, 900, 901),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

const junkScalar = fc.oneof(junkString, junkNumber, fc.boolean(), fc.constant(null));

const POLLUTION_KEYS = ["__proto__", "constructor", "prototype", "__defineGetter__", "toString", "valueOf"];

const junkKey = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...POLLUTION_KEYS) },
  { weight: 3, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 8 }) },
);

/** Any JSON value, nested a few levels, with nasty keys and strings. */
const junkValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    junkScalar,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(junkKey, tie("value"), { maxKeys: 4 }),
  ),
})).value;

/** JSON text with an own `__proto__` / `constructor.prototype` key, as an attacker would send it. */
const pollutionText = fc
  .tuple(fc.constantFrom(...POLLUTION_KEYS), fc.constantFrom("polluted", "isAdmin", "managed_by"), junkScalar)
  .map(
    ([key, inner, value]) =>
      `{"${key}": {"${inner}": ${JSON.stringify(value) ?? "null"}, "prototype": {"${inner}": true}}}`,
  );

const badJsonText = fc.oneof(
  fc.constantFrom(
    "{",
    "}",
    "{]",
    '{"a":}',
    '{"a":1,}',
    "{'a': 1}",
    "{a: 1}",
    "NaN",
    "undefined",
    '{"a": NaN}',
    '{"a": Infinity}',
    "[1, 2",
    '"unterminated',
    "\u0000",
    '{"a": "\\u00"}',
    '{"a": 1} trailing',
    "//comment\n{}",
    "\ufeff{}",
    "[".repeat(5_000) + "]".repeat(5_000),
    `${'{"a":'.repeat(2_000)}1${"}".repeat(2_000)}`,
    `{${Array.from({ length: 2_000 }, (_, i) => `"k${i}": ${i}`).join(",")}}`,
  ),
  fc.string({ maxLength: 60 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
);

const hugeText = fc.constantFrom(
  JSON.stringify({ name: "x".repeat(300_000) }),
  JSON.stringify("y".repeat(200_000)),
  JSON.stringify(Array.from({ length: 20_000 }, (_, i) => i)),
);

const CONTENT_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "application/json; charset=utf-16",
  "application/merge-patch+json",
  "text/plain",
  "text/html",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/octet-stream",
  "application/xml",
  "image/png",
  "",
  "json",
  "application/json, text/plain",
];

const headerValue = fc.oneof(
  fc.constantFrom(
    "",
    "a",
    "ü",
    "http",
    "https",
    "gopher",
    "ftp://x",
    "a".repeat(4_000),
    "127.0.0.1:1",
    "[::1]",
  ),
  // Header values travel as bytes 0x20-0x7e (and latin-1): what a client can put on the wire.
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 }),
);

const headersArb = fc.record(
  {
    "content-type": fc.constantFrom(...CONTENT_TYPES),
    accept: fc.constantFrom("application/json", "text/html", "*/*", "application/xml", ""),
    "x-forwarded-proto": headerValue,
    "x-forwarded-host": headerValue,
    "x-request-id": headerValue,
    "x-amz-date": headerValue,
    authorization: fc.constantFrom("Basic YWRtaW46YWRtaW4=", "Bearer x", "AWS4-HMAC-SHA256 junk", ""),
    "content-encoding": fc.constantFrom("gzip", "br", "identity", "deflate"),
    "x-http-method-override": fc.constantFrom("DELETE", "PUT", "GET"),
  },
  { requiredKeys: [] },
);

type BodyKind = { kind: "none" } | { kind: "text"; text: string } | { kind: "bytes"; bytes: Uint8Array };

/** Values a field accepts, mixed with junk, so that a share of the bodies reach beyond the first check. */
type Shape = Record<string, fc.Arbitrary<unknown>>;

function shaped(shape: Shape): fc.Arbitrary<Record<string, unknown>> {
  const mixed = Object.fromEntries(
    Object.entries(shape).map(([key, valid]) => [
      key,
      fc.oneof({ weight: 3, arbitrary: valid }, { weight: 1, arbitrary: junkValue }),
    ]),
  );
  // Every field from its pool (mostly valid values): these reach the service, not just the schema.
  const whole = fc.record(shape);
  const some = fc
    .tuple(
      fc.record(mixed, { requiredKeys: [] }),
      fc.option(fc.dictionary(junkKey, junkValue, { maxKeys: 2 }), { freq: 4 }),
    )
    .map(([known, extra]) => ({ ...known, ...(extra ?? {}) }));
  return fc.oneof({ weight: 2, arbitrary: whole }, { weight: 3, arbitrary: some });
}

/** The fields a route's body takes, each with a pool of mostly valid values; alternatives for a union. */
function bodyShape(route: RouteDefinition, f: FuzzFixtures): Shape | Shape[] | undefined {
  const macs = fc.constantFrom(...f.valenceNode.macs, "52:54:00:00:00:99", "zz", "52-54-00-00-00-01");
  const podmIds = fc.constantFrom(f.podmId, "00000000-0000-0000-0000-000000000000", "x");
  const names = fc.constantFrom(
    "fuzz-new",
    "fz-new-2",
    f.valenceNode.name,
    f.ironicNode.name,
    "a b",
    "detail",
  );
  const validAuth = [{ type: "basic", auth_items: { username: "admin", password: "Fuzz-Pw-Never-Stored" } }];
  const auth = fc.oneof(
    { weight: 2, arbitrary: fc.constant(validAuth) },
    {
      weight: 1,
      arbitrary: fc.array(
        fc.record(
          {
            type: fc.constantFrom("basic", "token"),
            auth_items: fc.record(
              {
                username: fc.constantFrom("admin", "", "a".repeat(300)),
                password: fc.constantFrom("Fuzz-Pw-Never-Stored", "", "p"),
              },
              { requiredKeys: [] },
            ),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 2 },
      ),
    },
  );
  const urls = fc.constantFrom(f.closedUrl, `${f.closedUrl}/`, f.podmUrl, "http://", "file:///etc/passwd");
  switch (route.handler) {
    case "register-node":
      return {
        resource_class: fc.constantFrom("baremetal", "gold.1", "bad class", ""),
        properties: fc.record(
          {
            cpus: fc.oneof(fc.integer({ min: 1, max: 256 }), junkNumber),
            memory_mb: fc.oneof(fc.integer({ min: 1, max: 1 << 20 }), junkNumber),
            local_gb: fc.oneof(fc.integer({ min: 0, max: 10_000 }), junkNumber),
            cpu_arch: fc.constantFrom("x86_64", "", "a".repeat(40)),
            capabilities: fc.constantFrom("boot_mode:uefi", "x".repeat(2_000)),
          },
          { requiredKeys: [] },
        ),
        driver_info: fc.record(
          {
            redfish_verify_ca: fc.boolean(),
            redfish_auth_type: fc.constantFrom("basic", "session", "auto", "none"),
            redfish_password: fc.constant("Injected-Pw"),
            redfish_address: fc.constant("http://127.0.0.1:1"),
          },
          { requiredKeys: [] },
        ),
        ports: fc.constantFrom("all", "boot", "some"),
        boot_mac: macs,
        // Never a valid `true`: a wait for Ironic's BMC verification per case would make the fuzz crawl.
        manage: fc.constantFrom(false, "true", 1),
        provide: fc.constantFrom(false, "yes"),
        wait_timeout: fc.oneof(fc.integer({ min: 1, max: 900 }), junkNumber, fc.constantFrom(901, 0)),
      };
    case "unregister-node":
      return { force: fc.constantFrom(false, true, "true", 1, null) };
    case "create-pod-manager":
    case "update-pod-manager":
      return {
        name: fc.constantFrom(
          "fuzz-podm",
          "fuzz podm 2",
          "reliability-podm",
          "a/b",
          " lead",
          "x".repeat(300),
        ),
        url: urls,
        driver: fc.constantFrom("redfish", "rsd", "redfishv1", "redfish", "ipmi"),
        verify_ca: fc.constantFrom(true, false, false, "false"),
        authentication: auth,
      };
    case "compose-node":
      return {
        name: names,
        description: fc.constantFrom(undefined, "", "d", "x".repeat(2_000)),
        podm_id: podmIds,
        properties: fc.record(
          {
            memory: fc.record(
              { capacity_mib: fc.oneof(fc.integer({ min: 1, max: 1 << 20 }), junkNumber) },
              { requiredKeys: [] },
            ),
            processor: fc.record(
              { total_cores: fc.constantFrom(1, 1, 8, 0, 10_000, -1), model: fc.constantFrom("Xeon", "") },
              { requiredKeys: [] },
            ),
          },
          { requiredKeys: [] },
        ),
        resource_blocks: fc.oneof(
          fc.constant(undefined),
          fc.array(fc.constantFrom("PoolBlock7", "PoolBlock1", "NoSuchBlock", ""), { maxLength: 3 }),
        ),
      };
    case "manage-node":
      return {
        podm_id: podmIds,
        node_index: fc.constantFrom(f.valenceNode.index, "composed-999", "a/b", "?", ""),
        name: names,
      };
    case "node-action":
      return [
        {
          Reset: fc.record({ Type: fc.constantFrom("On", "ForceOff", "Explode", "") }, { requiredKeys: [] }),
        },
        {
          Boot: fc.record(
            {
              Enabled: fc.constantFrom("Once", "Continuous", "Never"),
              Target: fc.constantFrom("Pxe", "Hdd", "Floppy"),
            },
            { requiredKeys: [] },
          ),
        },
      ];
    default:
      return undefined;
  }
}

function queryShape(route: RouteDefinition, f: FuzzFixtures): Shape {
  const limit = fc.oneof(
    fc.constantFrom(
      "1",
      "0",
      "-1",
      "1000",
      "1001",
      "99999999999999999999",
      "1.5",
      "1e3",
      "0x10",
      " 1",
      "",
      "NaN",
    ),
    fc.integer().map(String),
  );
  switch (route.handler) {
    case "list-nodes":
      return {
        managed_by: fc.constantFrom("valence", "ironic", "nova", ""),
        podm_id: fc.constantFrom(f.podmId, "x", "00000000-0000-0000-0000-000000000000"),
        name: fc.constantFrom(f.valenceNode.name, "", "x".repeat(300)),
        limit,
        marker: fc.constantFrom(f.valenceNode.uuid, "x", "00000000-0000-0000-0000-000000000000"),
      };
    case "get-node-history":
      return {
        limit,
        marker: fc.constantFrom(
          "2024-01-01T00:00:00.000Z#deadbeef",
          "x",
          "9999-12-31T23:59:59.999Z#00000000",
        ),
      };
    case "get-node":
      return { refresh: fc.constantFrom("true", "false", "1", "TRUE", "") };
    default:
      return {};
  }
}

function queryString(shape: Shape): fc.Arbitrary<string> {
  const fields = Object.fromEntries(
    Object.entries(shape).map(([key, valid]) => [
      key,
      fc.oneof({ weight: 3, arbitrary: valid as fc.Arbitrary<string> }, { weight: 1, arbitrary: urlJunk }),
    ]),
  );
  const encoded = fc
    .tuple(
      fc.record(fields, { requiredKeys: [] }),
      fc.array(fc.tuple(junkKey, urlJunk), { maxLength: 2 }),
      fc.boolean(),
    )
    .map(([known, extra, repeat]) => {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(known)) params.append(key, String(value));
      for (const [key, value] of extra) params.append(key, value);
      // A repeated key becomes "a,b" in API Gateway's queryStringParameters.
      const first = Object.entries(known)[0];
      if (repeat && first) params.append(first[0], String(first[1]));
      return params.toString();
    });
  const raw = fc.constantFrom(
    "%",
    "%zz=1",
    "a=%E0%A4%A",
    "&&&",
    "=",
    "a",
    "a=1&a=2&a=3",
    "__proto__[x]=1",
    "?",
  );
  return fc.oneof({ weight: 4, arbitrary: encoded }, { weight: 1, arbitrary: raw });
}

/** Like encodeURIComponent, but a lone surrogate becomes U+FFFD (as on the wire) instead of throwing. */
function percentEncode(text: string): string {
  let encoded = "";
  for (const byte of Buffer.from(text, "utf8")) {
    const char = String.fromCharCode(byte);
    encoded += /[A-Za-z0-9\-_.!~*'()]/.test(char)
      ? char
      : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return encoded;
}

/** A path id: ours (so the deeper checks run), plausible, or junk; encoded, or raw bytes a client may send. */
function pathIdArb(route: RouteDefinition, f: FuzzFixtures): fc.Arbitrary<string> {
  // Deleting a fixture would end the run's meaning: deletes get ours only with a body (a 400 first).
  const ours = route.path.startsWith("/v1/pod_managers")
    ? [f.podmId]
    : [f.valenceNode.uuid, f.valenceNode.name, f.ironicNode.uuid, f.ironicNode.name];
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...ours) },
    { weight: 3, arbitrary: urlJunk.map(percentEncode) },
    { weight: 1, arbitrary: fc.uuid() },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        "%",
        "%zz",
        "%E0%A4%A",
        "%C0%AF",
        "%00",
        "%2F",
        "%2e%2e",
        "..",
        ".",
        "%252F",
      ),
    },
  );
}

function bodyArb(route: RouteDefinition, f: FuzzFixtures): fc.Arbitrary<BodyKind> {
  const shape = bodyShape(route, f);
  const shapes = shape === undefined ? [] : Array.isArray(shape) ? shape : [shape];
  const json = (value: fc.Arbitrary<unknown>) =>
    value.map((v): BodyKind => ({ kind: "text", text: JSON.stringify(v) ?? "null" }));
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant<BodyKind>({ kind: "none" }) },
    ...(shapes.length > 0 ? [{ weight: 6, arbitrary: json(fc.oneof(...shapes.map(shaped))) }] : []),
    { weight: 2, arbitrary: json(junkValue) },
    { weight: 1, arbitrary: pollutionText.map((text): BodyKind => ({ kind: "text", text })) },
    { weight: 1, arbitrary: badJsonText.map((text): BodyKind => ({ kind: "text", text })) },
    {
      weight: 1,
      arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes): BodyKind => ({ kind: "bytes", bytes })),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('{"force": true}', "{}", '{"manage": false}')
        .map((text): BodyKind => ({ kind: "bytes", bytes: new Uint8Array(Buffer.from(text, "utf16le")) })),
    },
    { weight: 1, arbitrary: hugeText.map((text): BodyKind => ({ kind: "text", text })) },
  );
}

/** Cases for one route. */
export function caseArbitrary(route: RouteDefinition, fixtures: FuzzFixtures): fc.Arbitrary<FuzzCase> {
  const hasId = route.path.includes("{");
  const destructive = route.method === "DELETE";
  return fc
    .record({
      id: hasId ? pathIdArb(route, fixtures) : fc.constant(""),
      query: fc.oneof(
        { weight: 2, arbitrary: fc.constant("") },
        { weight: 3, arbitrary: queryString(queryShape(route, fixtures)) },
      ),
      headers: headersArb,
      body: bodyArb(route, fixtures),
    })
    .map(({ id, query, headers, body }) => {
      let effectiveBody = body;
      const ours = [fixtures.podmId, fixtures.valenceNode.uuid, fixtures.valenceNode.name].includes(id);
      const empty =
        body.kind === "none" || (body.kind === "text" ? body.text === "" : body.bytes.length === 0);
      if (destructive && ours && empty) effectiveBody = { kind: "text", text: "{}" };
      const path = route.path.replace(/\{\w+\}/, id) + (query ? `?${query}` : "");
      const bytes =
        effectiveBody.kind === "none"
          ? undefined
          : effectiveBody.kind === "text"
            ? Buffer.from(effectiveBody.text, "utf8")
            : Buffer.from(effectiveBody.bytes);
      const fuzzCase: FuzzCase = { method: route.method, path, headers, ...(bytes ? { body: bytes } : {}) };
      // fast-check prints counterexamples with this: the request as a reader wants to see it.
      Object.defineProperty(fuzzCase, fc.toStringMethod, { value: () => describeCase(fuzzCase) });
      return fuzzCase;
    });
}

// ---- transport

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 4 });

/** One request exactly as given: raw path, any method, any headers, any bytes. */
export function send(base: string, fuzzCase: FuzzCase): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: url.hostname,
        port: url.port,
        method: fuzzCase.method,
        path: fuzzCase.path,
        headers: {
          ...fuzzCase.headers,
          ...(fuzzCase.body ? { "content-length": String(fuzzCase.body.length) } : {}),
        },
        agent,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            text: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        response.on("error", reject);
      },
    );
    outgoing.on("error", reject);
    outgoing.end(fuzzCase.body);
  });
}

// ---- properties

const ERROR_KEYS = ["request_id", "code", "status", "title", "detail"];

/** Problems with an answer that claims to be an error: empty when it is Valence's error body. */
export function errorBodyProblems(response: RawResponse): string[] {
  let body: unknown;
  try {
    body = JSON.parse(response.text);
  } catch {
    return [`error answer is not JSON: ${response.text.slice(0, 200)}`];
  }
  if (body === null || typeof body !== "object" || Array.isArray(body))
    return ["error body is not an object"];
  const record = body as Record<string, unknown>;
  const problems: string[] = [];
  const keys = Object.keys(record).sort();
  if (keys.join(",") !== [...ERROR_KEYS].sort().join(","))
    problems.push(`error body keys are ${keys.join(",")}`);
  for (const key of ["request_id", "code", "title", "detail"]) {
    if (typeof record[key] !== "string" || record[key] === "")
      problems.push(`error body ${key} is not a string`);
  }
  if (record.status !== response.status)
    problems.push(`error body status ${record.status} != ${response.status}`);
  if (response.headers["x-request-id"] !== record.request_id)
    problems.push("x-request-id differs from the body");
  if (typeof record.detail === "string" && /\n\s+at /.test(record.detail))
    problems.push("detail holds a stack trace");
  return problems;
}

/**
 * Nodes, pod managers and claims without their bookkeeping (version, timestamps, an intent already cleared,
 * history events): what a refusal must leave exactly as it was.
 */
function semanticState(items: Record<string, unknown>[], secrets: Record<string, unknown>): string {
  return JSON.stringify([
    secrets,
    items
      .filter((item) => !String(item.sk).startsWith("EVENT#"))
      .map(({ version: _version, updated_at: _updated, intent, ...rest }) =>
        intent ? { ...rest, intent } : rest,
      )
      .sort((a, b) => `${a.pk}${a.sk}`.localeCompare(`${b.pk}${b.sk}`)),
  ]);
}

const WRITES = /\.(PutItem|UpdateItem|DeleteItem|BatchWriteItem|TransactWriteItems)$/;

/**
 * Refused for what Valence itself knows (its input, its store): reaching Ironic or a pod manager first would
 * be wasted work on their side. Other 4xx (an unknown system on the pod manager, a name Ironic holds) can only
 * be known by asking.
 */
const REFUSED_WITHOUT_CALLOUT = new Set([
  "ValidationError",
  "RouteNotFound",
  "MethodNotAllowed",
  "NodeNotFound",
  "PodManagerNotFound",
  "NodeManagedByIronic",
  "NodeAlreadyRegistered",
  "NodeNotRegistered",
  "NodeBusy",
  "NodeNameConflict",
  "PodManagerConflict",
  "PodManagerInUse",
]);

/**
 * Refused before any write. The other refusals may write and undo (a uniqueness claim taken and released; a
 * register's intent set and cleared, its failure recorded in the history) but must leave the nodes, pod
 * managers, claims and secrets as they were.
 */
const REFUSED_WITHOUT_WRITE = new Set([
  "ValidationError",
  "RouteNotFound",
  "MethodNotAllowed",
  "NodeNotFound",
  "PodManagerNotFound",
  "NodeManagedByIronic",
  "NodeAlreadyRegistered",
  "NodeNotRegistered",
  "NodeBusy",
  "PodManagerInUse",
]);

/**
 * 400s that depend on the pod manager's answer: whether a MAC is an enabled NIC is read fresh from it; what an
 * empty composition lacks depends on the composition it offers (a service with specific composition only
 * answers "name the resource blocks" instead).
 */
const AFTER_READING_UPSTREAM = /is not an enabled NIC|a composition needs/;

function describeCase(fuzzCase: FuzzCase): string {
  const body = fuzzCase.body
    ? fuzzCase.body.length > 300
      ? `${fuzzCase.body.length} bytes: ${fuzzCase.body.subarray(0, 120).toString("utf8")}…`
      : fuzzCase.body.toString("utf8")
    : "(none)";
  return `${fuzzCase.method} ${fuzzCase.path.slice(0, 300)}\nheaders ${JSON.stringify(fuzzCase.headers).slice(0, 300)}\nbody ${body}`;
}

/** Fuzzes one route with `numRuns` cases; throws (with the shrunk counterexample) when a property breaks. */
export async function fuzzRoute(
  target: FuzzTarget,
  route: RouteDefinition,
  options: { numRuns: number; seed?: number },
): Promise<FuzzOutcome> {
  const started = Date.now();
  const outcome: FuzzOutcome = {
    route: `${route.method} ${route.path}`,
    cases: 0,
    statuses: {},
    codes: {},
    refusedAfterCallout: {},
    scanUnchanged: "not compared (2xx answers changed it)",
    ms: 0,
  };
  // Writes that changed something: a conditional write DynamoDB refused (a claim already taken) did not.
  // Counted as the exchanges come in, so a long run stays linear.
  const dynamo = target.proxies.dynamo;
  let examined = 0;
  let landed = 0;
  const writes = () => {
    for (; examined < dynamo.exchanges.length; examined++) {
      const exchange = dynamo.exchanges[examined];
      if (!exchange || exchange.outcome === "pending") break;
      if (WRITES.test(String(exchange.headers["x-amz-target"] ?? "")) && exchange.upstreamStatus === 200)
        landed++;
    }
    return landed;
  };
  const callouts = () => target.proxies.ironic.count() + target.proxies.podm.count();

  await target.restore();
  const tableBefore = JSON.stringify(await target.scan());
  const writesAtStart = writes();
  const snapshot = async () => semanticState(await target.scan(), await target.secrets());
  let state = await snapshot();
  let changed = false;

  await fc.assert(
    fc.asyncProperty(caseArbitrary(route, target.fixtures), async (fuzzCase) => {
      const writesBefore = writes();
      const calloutsBefore = callouts();
      const response = await send(target.apiUrl, fuzzCase);
      await Promise.all([
        target.proxies.dynamo.idle(),
        target.proxies.ironic.idle(),
        target.proxies.podm.idle(),
      ]);
      const wrote = writes() - writesBefore;
      const calledOut = callouts() - calloutsBefore;
      outcome.cases++;
      outcome.statuses[response.status] = (outcome.statuses[response.status] ?? 0) + 1;

      const problems: string[] = [];
      if (response.status >= 500) problems.push(`answered ${response.status}`);
      if (response.status >= 400) {
        problems.push(...errorBodyProblems(response));
        let code = "unparsable";
        try {
          code = String((JSON.parse(response.text) as { code?: unknown }).code);
        } catch {
          // reported by errorBodyProblems
        }
        outcome.codes[code] = (outcome.codes[code] ?? 0) + 1;
        if (response.status < 500) {
          const informed = AFTER_READING_UPSTREAM.test(response.text);
          if (calledOut > 0) outcome.refusedAfterCallout[code] = (outcome.refusedAfterCallout[code] ?? 0) + 1;
          if (REFUSED_WITHOUT_CALLOUT.has(code) && !informed && calledOut > 0) {
            problems.push(
              `a ${response.status} ${code} called Ironic or the pod manager ${calledOut} time(s)`,
            );
          }
          if (REFUSED_WITHOUT_WRITE.has(code) && !informed && wrote > 0) {
            problems.push(`a ${response.status} ${code} wrote ${wrote} item(s)`);
          }
          if (wrote > 0 && (await snapshot()) !== state) {
            problems.push(`a ${response.status} ${code} changed nodes, pod managers, claims or secrets`);
          }
        }
      } else if (wrote > 0) {
        changed = true;
        await target.settled();
        await target.restore();
        state = await snapshot();
      }
      if (problems.length > 0) {
        throw new Error(
          `${problems.join("; ")}\n${describeCase(fuzzCase)}\nanswer: ${response.text.slice(0, 500)}`,
        );
      }
    }),
    { numRuns: options.numRuns, ...(options.seed === undefined ? {} : { seed: options.seed }) },
  );

  // Nothing written at all: the table is byte for byte what it was.
  if (writes() === writesAtStart) {
    outcome.scanUnchanged = JSON.stringify(await target.scan()) === tableBefore;
    if (!outcome.scanUnchanged)
      throw new Error(`${outcome.route}: the table changed although nothing was written`);
  } else if (!changed) {
    outcome.scanUnchanged = (await snapshot()) === state;
    if (!outcome.scanUnchanged) throw new Error(`${outcome.route}: refusals changed the store's nodes`);
  }
  outcome.ms = Date.now() - started;
  return outcome;
}
