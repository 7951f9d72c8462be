/**
 * The OpenAPI 3.1 document of the API, built from the route table (`./routes.ts`) and the contract
 * (`./contract.ts`) with `z.toJSONSchema`: the zod schemas the handlers validate with are the only source.
 * `npm run docs` writes it to `docs/api-ref/openapi.json`; `GET /v1/openapi.json` serves that file.
 *
 * Tests check real requests and responses against the document with ajv (`test/support/json-schema.ts`).
 */
import * as z from "zod/mini";
import { CONTRACT, type RequestExample, type ResponseContract, type RouteContract } from "./contract.ts";
import { RESPONSE_COMPONENTS, RESPONSE_FIELDS } from "./responses.ts";
import { ROUTES, type RouteDefinition } from "./routes.ts";
import { API_VERSION } from "./versions.ts";

export type JsonSchema = { [keyword: string]: unknown };

export interface OpenApiParameter {
  name: string;
  in: "path" | "query";
  required: boolean;
  description?: string;
  schema: JsonSchema;
  example?: string;
}

export interface OpenApiResponse {
  description: string;
  headers?: Record<string, unknown>;
  content?: { "application/json": { schema: JsonSchema } };
}

export interface OpenApiOperation {
  operationId: string;
  summary: string;
  description: string;
  tags: string[];
  parameters?: OpenApiParameter[];
  requestBody?: {
    required: boolean;
    content: { "application/json": { schema: JsonSchema; example?: unknown } };
  };
  responses: Record<string, OpenApiResponse>;
  "x-valence-handler": string;
}

export interface OpenApiDocument {
  openapi: "3.1.0";
  info: {
    title: string;
    version: string;
    description: string;
    license: { name: string; identifier: string };
  };
  servers: { url: string; description?: string }[];
  tags: { name: string; description: string }[];
  security: Record<string, string[]>[];
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: {
    schemas: Record<string, JsonSchema>;
    headers: Record<string, unknown>;
    securitySchemes: Record<string, unknown>;
  };
}

/** Where the committed document lives, relative to the repository root. */
export const OPENAPI_JSON_PATH = "docs/api-ref/openapi.json";
export const LOCAL_SERVER = "http://127.0.0.1:8181";

const COMPONENT_PREFIX = "#/components/schemas/";
const REQUEST_ID_HEADER = { $ref: "#/components/headers/X-Request-Id" };
const METHOD_ORDER = ["get", "post", "put", "patch", "delete"];

const DEFAULT_ERRORS: Readonly<Record<number, string>> = {
  400:
    "The request does not validate: bad JSON, a body that is not a JSON object, fields on a route that takes " +
    "none (an empty body or `{}` is always accepted), a wrong type, an unknown field, a string too long or an " +
    "out-of-range value. `detail` names each field at fault and what it expects.",
  500:
    "An unexpected error, or the service is misconfigured (`ServerMisconfigured`); `detail` is generic and " +
    "`request_id` finds it in the logs.",
};

const TAGS: OpenApiDocument["tags"] = [
  { name: "versions", description: "What this service offers." },
  { name: "pod managers", description: "The Redfish services Valence composes nodes on." },
  { name: "nodes", description: "Composed systems, and their registration into Ironic." },
  {
    name: "operations",
    description:
      "Ironic's long lifecycle (verification, inspection, cleaning), run durably: a request that starts one " +
      "answers 202 with the operation, `Location` its URL and `Retry-After` when to look again. One operation " +
      "per node at a time.",
  },
];

/**
 * `register-node` → `registerNode`. A handler that serves several routes gets the last segment of each route's
 * path too (`start-node-operation` of `/v1/nodes/{id}/clean` → `startNodeOperationClean`), so every operation has
 * its own id.
 */
function operationId(route: RouteDefinition, routes: readonly RouteDefinition[]): string {
  const camel = (text: string) =>
    text.replace(/-([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase());
  const shared = routes.filter((other) => other.handler === route.handler && !other.localOnly).length > 1;
  if (!shared) return camel(route.handler);
  const last = route.path.slice(route.path.lastIndexOf("/") + 1).replace(/[{}]/g, "");
  return camel(`${route.handler}-${last}`);
}

function pathParameterNames(path: string): string[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1] as string);
}

