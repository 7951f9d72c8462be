/**
 * `npm run docs`: writes the API reference, `docs/api-ref/openapi.json` and the readable
 * `docs/api-ref/README.md`, both from the document `lib/api/openapi.ts` builds out of the zod schemas.
 * `test/unit/openapi-docs.test.ts` regenerates both in memory and fails when the committed files differ.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  buildOpenApiDocument,
  type JsonSchema,
  LOCAL_SERVER,
  OPENAPI_JSON_PATH,
  type OpenApiDocument,
  type OpenApiOperation,
  serializeOpenApiDocument,
} from "../lib/api/openapi.ts";

export const REFERENCE_MARKDOWN_PATH = "docs/api-ref/README.md";

const escapeCell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");
const code = (value: unknown) => `\`${JSON.stringify(value)}\``;
const anchor = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, "")
    .replace(/ /g, "-");

function componentName(ref: string): string {
  return ref.split("/").pop() as string;
}

function nullable(schema: JsonSchema): { inner: JsonSchema; nullable: boolean } {
  const branches = schema.anyOf as JsonSchema[] | undefined;
  if (branches?.length === 2 && branches.some((branch) => branch.type === "null")) {
    return { inner: branches.find((branch) => branch.type !== "null") as JsonSchema, nullable: true };
  }
  return { inner: schema, nullable: false };
}

function range(min: unknown, max: unknown, unit = ""): string {
  const low = typeof min === "number" ? min : undefined;
  const high = typeof max === "number" && max < Number.MAX_SAFE_INTEGER ? max : undefined;
  if (low !== undefined && low === high) return `exactly ${low}${low === 1 ? unit.replace(/s$/, "") : unit}`;
  if (low !== undefined && high !== undefined) return `${low}–${high}${unit}`;
  if (low !== undefined) return `≥ ${low}${unit}`;
  if (high !== undefined) return `≤ ${high}${unit}`;
  return "";
}

/** A JSON Schema as a short phrase: `integer, 1–900, default 300`. */
export function describeType(schema: JsonSchema): string {
  if (typeof schema.$ref === "string") {
    const name = componentName(schema.$ref);
    return `[${name}](#${anchor(name)})`;
  }
  const { inner, nullable: isNullable } = nullable(schema);
  if (inner !== schema) return `${describeType(inner)}, or null`;
  if (schema.anyOf) return (schema.anyOf as JsonSchema[]).map(describeType).join(" or ");
  const parts: string[] = [];
  if ("const" in schema) parts.push(code(schema.const));
  else if (schema.enum) parts.push((schema.enum as unknown[]).map(code).join(" | "));
  else {
    const types = (Array.isArray(schema.type) ? schema.type : [schema.type ?? "any"]) as string[];
    const main = types.filter((type) => type !== "null");
    let phrase = main.join(" or ");
    if (main.includes("array") && schema.items)
      phrase = `array of ${describeType(schema.items as JsonSchema)}`;
    parts.push(types.includes("null") ? `${phrase}, or null` : phrase);
  }
  if (typeof schema.format === "string") parts.push(schema.format);
  const length = range(schema.minLength, schema.maxLength, " chars");
  if (length) parts.push(length);
  const items = range(schema.minItems, schema.maxItems, " items");
  if (items) parts.push(items);
  if (typeof schema.exclusiveMinimum === "number") parts.push(`> ${schema.exclusiveMinimum}`);
  const bounds = range(schema.minimum, schema.maximum);
  if (bounds) parts.push(bounds);
  if (typeof schema.pattern === "string" && !schema.format) parts.push(`pattern \`${schema.pattern}\``);
  if (schema.default !== undefined) parts.push(`default ${code(schema.default)}`);
  if (isNullable) parts.push("or null");
  return parts.join(", ");
}

interface FieldRow {
  path: string;
  schema: JsonSchema;
  required: boolean;
}

/** Every field of an object schema, nested ones by dotted path (`properties.cpus`, `authentication[].type`). */
function fieldRows(schema: JsonSchema, prefix = ""): FieldRow[] {
  const rows: FieldRow[] = [];
  const required = new Set((schema.required ?? []) as string[]);
  for (const [name, property] of Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>)) {
    const path = `${prefix}${name}`;
    rows.push({ path, schema: property, required: required.has(name) });
    const { inner } = nullable(property);
    if (inner.properties) rows.push(...fieldRows(inner, `${path}.`));
    const items = inner.items as JsonSchema | undefined;
    if (items?.properties) rows.push(...fieldRows(items, `${path}[].`));
  }
  return rows;
}

function fieldTable(schema: JsonSchema): string[] {
  const lines = ["| Field | Type | Required | Description |", "|---|---|---|---|"];
  for (const row of fieldRows(schema)) {
    const type = row.schema.properties ? "object" : describeType(row.schema);
    lines.push(
      `| \`${row.path}\` | ${escapeCell(type)} | ${row.required ? "yes" : "no"} | ${escapeCell(String(row.schema.description ?? ""))} |`,
    );
  }
  return lines;
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, "'\\''")}'`;
}

