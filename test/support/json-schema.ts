import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import type { JsonSchema } from "../../lib/api/openapi.ts";

/**
 * JSON Schema 2020-12 validation of values against an OpenAPI 3.1 document's schemas, through ajv: tests check
 * real requests and responses against the document itself, not against the zod schemas it was generated from.
 */

const COMPONENT_PREFIX = "#/components/schemas/";
/** Where the document's component schemas live for ajv: `#/components/schemas/Node` → `<id>#/$defs/Node`. */
const COMPONENTS_ID = "urn:valence:openapi:components";

/** The parts of an OpenAPI document the validator reads. */
export interface SchemaDocument {
  components?: { schemas?: Record<string, JsonSchema> };
}

/** Resolves a local `#/...` reference of the document (JSON Pointer, `~1` and `~0` unescaped). */
export function resolveRef(document: object, ref: string): JsonSchema {
  if (!ref.startsWith("#/")) throw new Error(`only local references are supported, got ${ref}`);
  let current: unknown = document;
  for (const segment of ref.slice(2).split("/")) {
    current = (current as Record<string, unknown> | undefined)?.[
      segment.replace(/~1/g, "/").replace(/~0/g, "~")
    ];
  }
  if (!current || typeof current !== "object") throw new Error(`unresolvable reference ${ref}`);
  return current as JsonSchema;
}

/** A copy of `schema` whose `$ref`s to the document's components point at the components schema ajv holds. */
function rebaseRefs(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(rebaseRefs);
  if (!schema || typeof schema !== "object") return schema;
  return Object.fromEntries(
    Object.entries(schema).map(([keyword, value]) => {
      if (keyword !== "$ref") return [keyword, rebaseRefs(value)];
      if (typeof value !== "string" || !value.startsWith(COMPONENT_PREFIX))
        throw new Error(`unsupported reference ${JSON.stringify(value)}: only ${COMPONENT_PREFIX}* resolves`);
      return [keyword, `${COMPONENTS_ID}#/$defs/${value.slice(COMPONENT_PREFIX.length)}`];
    }),
  );
}

/** `/nodes/0/name` → `$.nodes[0].name`, the path style of the tests' messages. */
function jsonPath(instancePath: string): string {
  return `$${instancePath
    .split("/")
    .slice(1)
    .map((segment) => segment.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((segment) => (/^\d+$/.test(segment) ? `[${segment}]` : `.${segment}`))
    .join("")}`;
}

function describeError(error: ErrorObject): string {
  const path = jsonPath(error.instancePath);
  switch (error.keyword) {
    case "additionalProperties":
      return `${path}.${error.params.additionalProperty}: not in the schema (additionalProperties is false)`;
    case "required":
      return `${path}: missing required field "${error.params.missingProperty}"`;
    case "enum":
      return `${path}: must be one of ${JSON.stringify(error.params.allowedValues)}`;
    case "const":
      return `${path}: must be ${JSON.stringify(error.params.allowedValue)}`;
    default:
      return `${path}: ${error.message ?? error.keyword}`;
  }
}

export type DocumentValidator = (schema: JsonSchema | boolean, value: unknown) => string[];

/**
 * A validator for `document`'s schemas: call it with any schema of the document (a component, a response's or a
 * request body's schema, with `$ref`s to `#/components/schemas/...`) and a value; it answers the problems, each
 * with its JSON path, empty when the value is valid. ajv runs in strict mode: an unknown keyword or format throws
 * at compile time rather than passing silently. Compiled schemas are kept per schema object.
 */
export function documentValidator(document: SchemaDocument): DocumentValidator {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  ajv.addFormat("uuid", /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
  ajv.addFormat("uri", (value: string) => URL.canParse(value));
  ajv.addSchema({ $id: COMPONENTS_ID, $defs: rebaseRefs(document.components?.schemas ?? {}) });
  const compiled = new WeakMap<object, ValidateFunction>();
  const compile = (schema: JsonSchema | boolean): ValidateFunction => {
    if (typeof schema === "boolean") return ajv.compile(schema);
    let validate = compiled.get(schema);
    if (!validate) {
      validate = ajv.compile(rebaseRefs(schema) as JsonSchema);
      compiled.set(schema, validate);
    }
    return validate;
  };
  return (schema, value) => {
    const validate = compile(schema);
    return validate(value) ? [] : (validate.errors ?? []).map(describeError);
  };
}