function referenceTemplate(_route: RouteDefinition): string {
  return [
    `export function reference(): RouteReference {`,
    `  return {`,
    `    tag: "nodes" | "operations" | "pod managers" | "versions",`,
    `    description: "...",`,
    `    responses: { <status>: { description: "...", schema: <a response schema from lib/api/responses.ts> } },`,
    `    errors: { <4xx/5xx status>: "when it happens" },`,
    `    example: { params: {...}, query: {...}, body: {...} },`,
    `  };`,
    `}`,
  ].join("\n");
}

/**
 * Everything wrong between the route table and the contract, as messages that say what to change. Empty when
 * every route has a complete, consistent entry.
 */
export function contractProblems(
  routes: readonly RouteDefinition[] = ROUTES,
  contract: Readonly<Record<string, RouteContract>> = CONTRACT,
): string[] {
  const problems: string[] = [];
  const handlers = new Set(routes.map((route) => route.handler));
  // Local-only routes are not part of the deployed API, nor of its reference.
  for (const route of routes.filter((candidate) => !candidate.localOnly)) {
    const entry = contract[route.handler];
    const where = `${route.method} ${route.path} (handler "${route.handler}")`;
    if (!entry) {
      problems.push(
        `${where} has no reference. Add it to lib/api/routes/${route.handler}.ts:\n` +
          `${referenceTemplate(route)}\nthen run \`npm run docs\` to regenerate docs/api-ref.`,
      );
      continue;
    }
    const templated = pathParameterNames(route.path);
    const declared = entry.params ? Object.keys(objectProperties(toJsonSchema(entry.params, "input"))) : [];
    for (const name of templated) {
      if (!declared.includes(name))
        problems.push(`${where}: path segment {${name}} is not in the definition's params schema`);
    }
    for (const name of declared) {
      if (!templated.includes(name))
        problems.push(`${where}: params field "${name}" is not a {${name}} segment of the path`);
    }
    const statuses = Object.keys(entry.responses).map(Number);
    if (!statuses.some((status) => status >= 200 && status < 300))
      problems.push(`${where}: the reference lists no 2xx response`);
    for (const status of Object.keys(entry.errors).map(Number)) {
      if (status < 400 || status > 599) problems.push(`${where}: error status ${status} is not a 4xx or 5xx`);
    }
  }
  for (const [handler, entry] of Object.entries(contract)) {
    for (const path of Object.keys(entry.routeExamples ?? {})) {
      if (!routes.some((route) => route.handler === handler && route.path === path))
        problems.push(
          `the reference of "${handler}" has an example for ${path}, which is not one of its routes`,
        );
    }
    if (!handlers.has(handler))
      problems.push(`the contract entry "${handler}" matches no route of ROUTES: remove it`);
  }
  return problems;
}

/** zod → JSON Schema, without the `$schema`/`$id` keywords that do not belong inside an OpenAPI document. */
function toJsonSchema(schema: z.ZodMiniType, io: "input" | "output"): JsonSchema {
  const converted = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as JsonSchema;
  return stripMeta(structuredClone(converted));
}

function stripMeta(schema: JsonSchema): JsonSchema {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}

function objectProperties(schema: JsonSchema): Record<string, JsonSchema> {
  return (schema.properties ?? {}) as Record<string, JsonSchema>;
}

/** Finds the subschema at a dotted path (`properties.cpus`, `authentication[].type`), looking into `anyOf`. */
function subschemaAt(schema: JsonSchema, path: string): JsonSchema | undefined {
  let current: JsonSchema | undefined = schema;
  for (const segment of path.split(".")) {
    const isArray = segment.endsWith("[]");
    const name = isArray ? segment.slice(0, -2) : segment;
    current = current ? propertyOf(current, name) : undefined;
    if (current && isArray) current = itemsOf(current);
  }
  return current;
}

function propertyOf(schema: JsonSchema, name: string): JsonSchema | undefined {
  const own = objectProperties(schema)[name];
  if (own) return own;
  for (const branch of (schema.anyOf ?? []) as JsonSchema[]) {
    const found = propertyOf(branch, name);
    if (found) return found;
  }
  return undefined;
}

function itemsOf(schema: JsonSchema): JsonSchema | undefined {
  if (schema.items) return schema.items as JsonSchema;
  for (const branch of (schema.anyOf ?? []) as JsonSchema[]) {
    const found = itemsOf(branch);
    if (found) return found;
  }
  return undefined;
}

