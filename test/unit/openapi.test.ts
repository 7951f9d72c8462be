import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, expectTypeOf, it } from "vitest";
import type * as z from "zod/mini";
import { CONTRACT, type RouteContract } from "../../lib/api/contract.ts";
import {
  buildOpenApiDocument,
  contractProblems,
  type JsonSchema,
  type OpenApiDocument,
  serializeOpenApiDocument,
  validateJson,
} from "../../lib/api/openapi.ts";
import {
  type ErrorBodySchema,
  type HistoryEventSchema,
  type IronicLiveState,
  NodeView,
  type PodManagerView,
  type RootDocumentSchema,
  type V1DocumentSchema,
} from "../../lib/api/responses.ts";
import { ROUTES, type RouteDefinition } from "../../lib/api/routes.ts";
import { rootDocument, v1Document } from "../../lib/api/versions.ts";
import { NodeNotFoundError } from "../../lib/errors.ts";
import { type ErrorBody, toErrorBody } from "../../lib/http/errors.ts";
import type { HistoryEvent } from "../../lib/nodes/history.ts";
import { type Node, toNodeView } from "../../lib/nodes/model.ts";
import type { IronicView } from "../../lib/nodes/registration-service.ts";
import { type PodManager, toPodManagerView } from "../../lib/podmanagers/model.ts";
import { newNode } from "../support/fixtures.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const documented = ROUTES.filter((route) => !route.localOnly);
const document = buildOpenApiDocument();

function operation(route: RouteDefinition) {
  const found = document.paths[route.path]?.[route.method.toLowerCase()];
  if (!found) throw new Error(`no operation for ${route.method} ${route.path}`);
  return found;
}

function componentSchema(name: string): JsonSchema {
  const schema = document.components.schemas[name];
  if (!schema) throw new Error(`no component ${name}`);
  return schema;
}

/**
 * The schemas a handler passes to `httpRoute({...})`, resolved through its imports to the very objects: the
 * contract must hold the same ones, not look-alikes.
 */
async function handlerSchemas(handler: string): Promise<Record<string, unknown>> {
  const file = resolve(root, "functions", `${handler}.ts`);
  const source = readFileSync(file, "utf8");
  const call = /httpRoute\(\s*\{([^}]*)\}/.exec(source);
  if (!call) throw new Error(`functions/${handler}.ts does not call httpRoute({ ... })`);
  const schemas: Record<string, unknown> = {};
  for (const entry of (call[1] ?? "")
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)) {
    const [key, identifier = key] = entry.split(":").map((part) => part.trim()) as [string, string?];
    const from = [...source.matchAll(/import\s*\{([^}]*)\}\s*from\s*"([^"]+)"/g)].find((match) =>
      (match[1] ?? "").split(",").some((name) => name.trim() === identifier),
    )?.[2];
    if (!from) throw new Error(`functions/${handler}.ts: cannot find where ${identifier} is imported from`);
    const module = (await import(pathToFileURL(resolve(dirname(file), from)).href)) as Record<
      string,
      unknown
    >;
    schemas[key] = module[identifier];
  }
  return schemas;
}

const sampleNode: Node = {
  ...newNode({ managed_by: "ironic", ironic_node_uuid: "0b7c1e8a-2f3d-4c5e-8a9b-1c2d3e4f5a6b" }),
  intent: null,
  registered_at: "2025-01-01T00:00:00.000Z",
  created_at: "2025-01-01T00:00:00.000Z",
  updated_at: "2025-01-01T00:00:00.000Z",
  version: 3,
};

const samplePodManager: PodManager = {
  uuid: "6f1a9c2e-4b7d-4e8a-9c3f-2d5e7a1b8c40",
  name: "podm1",
  url: "https://192.0.2.10:8443",
  driver: "redfish",
  verify_ca: true,
  status: "online",
  username: "admin",
  credentials_ref: "valence/6f1a9c2e",
  created_at: "2025-01-01T00:00:00.000Z",
  updated_at: "2025-01-01T00:00:00.000Z",
  version: 1,
};

