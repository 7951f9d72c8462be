import { describe, expect, expectTypeOf, it } from "vitest";
import type * as z from "zod/mini";
import { CONTRACT, type RouteContract } from "../../lib/api/contract.ts";
import {
  buildOpenApiDocument,
  contractProblems,
  exampleOf,
  type JsonSchema,
  serializeOpenApiDocument,
} from "../../lib/api/openapi.ts";
import {
  type ErrorBodySchema,
  type HistoryEventSchema,
  IronicLiveState,
  NodeView,
  OperationView,
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
import {
  DEFAULT_OPERATION_DEADLINE_MS,
  initialOperation,
  type Operation,
  toOperationView,
} from "../../lib/operations/model.ts";
import { type PodManager, toPodManagerView } from "../../lib/podmanagers/model.ts";
import { newNode } from "../support/fixtures.ts";
import { documentValidator } from "../support/json-schema.ts";

const documented = ROUTES.filter((route) => !route.localOnly);
const document = buildOpenApiDocument();
const validateJson = documentValidator(document);

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

const sampleNode: Node = {
  ...newNode({ managed_by: "ironic", ironic_node_uuid: "0b7c1e8a-2f3d-4c5e-8a9b-1c2d3e4f5a6b" }),
  intent: null,
  registered_at: "2025-01-01T00:00:00.000Z",
  created_at: "2025-01-01T00:00:00.000Z",
  updated_at: "2025-01-01T00:00:00.000Z",
  version: 3,
};

/** An operation part-way: its first step done, the second waiting on Ironic's cleaning. */
const sampleOperation: Operation = (() => {
  const at = new Date("2025-01-01T00:00:00.000Z");
  const operation = initialOperation(
    {
      id: "3c9e1f4a-7b2d-4e6f-8a1c-5d0b9e2f7a63",
      node_uuid: sampleNode.uuid,
      node_name: sampleNode.name,
      kind: "register",
      steps: ["manage", "provide"],
      request_id: "req-1",
      principal: "anonymous",
    },
    at,
    DEFAULT_OPERATION_DEADLINE_MS,
  );
  const [manage, provide] = operation.steps as [Operation["steps"][0], Operation["steps"][0]];
  return {
    ...operation,
    state: "running",
    steps: [
      { ...manage, state: "succeeded", started_at: at.toISOString(), finished_at: at.toISOString() },
      {
        ...provide,
        state: "running",
        started_at: at.toISOString(),
        provision_state: "clean wait",
        target_provision_state: "available",
      },
    ],
  };
})();

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
  it("has a complete reference for every route of ROUTES", () => {
    // On failure, each message says which route lacks what, and how the entry looks.
    expect(contractProblems()).toEqual([]);
  });

  it("names a route without a reference and says what to add, without building a document that omits it", () => {
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
      'GET /v1/nodes/{id}/widgets (handler "list-widgets") has no reference. Add it to lib/api/routes/list-widgets.ts',
    );
    expect(problems[0]).toContain("export function reference(): RouteReference {");
    expect(problems[0]).toContain("npm run docs");
    expect(() => buildOpenApiDocument([...ROUTES, route])).toThrow(/list-widgets/);
  });

  it("flags a params schema that does not match the path's segments, and entries for routes that are gone", () => {
    const getNode = CONTRACT["get-node"] as RouteContract;
    const contract = { ...CONTRACT, "get-node": { ...getNode, params: undefined }, "old-route": getNode };

    const problems = contractProblems(ROUTES, contract);

    expect(problems).toContain(
      'GET /v1/nodes/{id} (handler "get-node"): path segment {id} is not in the definition\'s params schema',
    );
    expect(problems).toContain('the contract entry "old-route" matches no route of ROUTES: remove it');
  });

  it("flags a route example for a path that is not one of the handler's routes", () => {
    const getNode = CONTRACT["get-node"] as RouteContract;
    const contract = {
      ...CONTRACT,
      "get-node": { ...getNode, routeExamples: { "/v1/nodes/{id}/clean": getNode.example } },
    };

    expect(contractProblems(ROUTES, contract)).toEqual([
      'the reference of "get-node" has an example for /v1/nodes/{id}/clean, which is not one of its routes',
    ]);
  });

  it.each(documented)(
    "$handler: its example request validates with the handler's schemas and the document",
    (route) => {
      const entry = CONTRACT[route.handler] as RouteContract;
      const example = exampleOf(route, entry);
      const op = operation(route);
      const parse = (schema: z.ZodMiniType | undefined, value: unknown) =>
        schema ? schema.safeParse(value ?? {}).success : value === undefined;

      expect(parse(entry.params, example.params)).toBe(true);
      expect(parse(entry.query, example.query)).toBe(true);
      if (entry.body) {
        expect(entry.body.safeParse(example.body ?? {}).success).toBe(true);
        const schema = op.requestBody?.content["application/json"].schema as JsonSchema;
        expect(validateJson(schema, example.body ?? {})).toEqual([]);
      } else expect(example.body).toBeUndefined();
    },
  );
});

