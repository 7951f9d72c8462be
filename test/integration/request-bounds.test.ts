import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONTRACT } from "../../lib/api/contract.ts";
import { buildOpenApiDocument, type JsonSchema } from "../../lib/api/openapi.ts";
import { ROUTES } from "../../lib/api/routes.ts";
import { resolveRef } from "../support/json-schema.ts";
import { expectErrorBody, startTestApi, type TestApi } from "../support/local-api.ts";

/**
 * No request can make the API fail with a 500: every string field of every request schema is bounded, so an
 * oversized value is the caller's 400 before it reaches DynamoDB (whose items stop at 400 KB), Ironic or a pod
 * manager. The fields come from the API reference (built from the very schemas the handlers validate with), so a
 * new route or field is covered without touching this test.
 */

/** Bigger than a DynamoDB item may be; well inside API Gateway's 10 MB payload. */
const HUGE_BODY_STRING = "a".repeat(450 * 1024);
/** Paths and query strings travel in the request line: as long as a server takes (Node's 16 KB header cap). */
const LONG_URL_STRING = "a".repeat(8 * 1024);

type Segment = string | number;

const document = buildOpenApiDocument();

interface Leaf {
  path: Segment[];
  schema: JsonSchema;
}

/** Every string-typed value a schema accepts, through objects, arrays, unions and references. */
function stringLeaves(schema: JsonSchema, path: Segment[] = [], seen = new Set<JsonSchema>()): Leaf[] {
  const resolved = typeof schema.$ref === "string" ? resolveRef(document, schema.$ref) : schema;
  if (seen.has(resolved)) return [];
  const inner = new Set(seen).add(resolved);
  const leaves: Leaf[] = [];
  for (const keyword of ["anyOf", "oneOf", "allOf"]) {
    for (const alternative of (resolved[keyword] as JsonSchema[] | undefined) ?? [])
      leaves.push(...stringLeaves(alternative, path, inner));
  }
  const types = [resolved.type].flat();
  if (types.includes("string")) leaves.push({ path, schema: resolved });
  for (const [name, property] of Object.entries((resolved.properties as Record<string, JsonSchema>) ?? {}))
    leaves.push(...stringLeaves(property, [...path, name], inner));
  if (resolved.items) leaves.push(...stringLeaves(resolved.items as JsonSchema, [...path, 0], inner));
  return leaves;
}

function valueAt(root: unknown, path: Segment[]): unknown {
  return path.reduce<unknown>(
    (current, key) =>
      current && typeof current === "object" ? (current as Record<Segment, unknown>)[key] : undefined,
    root,
  );
}

/**
 * The example's value made huge but otherwise as valid as it was (a URL gets a long path, a name a long tail), so
 * that only a length bound can refuse it; formats that bound themselves (uuid, enum, anchored pattern) refuse it
 * anyway.
 */
function oversized(leaf: Leaf, example: unknown): string {
  const current = valueAt(example, leaf.path);
  const start = typeof current === "string" ? current : "";
  if (leaf.schema.format === "uri") return `${start || "https://podm.example.net"}/${HUGE_BODY_STRING}`;
  return `${start}${HUGE_BODY_STRING}`;
}

/** A copy of `base` with `value` at `path`, creating the objects and arrays on the way. */
function withValueAt(base: unknown, path: Segment[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [Segment, ...Segment[]];
  if (typeof head === "number") {
    const array = Array.isArray(base) ? [...base] : [];
    array[head] = withValueAt(array[head], rest, value);
    return array;
  }
  const object = base && typeof base === "object" && !Array.isArray(base) ? { ...base } : {};
  return { ...object, [head]: withValueAt((object as Record<string, unknown>)[head], rest, value) };
}

interface Case {
  name: string;
  method: string;
  url: string;
  body?: unknown;
}

function fillPath(template: string, params: Readonly<Record<string, string>>): string {
  return template.replace(/\{(\w+)\}/g, (_match, name: string) => encodeURIComponent(params[name] ?? "x"));
}

function urlOf(template: string, params: Readonly<Record<string, string>>, query: Record<string, string>) {
  const search = new URLSearchParams(query).toString();
  return `${fillPath(template, params)}${search ? `?${search}` : ""}`;
}

function cases(): Case[] {
  const all: Case[] = [];
  for (const route of ROUTES.filter((candidate) => !candidate.localOnly)) {
    const example = CONTRACT[route.handler]?.example ?? {};
    const params = { ...example.params };
    const query = { ...example.query };
    const operation = document.paths[route.path]?.[route.method.toLowerCase()];
    const key = `${route.method} ${route.path}`;
    // Every path and query parameter is a string on the wire, whatever it parses to.
    for (const parameter of operation?.parameters ?? []) {
      all.push({
        name: `${key} ${parameter.in}.${parameter.name}`,
        method: route.method,
        url:
          parameter.in === "path"
            ? urlOf(route.path, { ...params, [parameter.name]: LONG_URL_STRING }, query)
            : urlOf(route.path, params, { ...query, [parameter.name]: LONG_URL_STRING }),
        ...(example.body === undefined ? {} : { body: example.body }),
      });
    }
    const bodySchema = operation?.requestBody?.content["application/json"]?.schema;
    for (const leaf of bodySchema ? stringLeaves(bodySchema) : []) {
      all.push({
        name: `${key} body.${leaf.path.join(".").replace(/\.0(?=\.|$)/g, "[]")}`,
        method: route.method,
        url: urlOf(route.path, params, query),
        body: withValueAt(example.body ?? {}, leaf.path, oversized(leaf, example.body)),
      });
    }
  }
  return all;
}

describe("request bounds", () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.stop());

  const all = cases();

  it("covers a string field of every route that takes one", () => {
    const covered = new Set(all.map((entry) => entry.name.split(" ").slice(0, 2).join(" ")));
    expect(covered).toContain("POST /v1/nodes/{id}/register");
    expect(covered).toContain("GET /v1/nodes/{id}/history");
    expect(all.length).toBeGreaterThan(30);
  });

  for (const entry of all) {
    it(`answers 400 to an oversized ${entry.name}`, async () => {
      const response = await api.call(entry.method, entry.url, entry.body);
      expectErrorBody(response, 400);
    });
  }

  it.each(ROUTES.filter((route) => !CONTRACT[route.handler]?.body))(
    "answers 400 to an oversized field in a body $method $path does not take",
    async (route) => {
      const example = CONTRACT[route.handler]?.example ?? {};
      const url = urlOf(route.path, { ...example.params }, { ...example.query });
      const response = await api.call(route.method, url, { extra: HUGE_BODY_STRING });
      expect(expectErrorBody(response, 400).detail).toContain("unknown field(s) extra");
    },
  );
});