describe("the API contract", () => {
  it("has a complete entry for every route of ROUTES", () => {
    // On failure, each message says which route lacks what, and how the entry looks.
    expect(contractProblems()).toEqual([]);
  });

  it("names a route without an entry and says what to add, without building a document that omits it", () => {
    const route: RouteDefinition = {
      method: "GET",
      path: "/v1/nodes/{id}/widgets",
      handler: "list-widgets",
      summary: "Widgets",
      table: "read",
    };
    const problems = contractProblems([...ROUTES, route]);

    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(
      'GET /v1/nodes/{id}/widgets (handler "list-widgets") has no entry in CONTRACT',
    );
    expect(problems[0]).toContain('"list-widgets": {');
    expect(problems[0]).toContain("params: <the zod schema functions/list-widgets.ts validates {id} with>");
    expect(problems[0]).toContain("npm run docs");
    expect(() => buildOpenApiDocument([...ROUTES, route])).toThrow(/list-widgets/);
  });

  it("flags a params schema that does not match the path's segments, and entries for routes that are gone", () => {
    const getNode = CONTRACT["get-node"] as RouteContract;
    const contract = { ...CONTRACT, "get-node": { ...getNode, params: undefined }, "old-route": getNode };

    const problems = contractProblems(ROUTES, contract);

    expect(problems).toContain(
      'GET /v1/nodes/{id} (handler "get-node"): path segment {id} is not in the contract\'s params schema',
    );
    expect(problems).toContain(
      'CONTRACT entry "old-route" matches no route in ROUTES (lib/api/routes.ts): remove it',
    );
  });

  it.each(documented)("$handler: holds the very schemas its handler validates with", async (route) => {
    const entry = CONTRACT[route.handler] as RouteContract;
    const schemas = await handlerSchemas(route.handler);

    for (const key of ["params", "query", "body"] as const) {
      expect(entry[key], `${route.handler} ${key}`).toBe(schemas[key]);
    }
  });

  it.each(documented)(
    "$handler: its example request validates with the handler's schemas and the document",
    (route) => {
      const entry = CONTRACT[route.handler] as RouteContract;
      const op = operation(route);
      const parse = (schema: z.ZodMiniType | undefined, value: unknown) =>
        schema ? schema.safeParse(value ?? {}).success : value === undefined;

      expect(parse(entry.params, entry.example.params)).toBe(true);
      expect(parse(entry.query, entry.example.query)).toBe(true);
      if (entry.body) {
        expect(entry.body.safeParse(entry.example.body ?? {}).success).toBe(true);
        const schema = op.requestBody?.content["application/json"].schema as JsonSchema;
        expect(validateJson(document, schema, entry.example.body ?? {})).toEqual([]);
      } else expect(entry.example.body).toBeUndefined();
    },
  );
});