/** A curl command for the operation's example request, against the local stack. */
export function curlExample(path: string, method: string, operation: OpenApiOperation): string {
  let url = path;
  const query = new URLSearchParams();
  for (const parameter of operation.parameters ?? []) {
    if (parameter.example === undefined) continue;
    if (parameter.in === "path")
      url = url.replace(`{${parameter.name}}`, encodeURIComponent(parameter.example));
    else query.set(parameter.name, parameter.example);
  }
  const search = query.size ? `?${query.toString()}` : "";
  const parts = ["curl"];
  if (method !== "get") parts.push(`-X ${method.toUpperCase()}`);
  parts.push(search ? shellQuote(`${LOCAL_SERVER}${url}${search}`) : `${LOCAL_SERVER}${url}`);
  const body = operation.requestBody?.content["application/json"].example;
  if (body !== undefined) {
    parts.push("-H 'content-type: application/json'", `-d ${shellQuote(JSON.stringify(body))}`);
  }
  return parts.join(" ");
}

function operationSection(path: string, method: string, operation: OpenApiOperation) {
  const lines = [
    `### ${method.toUpperCase()} \`${path}\``,
    "",
    `**${operation.summary}.** ${operation.description}`,
    "",
  ];
  const parameters = operation.parameters ?? [];
  for (const location of ["path", "query"] as const) {
    const ofKind = parameters.filter((parameter) => parameter.in === location);
    if (!ofKind.length) continue;
    lines.push(`${location === "path" ? "Path" : "Query"} parameters:`, "");
    lines.push("| Name | Type | Required | Description |", "|---|---|---|---|");
    for (const parameter of ofKind) {
      lines.push(
        `| \`${parameter.name}\` | ${escapeCell(describeType(parameter.schema))} | ${parameter.required ? "yes" : "no"} | ${escapeCell(parameter.description ?? "")} |`,
      );
    }
    lines.push("");
  }
  const body = operation.requestBody;
  if (body) {
    const schema = body.content["application/json"].schema;
    lines.push(`Body (JSON, ${body.required ? "required" : "optional: every field has a default"}):`, "");
    const branches = (schema.anyOf as JsonSchema[] | undefined) ?? [schema];
    branches.forEach((branch, i) => {
      if (branches.length > 1) lines.push(`${i === 0 ? "Either" : "Or"}:`, "");
      lines.push(...fieldTable(branch), "");
    });
  }
  lines.push("Responses:", "", "| Status | Body | Description |", "|---|---|---|");
  for (const [status, response] of Object.entries(operation.responses)) {
    const schema = response.content?.["application/json"].schema;
    lines.push(
      `| ${status} | ${schema ? escapeCell(describeType(schema)) : "none"} | ${escapeCell(response.description)} |`,
    );
  }
  const headers = Object.entries(operation.responses)
    .flatMap(([, response]) => Object.entries(response.headers ?? {}))
    .filter(([name]) => name !== "X-Request-Id");
  for (const [name, header] of headers)
    lines.push("", `Header \`${name}\`: ${(header as { description: string }).description}`);
  lines.push("", "```sh", curlExample(path, method, operation), "```", "");
  return lines;
}

/** The readable reference: every route with its parameters, body, responses and a curl example; every schema. */
export function renderReferenceMarkdown(document: OpenApiDocument): string {
  const lines = [
    "# Valence API reference",
    "",
    "<!-- Generated by `npm run docs` from the route definitions (lib/api/routes/*.ts) and lib/api/responses.ts; do not edit. -->",
    "",
    document.info.description,
    "",
    `The machine-readable document is [openapi.json](openapi.json) (OpenAPI ${document.openapi}); a running service`,
    "serves it at `GET /v1/openapi.json`. Examples below call the local stack (`npm start`) at",
    `\`${LOCAL_SERVER}\`; the [CLI](../cli.md) wraps every route.`,
    "",
    "Every response carries `X-Request-Id`. Every error has the body [Error](#error), e.g.",
    "",
    "```json",
    '{"request_id": "3f0c…", "code": "NodeNotFound", "status": 404, "title": "Not Found", "detail": "node n1 not found"}',
    "```",
    "",
    "## Routes",
    "",
    "| Method | Path | Summary |",
    "|---|---|---|",
  ];
  const operations = Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({ path, method, operation })),
  );
  for (const { path, method, operation } of operations) {
    lines.push(
      `| ${method.toUpperCase()} | [\`${path}\`](#${anchor(`${method} ${path}`)}) | ${escapeCell(operation.summary)} |`,
    );
  }
  lines.push("");
  for (const tag of document.tags) {
    const tagged = operations.filter(({ operation }) => operation.tags.includes(tag.name));
    if (!tagged.length) continue;
    lines.push(`## ${tag.name[0]?.toUpperCase()}${tag.name.slice(1)}`, "", tag.description, "");
    for (const { path, method, operation } of tagged)
      lines.push(...operationSection(path, method, operation));
  }
  lines.push("## Schemas", "");
  for (const [name, schema] of Object.entries(document.components.schemas)) {
    lines.push(`### ${name}`, "");
    if (schema.properties) lines.push(...fieldTable(schema), "");
    else lines.push(describeType(schema), "");
  }
  return `${lines
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trimEnd()}\n`;
}

/** Both files' contents, as `npm run docs` writes them; the Markdown follows the JSON file's (canonical) order. */
export function generateReference(document = buildOpenApiDocument()): Record<string, string> {
  const json = serializeOpenApiDocument(document);
  return {
    [OPENAPI_JSON_PATH]: json,
    [REFERENCE_MARKDOWN_PATH]: renderReferenceMarkdown(JSON.parse(json) as OpenApiDocument),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = fileURLToPath(new URL("../", import.meta.url));
  for (const [path, text] of Object.entries(generateReference())) {
    writeFileSync(`${root}${path}`, text);
    console.log(`wrote ${path}`);
  }
}
