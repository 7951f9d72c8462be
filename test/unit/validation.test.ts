import { describe, expect, it } from "vitest";
import * as z from "zod/mini";
import { ROUTE_MODULES } from "../../lib/api/routes/index.ts";
import { ValidationError } from "../../lib/errors.ts";
import { parseOrThrow, safeParse } from "../../lib/validation.ts";

/** Values a JSON body can carry whose `length` (or `size`) cannot be compared with a number. */
const UNCOMPARABLE: unknown[] = [
  { length: { toString: 0 } },
  { length: { valueOf: 0, toString: 0 } },
  { length: { valueOf: "x", toString: [] } },
  { size: { toString: 0 } },
];

function fieldsOf(schema: z.ZodMiniType): string[] {
  const def = (schema as { _zod: { def: { shape?: object; in?: z.ZodMiniType } } })._zod.def;
  if (def.shape) return Object.keys(def.shape);
  return def.in ? fieldsOf(def.in) : [];
}

describe("parseOrThrow", () => {
  it("reports a field whose length cannot be compared as the wrong type, and throws nothing else", () => {
    const schema = z.object({ name: z.string().check(z.minLength(1), z.maxLength(8)) });
    for (const value of UNCOMPARABLE.slice(0, 3)) {
      expect(() => schema.safeParse({ name: value })).toThrow(TypeError);
      expect(() => parseOrThrow(schema, { name: value }, "body")).toThrow(
        new ValidationError("body.name: expected string, received object"),
      );
    }
  });

  it("finds such a value nested in arrays and objects, and keeps a __proto__ key as data", () => {
    const schema = z.object({ items: z.array(z.object({ tag: z.string().check(z.minLength(1)) })) });
    const input = JSON.parse(
      '{"items":[{"tag":"ok"},{"tag":{"length":{"toString":0}},"__proto__":{"polluted":1}}]}',
    );
    const result = safeParse(schema, input);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => [issue.code, issue.path])).toContainEqual([
      "invalid_type",
      ["items", 1, "tag"],
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("names only the type when a field is mistyped, not its length as well", () => {
    const schema = z.object({ name: z.string().check(z.minLength(1)) });
    expect(() => parseOrThrow(schema, { name: { length: 0 } }, "body")).toThrow(
      new ValidationError("body.name: expected string, received object"),
    );
    expect(() => parseOrThrow(schema, { name: "" }, "body")).toThrow(ValidationError);
  });

  it("answers every route's every top-level field holding such a value with a ValidationError", () => {
    let checked = 0;
    for (const [name, { route }] of Object.entries(ROUTE_MODULES)) {
      for (const part of ["body", "query", "params"] as const) {
        const schema = (route as Partial<Record<typeof part, z.ZodMiniType>>)[part];
        if (!schema) continue;
        for (const field of fieldsOf(schema)) {
          for (const value of UNCOMPARABLE) {
            checked += 1;
            let thrown: unknown;
            try {
              parseOrThrow(schema, { [field]: value }, part);
            } catch (error) {
              thrown = error;
            }
            expect(thrown, `${name} ${part}.${field}`).toBeInstanceOf(ValidationError);
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
  });
});