describe("the OpenAPI document", () => {
  it("is OpenAPI 3.1 with one operation per deployed route, and no local-only route", () => {
    const operations = Object.values(document.paths).flatMap((item) => Object.values(item));

    expect(document.openapi).toBe("3.1.0");
    expect(operations).toHaveLength(documented.length);
    for (const route of documented) expect(operation(route)["x-valence-handler"]).toBe(route.handler);
    for (const route of ROUTES.filter((candidate) => candidate.localOnly))
      expect(document.paths[route.path]?.[route.method.toLowerCase()]).toBeUndefined();
    const ids = operations.map((op) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(operation(ROUTES.find((r) => r.handler === "register-node") as RouteDefinition).operationId).toBe(
      "registerNode",
    );
  });

  it.each(documented)(
    "$handler: declares every path parameter, a 2xx, 400, 500 and the error body",
    (route) => {
      const op = operation(route);
      const pathParameters = (op.parameters ?? []).filter((parameter) => parameter.in === "path");
      const segments = [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);

      expect(pathParameters.map((parameter) => parameter.name).sort()).toEqual([...segments].sort());
      expect(pathParameters.every((parameter) => parameter.required)).toBe(true);
      expect(Object.keys(op.responses).some((status) => status.startsWith("2"))).toBe(true);
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) >= 400)
          expect(response.content?.["application/json"].schema, `${route.handler} ${status}`).toEqual({
            $ref: "#/components/schemas/Error",
          });
      }
      expect(op.responses["400"]).toBeDefined();
      expect(op.responses["500"]).toBeDefined();
    },
  );

  it("documents query parameters and bodies from the handlers' schemas, input side", () => {
    const list = operation(ROUTES.find((r) => r.handler === "list-nodes") as RouteDefinition);
    const register = operation(ROUTES.find((r) => r.handler === "register-node") as RouteDefinition);
    const action = operation(ROUTES.find((r) => r.handler === "node-action") as RouteDefinition);

    expect(list.parameters?.find((p) => p.name === "limit")).toMatchObject({
      in: "query",
      required: false,
      schema: { type: "integer", minimum: 1, maximum: 1000, default: 1000 },
    });
    expect(list.parameters?.find((p) => p.name === "managed_by")?.schema).toEqual({
      type: "string",
      enum: ["valence", "ironic"],
    });
    // Every register field has a default: the body may be left out.
    expect(register.requestBody?.required).toBe(false);
    const registerSchema = register.requestBody?.content["application/json"].schema as JsonSchema;
    expect(registerSchema.additionalProperties).toBe(false);
    expect((registerSchema.properties as Record<string, JsonSchema>).wait_timeout).toMatchObject({
      type: "integer",
      maximum: 900,
      default: 300,
      description: expect.stringContaining("Seconds"),
    });
    expect(action.requestBody?.required).toBe(true);
    expect(action.requestBody?.content["application/json"].schema.anyOf).toHaveLength(2);
  });

  it("resolves every $ref", () => {
    const refs = [...serializeOpenApiDocument(document).matchAll(/"\$ref": "([^"]+)"/g)].map(
      (m) => m[1] as string,
    );

    expect(refs.length).toBeGreaterThan(20);
    for (const ref of new Set(refs)) {
      const [, , kind, name] = ref.split("/");
      expect(
        (document.components as Record<string, Record<string, unknown>>)[kind as string]?.[name as string],
        ref,
      ).toBeDefined();
    }
  });

  it("is the same whatever the order of ROUTES, so appending a route anywhere changes only its own lines", () => {
    const reversed = buildOpenApiDocument([...ROUTES].reverse());

    expect(serializeOpenApiDocument(reversed)).toBe(serializeOpenApiDocument(document));
  });

  it("describes what the handlers answer: the views validate against the document, extra fields do not", () => {
    const node = toNodeView(sampleNode);
    const podm = toPodManagerView(samplePodManager);
    const error = toErrorBody(new NodeNotFoundError("n1"), "req-1");
    const base = "https://api.example.com";

    expect(validateJson(document, componentSchema("Node"), node)).toEqual([]);
    expect(validateJson(document, componentSchema("PodManager"), podm)).toEqual([]);
    expect(validateJson(document, componentSchema("Error"), error)).toEqual([]);
    expect(validateJson(document, componentSchema("RootDocument"), rootDocument(base))).toEqual([]);
    expect(validateJson(document, componentSchema("V1Document"), v1Document(base))).toEqual([]);
    expect(validateJson(document, componentSchema("Node"), { ...node, version: 3 })).toEqual([
      "$.version: field not in the schema",
    ]);
    expect(validateJson(document, componentSchema("PodManager"), { ...podm, credentials_ref: "x" })).toEqual([
      "$.credentials_ref: field not in the schema",
    ]);
  });

  it("keeps the response schemas' types equal to what the handlers build", () => {
    expectTypeOf<z.infer<typeof NodeView>>().toEqualTypeOf<ReturnType<typeof toNodeView>>();
    // The schema is narrower than the view's type on purpose: the password is always the literal mask.
    expectTypeOf<z.infer<typeof PodManagerView>>().toExtend<ReturnType<typeof toPodManagerView>>();
    expectTypeOf<keyof z.infer<typeof PodManagerView>>().toEqualTypeOf<
      keyof ReturnType<typeof toPodManagerView>
    >();
    expectTypeOf<z.infer<typeof ErrorBodySchema>>().toEqualTypeOf<ErrorBody>();
    expectTypeOf<z.infer<typeof IronicLiveState>>().toEqualTypeOf<IronicView>();
    expectTypeOf<z.infer<typeof HistoryEventSchema>>().toEqualTypeOf<HistoryEvent>();
    expectTypeOf<ReturnType<typeof rootDocument>>().toExtend<z.infer<typeof RootDocumentSchema>>();
    expectTypeOf<ReturnType<typeof v1Document>>().toExtend<z.infer<typeof V1DocumentSchema>>();
    // The runtime half of the same check: a view never carries fields the schema does not list.
    expect(Object.keys(toNodeView(sampleNode)).every((key) => key in NodeView.shape)).toBe(true);
  });
});