function describeFields(
  schema: JsonSchema,
  fields: Readonly<Record<string, string>>,
  where: string,
): JsonSchema {
  for (const [path, description] of Object.entries(fields)) {
    const target = subschemaAt(schema, path);
    if (!target) throw new Error(`${where}: described field "${path}" does not exist in the schema`);
    target.description = description;
  }
  return schema;
}

/** Response schemas: named ones become components; the others are inlined with `$ref`s to the named ones. */
function responseSchemas(contract: Readonly<Record<string, RouteContract>>) {
  const registry = z.registry<{ id: string }>();
  const names = new Map<z.ZodMiniType, string>();
  for (const [name, schema] of Object.entries(RESPONSE_COMPONENTS)) {
    registry.add(schema, { id: name });
    names.set(schema, name);
  }
  let inlineCount = 0;
  for (const entry of Object.values(contract)) {
    for (const response of Object.values(entry.responses) as ResponseContract[]) {
      if (response.schema && !names.has(response.schema)) {
        const id = `__inline${inlineCount++}`;
        registry.add(response.schema, { id });
        names.set(response.schema, id);
      }
    }
  }
  const converted = z.toJSONSchema(registry, {
    io: "output",
    unrepresentable: "any",
    uri: (id) => `${COMPONENT_PREFIX}${id}`,
  }).schemas as Record<string, JsonSchema>;
  const components: Record<string, JsonSchema> = {};
  const inline = new Map<string, JsonSchema>();
  for (const [id, schema] of Object.entries(converted)) {
    const clean = stripMeta(structuredClone(schema));
    if (id.startsWith("__inline")) inline.set(id, clean);
    else components[id] = describeFields(clean, RESPONSE_FIELDS[id] ?? {}, `components.schemas.${id}`);
  }
  return {
    components,
    schemaFor(schema: z.ZodMiniType): JsonSchema {
      const id = names.get(schema) as string;
      return inline.get(id) ?? { $ref: `${COMPONENT_PREFIX}${id}` };
    },
  };
}

function parametersOf(
  location: "path" | "query",
  schema: z.ZodMiniType | undefined,
  entry: RouteContract,
  example: Readonly<Record<string, string>> | undefined,
): OpenApiParameter[] {
  if (!schema) return [];
  const json = toJsonSchema(schema, "input");
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(objectProperties(json)).map(([name, property]) => {
    const { description: _description, ...propertySchema } = property;
    const description = entry.fields?.[name];
    return {
      name,
      in: location,
      required: location === "path" || required.has(name),
      ...(description ? { description } : {}),
      schema: propertySchema,
      ...(example?.[name] === undefined ? {} : { example: example[name] }),
    };
  });
}

function errorResponse(description: string): OpenApiResponse {
  return {
    description,
    headers: { "X-Request-Id": REQUEST_ID_HEADER },
    content: { "application/json": { schema: { $ref: `${COMPONENT_PREFIX}Error` } } },
  };
}

/** The example request of `route`: its own when the contract has one for its path, else the entry's. */
export function exampleOf(route: RouteDefinition, entry: RouteContract): RequestExample {
  return entry.routeExamples?.[route.path] ?? entry.example;
}

function operationOf(
  route: RouteDefinition,
  routes: readonly RouteDefinition[],
  entry: RouteContract,
  schemaFor: (schema: z.ZodMiniType) => JsonSchema,
): OpenApiOperation {
  const where = `${route.method} ${route.path}`;
  const example = exampleOf(route, entry);
  const parameters = [
    ...parametersOf("path", entry.params, entry, example.params),
    ...parametersOf("query", entry.query, entry, example.query),
  ];
  const bodyFields = Object.fromEntries(
    Object.entries(entry.fields ?? {}).filter(
      ([path]) => !parameters.some((parameter) => parameter.name === path),
    ),
  );
  const responses: Record<string, OpenApiResponse> = {};
  for (const [status, response] of Object.entries(entry.responses) as [string, ResponseContract][]) {
    const headers: Record<string, unknown> = { "X-Request-Id": REQUEST_ID_HEADER };
    for (const [name, description] of Object.entries(response.headers ?? {}))
      headers[name] = { description, schema: { type: "string" } };
    responses[status] = {
      description: response.description,
      headers,
      ...(response.schema ? { content: { "application/json": { schema: schemaFor(response.schema) } } } : {}),
    };
  }
  for (const [status, description] of Object.entries({ ...DEFAULT_ERRORS, ...entry.errors }))
    responses[status] = errorResponse(description);
  return {
    operationId: operationId(route, routes),
    summary: route.summary,
    description: entry.description,
    tags: [entry.tag],
    ...(parameters.length ? { parameters } : {}),
    ...(entry.body
      ? {
          requestBody: {
            // httpRoute validates `{}` when no body is sent: the body is optional exactly when `{}` is valid.
            required: !entry.body.safeParse({}).success,
            content: {
              "application/json": {
                schema: describeFields(toJsonSchema(entry.body, "input"), bodyFields, `${where} body`),
                ...(example.body === undefined ? {} : { example: example.body }),
              },
            },
          },
        }
      : {}),
    responses,
    "x-valence-handler": route.handler,
  };
}

