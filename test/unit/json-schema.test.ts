import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type JsonSchema, OPENAPI_JSON_PATH, type OpenApiDocument } from "../../lib/api/openapi.ts";
import { documentValidator, resolveRef } from "../support/json-schema.ts";

/** The committed reference, the same file `GET /v1/openapi.json` serves. */
const document = JSON.parse(readFileSync(OPENAPI_JSON_PATH, "utf8")) as OpenApiDocument;

function responseSchema(path: string, method: string, status: number): JsonSchema {
  const schema =
    document.paths[path]?.[method]?.responses[String(status)]?.content?.["application/json"].schema;
  if (!schema) throw new Error(`the document has no ${status} body for ${method} ${path}`);
  return schema;
}

describe("documentValidator (ajv, JSON Schema 2020-12) on the generated OpenAPI document", () => {
  const validate = documentValidator(document);
  const notFound = responseSchema("/v1/nodes/{id}", "get", 404);
  const podManager = responseSchema("/v1/pod_managers/{id}", "get", 200);
  const podManagers = responseSchema("/v1/pod_managers", "get", 200);

  const error = {
    request_id: "req-1",
    code: "NodeNotFound",
    status: 404,
    title: "Not Found",
    detail: "node n1 not found",
  };
  const podm = {
    uuid: "6f1a9c2e-4b7d-4e8a-9c3f-2d5e7a1b8c40",
    name: "podm-1",
    url: "https://podm.example.com",
    driver: "redfish",
    verify_ca: true,
    status: "online",
    created_at: "2026-01-01T00:00:00.000Z",
    updated_at: "2026-01-01T00:00:00.000Z",
    authentication: [{ type: "basic", auth_items: { username: "admin", password: "***" } }],
    conductor_group: "rack-7",
    shard: null,
    owner: null,
    lessee: null,
    automated_clean: true,
    resource_class: null,
    boot_interface: "redfish-virtual-media",
    deploy_interface: null,
  };

  it("accepts a valid response body, through the document's $refs", () => {
    expect(notFound).toEqual({ $ref: "#/components/schemas/Error" });

    expect(validate(notFound, error)).toEqual([]);
    expect(validate(podManager, podm)).toEqual([]);
    expect(validate(podManagers, [podm, { ...podm, name: "podm-2" }])).toEqual([]);
  });

  it("rejects a body missing a required field", () => {
    const { detail: _detail, ...missing } = error;

    expect(validate(notFound, missing)).toEqual(['$: missing required field "detail"']);
  });

  it("rejects a field of the wrong type", () => {
    expect(validate(notFound, { ...error, status: "404" })).toEqual(["$.status: must be integer"]);
    expect(validate(podManagers, [podm, { ...podm, verify_ca: "yes" }])).toEqual([
      "$[1].verify_ca: must be boolean",
    ]);
  });

  it("rejects a field the schema does not list where additionalProperties is false", () => {
    expect(validate(notFound, { ...error, stack: "at handler" })).toEqual([
      "$.stack: not in the schema (additionalProperties is false)",
    ]);
    expect(validate(podManager, { ...podm, credentials_ref: "valence/podm-1" })).toEqual([
      "$.credentials_ref: not in the schema (additionalProperties is false)",
    ]);
  });

  it("checks nested schemas, enums, consts and bounds", () => {
    const leaked = {
      ...podm,
      authentication: [{ type: "basic", auth_items: { username: "a", password: "s" } }],
    };

    expect(validate(podManager, leaked)).toEqual(['$.authentication[0].auth_items.password: must be "***"']);
    expect(validate(podManager, { ...podm, driver: "ipmi" })).toEqual([
      '$.driver: must be one of ["redfish","rsd"]',
    ]);
    expect(validate(notFound, { ...error, status: 200 })).toEqual(["$.status: must be >= 400"]);
    expect(validate(notFound, [])).toEqual(["$: must be object"]);
  });

  it("compiles every schema of the document in strict mode: no keyword or format is silently ignored", () => {
    const schemas: JsonSchema[] = Object.keys(document.components.schemas).map((name) =>
      resolveRef(document, `#/components/schemas/${name}`),
    );
    for (const item of Object.values(document.paths)) {
      for (const operation of Object.values(item)) {
        for (const parameter of operation.parameters ?? []) schemas.push(parameter.schema);
        const body = operation.requestBody?.content["application/json"].schema;
        if (body) schemas.push(body);
        for (const response of Object.values(operation.responses)) {
          const schema = response.content?.["application/json"].schema;
          if (schema) schemas.push(schema);
        }
      }
    }

    expect(schemas.length).toBeGreaterThan(60);
    for (const schema of schemas) expect(() => validate(schema, null)).not.toThrow();
  });

  it("throws on a keyword or format it does not know, instead of passing the value", () => {
    expect(() => validate({ type: "object", dependentRequiredTypo: {} }, {})).toThrow(
      /dependentRequiredTypo/,
    );
    expect(() => validate({ type: "string", format: "email" }, "a@b")).toThrow(/email/);
    expect(() => validate({ $ref: "https://example.com/schema" }, {})).toThrow(/unsupported reference/);
  });
});

describe("documentValidator, keyword by keyword", () => {
  const validate = documentValidator({ components: { schemas: { Id: { type: "string", format: "uuid" } } } });
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
      url: { type: "string", format: "uri" },
    },
    required: ["id", "count"],
    additionalProperties: false,
  };
  const valid = { id: "6f1a9c2e-4b7d-4e8a-9c3f-2d5e7a1b8c40", count: 2, kind: "a", name: "ab", tags: ["x"] };

  it("accepts a valid value, null where anyOf allows it", () => {
    expect(
      validate(schema, { ...valid, parent: null, auth: "basic", url: "https://podm.example.com/redfish" }),
    ).toEqual([]);
  });

  it.each([
    [{ ...valid, id: "nope" }, '$.id: must match format "uuid"'],
    [{ ...valid, url: "not a url" }, '$.url: must match format "uri"'],
    [{ ...valid, count: 1.5 }, "$.count: must be integer"],
    [{ ...valid, count: 9 }, "$.count: must be <= 5"],
    [{ ...valid, kind: "c" }, '$.kind: must be one of ["a","b"]'],
    [{ ...valid, name: "a" }, "$.name: must NOT have fewer than 2 characters"],
    [{ ...valid, name: "AB" }, '$.name: must match pattern "^[a-z]+$"'],
    [{ ...valid, tags: ["x", "y", "z"] }, "$.tags: must NOT have more than 2 items"],
    [{ ...valid, tags: [1] }, "$.tags[0]: must be string"],
    [{ ...valid, parent: 3 }, "$.parent: must match a schema in anyOf"],
    [{ ...valid, auth: "digest" }, '$.auth: must be "basic"'],
    [{ ...valid, extra: true }, "$.extra: not in the schema (additionalProperties is false)"],
    [{ count: 2 }, '$: missing required field "id"'],
    [[], "$: must be object"],
  ])("rejects %j", (value, problem) => {
    expect(validate(schema, value)).toContain(problem);
  });
});