describe("validateJson", () => {
  const doc: Pick<OpenApiDocument, "components"> = {
    components: {
      schemas: { Id: { type: "string", format: "uuid" } },
      headers: {},
      securitySchemes: {},
    },
  };
  const schema: JsonSchema = {
    type: "object",
    properties: {
      id: { $ref: "#/components/schemas/Id" },
      count: { type: "integer", minimum: 1, maximum: 5 },
      kind: { type: "string", enum: ["a", "b"] },
      name: { type: "string", minLength: 2, pattern: "^[a-z]+$" },
      tags: { type: "array", items: { type: "string" }, maxItems: 2 },
      parent: { anyOf: [{ type: "string" }, { type: "null" }] },
      auth: { type: "string", const: "basic" },
    },
    required: ["id", "count"],
    additionalProperties: false,
  };
  const valid = { id: "6f1a9c2e-4b7d-4e8a-9c3f-2d5e7a1b8c40", count: 2, kind: "a", name: "ab", tags: ["x"] };

  it("accepts a valid value, null where anyOf allows it", () => {
    expect(validateJson(doc, schema, { ...valid, parent: null, auth: "basic" })).toEqual([]);
  });

  it.each([
    [{ ...valid, id: "nope" }, '$.id: "nope" is not a valid uuid'],
    [{ ...valid, count: 1.5 }, "$.count: expected integer, got number"],
    [{ ...valid, count: 9 }, "$.count: above 5"],
    [{ ...valid, kind: "c" }, '$.kind: "c" is not one of ["a","b"]'],
    [{ ...valid, name: "a" }, "$.name: shorter than 2"],
    [{ ...valid, name: "AB" }, "$.name: does not match ^[a-z]+$"],
    [{ ...valid, tags: ["x", "y", "z"] }, "$.tags: more than 2 items"],
    [{ ...valid, tags: [1] }, "$.tags[0]: expected string, got number"],
    [
      { ...valid, parent: 3 },
      "$.parent: matches none of anyOf (closest: $.parent: expected string, got number)",
    ],
    [{ ...valid, auth: "digest" }, '$.auth: expected "basic", got "digest"'],
    [{ ...valid, extra: true }, "$.extra: field not in the schema"],
    [{ count: 2 }, '$: missing required field "id"'],
    [[], "$: expected object, got array"],
  ])("rejects %j", (value, problem) => {
    expect(validateJson(doc, schema, value)).toContain(problem);
  });

  it("refuses keywords outside the subset instead of ignoring them", () => {
    expect(() => validateJson(doc, { type: "object", dependentRequired: {} }, {})).toThrow(
      /dependentRequired/,
    );
    expect(() => validateJson(doc, { type: "string", format: "email" }, "a@b")).toThrow(/format "email"/);
  });
});