/**
 * The OpenAPI document of `routes`. Throws, naming what to add, when a route lacks its contract entry: the
 * reference never silently leaves a route out.
 */
export function buildOpenApiDocument(
  routes: readonly RouteDefinition[] = ROUTES,
  contract: Readonly<Record<string, RouteContract>> = CONTRACT,
): OpenApiDocument {
  const problems = contractProblems(routes, contract);
  if (problems.length) throw new Error(`the API contract is incomplete:\n${problems.join("\n")}`);
  const { components, schemaFor } = responseSchemas(contract);
  const paths: OpenApiDocument["paths"] = {};
  for (const route of routes.filter((candidate) => !candidate.localOnly)) {
    const entry = contract[route.handler] as RouteContract;
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, OpenApiOperation>)[route.method.toLowerCase()] = operationOf(
      route,
      routes,
      entry,
      schemaFor,
    );
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Valence API",
      version: API_VERSION.max,
      description:
        "Valence registers nodes composed by Redfish pod managers into OpenStack Ironic. Every error answers " +
        "Valence's error body (`Error`) with the request id also in `X-Request-Id`. The deployed API (API " +
        "Gateway) requires IAM authorization: sign requests with SigV4 for the `execute-api` service. The local " +
        "stack (`npm start`) takes unsigned requests.",
      license: { name: "Apache-2.0", identifier: "Apache-2.0" },
    },
    servers: [{ url: LOCAL_SERVER, description: "The local stack (`npm start`)" }],
    tags: TAGS,
    security: [{ sigv4: [] }],
    paths,
    components: {
      schemas: components,
      headers: {
        "X-Request-Id": {
          description: "The request's id; the same as `request_id` in an error body.",
          schema: { type: "string" },
        },
      },
      securitySchemes: {
        sigv4: {
          type: "apiKey",
          in: "header",
          name: "Authorization",
          description: "AWS Signature Version 4 for service `execute-api` (API Gateway IAM authorization).",
          "x-amazon-apigateway-authtype": "awsSigv4",
        },
      },
    },
  };
}

type KeyOrder = "sorted" | "declared" | "methods";

/**
 * Keys sorted at every level so that routes appended anywhere in ROUTES give the same file — except the field
 * order of `properties` (readers expect the schema's order), HTTP order for the methods of a path, and examples
 * (kept as written).
 */
export function canonicalize(value: unknown, order: KeyOrder = "sorted"): unknown {
  if (Array.isArray(value))
    return value.map((item) => canonicalize(item, order === "declared" ? order : "sorted"));
  if (value === null || typeof value !== "object") return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (order === "sorted") entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (order === "methods") entries.sort(([a], [b]) => METHOD_ORDER.indexOf(a) - METHOD_ORDER.indexOf(b));
  return Object.fromEntries(
    entries.map(([key, item]) => {
      if (order === "declared") return [key, canonicalize(item, "declared")];
      if (key === "example") return [key, canonicalize(item, "declared")];
      if (
        key === "properties" &&
        order === "sorted" &&
        item &&
        typeof item === "object" &&
        !Array.isArray(item)
      )
        return [
          key,
          Object.fromEntries(Object.entries(item).map(([name, field]) => [name, canonicalize(field)])),
        ];
      if (order === "sorted" && key.startsWith("/")) return [key, canonicalize(item, "methods")];
      return [key, canonicalize(item)];
    }),
  );
}

/** The committed file's text: canonical key order, two-space indent, trailing newline. */
export function serializeOpenApiDocument(document: OpenApiDocument): string {
  return `${JSON.stringify(canonicalize(document), null, 2)}\n`;
}