describe("Ironic's live state", () => {
  it("is the reconciler's cached Ironic state without synced_at", () => {
    const live = { provision_state: "active", power_state: null, maintenance: false, last_error: null };

    expect(IronicLiveState.parse({ ...live, synced_at: "2026-01-01T00:00:00Z" })).toEqual(live);
    expect(IronicLiveState.safeParse({ ...live, maintenance: "no" }).success).toBe(false);
  });
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
    // The operation's deadline: up to 7 days, and no default of its own (the deployment's applies).
    const waitTimeout = (registerSchema.properties as Record<string, JsonSchema>).wait_timeout as JsonSchema;
    expect(waitTimeout).toMatchObject({
      type: "integer",
      minimum: 1,
      maximum: 7 * 24 * 60 * 60,
      description: expect.stringContaining("deadline"),
    });
    expect(waitTimeout.default).toBeUndefined();
    expect(registerSchema.required).toBeUndefined();
    expect(Object.keys(registerSchema.properties as object)).toEqual(
      expect.arrayContaining(["manage", "inspect", "provide"]),
    );
    expect(action.requestBody?.required).toBe(true);
    expect(action.requestBody?.content["application/json"].schema.anyOf).toHaveLength(2);
  });

  it("documents a register's 200 without lifecycle steps and its 202 with an operation, Location and Retry-After", () => {
    const register = operation(ROUTES.find((r) => r.handler === "register-node") as RouteDefinition);

    // A register answers the node; a dry run (`dry_run=true`) its plan.
    expect(register.responses["200"]?.content?.["application/json"].schema).toEqual({
      anyOf: [{ $ref: "#/components/schemas/RegisteredNode" }, { $ref: "#/components/schemas/RegisterPlan" }],
    });
    expect(register.responses["202"]?.content?.["application/json"].schema).toEqual({
      $ref: "#/components/schemas/RegisterAccepted",
    });
    expect(Object.keys(register.responses["202"]?.headers ?? {}).sort()).toEqual([
      "Location",
      "Retry-After",
      "X-Request-Id",
    ]);
    expect(register.responses["504"]).toBeUndefined();
    expect(register.responses["409"]?.description).toContain("OperationInProgress");
    expect(register.responses["503"]?.description).toContain("OperationNotStarted");
    expect(componentSchema("RegisterAccepted").properties).toMatchObject({
      operation: { $ref: "#/components/schemas/Operation" },
    });
  });

  it("gives each lifecycle action its own operation id and example, all answering 202 with the operation", () => {
    const actions = ROUTES.filter((route) => route.handler === "start-node-operation");
    const ops = actions.map(operation);

    expect(actions.map((route) => route.path)).toEqual([
      "/v1/nodes/{id}/manage",
      "/v1/nodes/{id}/provide",
      "/v1/nodes/{id}/inspect",
      "/v1/nodes/{id}/clean",
    ]);
    expect(ops.map((op) => op.operationId)).toEqual([
      "startNodeOperationManage",
      "startNodeOperationProvide",
      "startNodeOperationInspect",
      "startNodeOperationClean",
    ]);
    for (const op of ops) {
      expect(op.tags).toEqual(["operations"]);
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["202", "404", "409", "503"]));
      expect(op.responses["202"]?.content?.["application/json"].schema).toEqual({
        $ref: "#/components/schemas/Operation",
      });
      expect(Object.keys(op.responses["202"]?.headers ?? {})).toEqual(
        expect.arrayContaining(["Location", "Retry-After"]),
      );
    }
    expect(ops[3]?.requestBody?.content["application/json"].example).toEqual({
      clean_steps: [{ interface: "deploy", step: "erase_devices_metadata" }],
    });
    expect(ops[1]?.requestBody?.content["application/json"].example).toEqual({ wait_timeout: 3600 });
  });

  it("documents showing, listing and cancelling operations", () => {
    const byHandler = (handler: string) =>
      operation(ROUTES.find((r) => r.handler === handler) as RouteDefinition);
    const show = byHandler("get-operation");
    const list = byHandler("list-node-operations");
    const cancel = byHandler("cancel-operation");

    expect(show.parameters?.[0]).toMatchObject({ name: "id", in: "path", schema: { format: "uuid" } });
    expect(show.responses["200"]?.content?.["application/json"].schema).toEqual({
      $ref: "#/components/schemas/Operation",
    });
    expect(list.responses["200"]?.content?.["application/json"].schema).toEqual({
      type: "array",
      items: { $ref: "#/components/schemas/Operation" },
    });
    expect(Object.keys(list.responses["200"]?.headers ?? {})).toContain("Link");
    expect(list.parameters?.map((p) => p.name)).toEqual(["id", "limit", "marker"]);
    expect(cancel.responses["202"]?.content?.["application/json"].schema).toEqual({
      $ref: "#/components/schemas/Operation",
    });
    expect(cancel.responses["409"]?.description).toContain("OperationState");
    expect(cancel.responses["404"]?.description).toContain("OperationNotFound");
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

    expect(validateJson(componentSchema("Node"), node)).toEqual([]);
    expect(validateJson(componentSchema("PodManager"), podm)).toEqual([]);
    expect(validateJson(componentSchema("Error"), error)).toEqual([]);
    expect(validateJson(componentSchema("RootDocument"), rootDocument(base))).toEqual([]);
    expect(validateJson(componentSchema("V1Document"), v1Document(base))).toEqual([]);
    expect(validateJson(componentSchema("Node"), { ...node, version: 3 })).toEqual([
      "$.version: not in the schema (additionalProperties is false)",
    ]);
    const op = toOperationView(sampleOperation);
    const ironic = { provision_state: "enroll", power_state: null, maintenance: false, last_error: null };
    expect(validateJson(componentSchema("Operation"), op)).toEqual([]);
    expect(
      validateJson(componentSchema("Operation"), {
        ...op,
        arguments: { clean_steps: [{ interface: "deploy", step: "erase_devices_metadata", args: {} }] },
      }),
    ).toEqual([]);
    expect(validateJson(componentSchema("RegisterAccepted"), { ...node, ironic, operation: op })).toEqual([]);
    expect(validateJson(componentSchema("Operation"), { ...op, version: 1 })).toEqual([
      "$.version: not in the schema (additionalProperties is false)",
    ]);
    expect(validateJson(componentSchema("Operation"), { ...op, state: "done" })).toHaveLength(1);
    expect(
      validateJson(componentSchema("RegisterAccepted"), { ...node, ironic, operation: null }),
    ).not.toEqual([]);
    expect(validateJson(componentSchema("PodManager"), { ...podm, credentials_ref: "x" })).toEqual([
      "$.credentials_ref: not in the schema (additionalProperties is false)",
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
    expectTypeOf<z.infer<typeof OperationView>>().toEqualTypeOf<ReturnType<typeof toOperationView>>();
    expectTypeOf<ReturnType<typeof rootDocument>>().toExtend<z.infer<typeof RootDocumentSchema>>();
    expectTypeOf<ReturnType<typeof v1Document>>().toExtend<z.infer<typeof V1DocumentSchema>>();
    // The runtime half of the same check: a view never carries fields the schema does not list.
    expect(Object.keys(toNodeView(sampleNode)).every((key) => key in NodeView.shape)).toBe(true);
    expect(Object.keys(toOperationView(sampleOperation)).every((key) => key in OperationView.shape)).toBe(
      true,
    );
  });
});
