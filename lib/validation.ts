import type * as z from "zod/mini";
import { ValidationError } from "./errors.ts";

type Issue = z.core.$ZodIssue;

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = root;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    if (!Object.hasOwn(current, key)) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** Field names are the caller's text: name a few, each cut short, rather than echo a megabyte back. */
export function nameFields(fields: readonly string[]): string {
  const named = fields.slice(0, 10).map((field) => (field.length > 64 ? `${field.slice(0, 64)}...` : field));
  const more = fields.length > named.length ? ` and ${fields.length - named.length} more` : "";
  return `${named.join(", ")}${more}`;
}

/** zod/mini without a locale says "Invalid input" for everything; anything else is a schema's own message. */
function hasOwnMessage(issue: Issue): boolean {
  return Boolean(issue.message) && issue.message !== "Invalid input";
}

/**
 * zod/mini's default messages are terse ("Invalid input"); callers need to know which field is wrong and why,
 * so every issue becomes "<field>: <reason>".
 */
export function formatIssue(issue: Issue, input: unknown, where?: string): string {
  const field = [where, ...issue.path.map(String)].filter(Boolean).join(".") || "body";
  switch (issue.code) {
    case "invalid_type": {
      const actual = valueAt(input, issue.path);
      // JSON's 1e309 parses to Infinity and a query's "Infinity" coerces to it: a number, just not a usable one.
      const nonFinite =
        issue.expected === "number" &&
        ((typeof actual === "number" && !Number.isFinite(actual)) ||
          ["Infinity", "NaN"].includes(String((issue as { received?: unknown }).received)));
      if (nonFinite) return `${field}: must be a finite number`;
      const received = actual === undefined ? "nothing" : describe(actual);
      return actual === undefined
        ? `${field}: is required (${issue.expected})`
        : `${field}: expected ${issue.expected}, received ${received}`;
    }
    case "unrecognized_keys":
      return `${field}: unknown field(s) ${nameFields(issue.keys)}`;
    case "invalid_format":
      // A pattern's own message says what is expected ("must be a MAC address like ..."); "must be a valid
      // regex" would describe the check, not the value wanted.
      if (issue.format === "regex") {
        return hasOwnMessage(issue)
          ? `${field}: ${issue.message}`
          : `${field}: must match ${String((issue as { pattern?: unknown }).pattern ?? "the expected pattern")}`;
      }
      return `${field}: must be a valid ${issue.format}`;
    case "invalid_value":
      return `${field}: must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "too_big":
      return issue.origin === "string"
        ? `${field}: must be at most ${issue.maximum} characters`
        : issue.origin === "array"
          ? `${field}: must have at most ${issue.maximum} items`
          : `${field}: must be <= ${issue.maximum}`;
    case "too_small":
      return issue.origin === "string"
        ? `${field}: must be at least ${issue.minimum} characters`
        : issue.origin === "array"
          ? `${field}: must have at least ${issue.minimum} items`
          : `${field}: must be >= ${issue.minimum}`;
    case "not_multiple_of":
      return `${field}: must be a multiple of ${issue.divisor}`;
    case "invalid_union": {
      // Report the alternative that came closest: the one with the fewest problems.
      const closest = [...issue.errors].sort((a, b) => a.length - b.length)[0];
      if (!closest?.length) return `${field}: does not match any accepted shape`;
      return closest
        .map((inner) => formatIssue({ ...inner, path: [...issue.path, ...inner.path] }, input, where))
        .join("; ");
    }
    default:
      return hasOwnMessage(issue) ? `${field}: ${issue.message}` : `${field}: invalid`;
  }
}

/**
 * zod's length checks (and size checks) also run on a value of the wrong type that has a `length` (or `size`)
 * field, and compare that field with a number. When the field is an object whose `valueOf` and `toString` are not
 * functions (`{"length": {"toString": 0}}`, which any JSON body can carry), that comparison throws a TypeError
 * instead of reporting an issue. Such a value is never valid (a string's or array's length is a number), so it is
 * parsed again with every such field replaced by `NaN`: the same issues come out, and nothing throws.
 */
function withPlainLengths(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withPlainLengths);
  if (value === null || typeof value !== "object") return value;
  // Object.fromEntries defines own properties, so a "__proto__" key stays data and sets no prototype.
  return Object.fromEntries(
    Object.entries(value).map(([key, field]) => [
      key,
      (key === "length" || key === "size") && field !== null && typeof field === "object"
        ? Number.NaN
        : withPlainLengths(field),
    ]),
  );
}

/**
 * `schema.safeParse(input)` that never throws for any JSON-shaped input: a value whose `length` or `size` field is
 * an object without callable conversions is parsed as above. Every parse of input from outside (request bodies,
 * Ironic's and a pod manager's answers) goes through here.
 */
export function safeParse<S extends z.ZodMiniType>(
  schema: S,
  input: unknown,
): z.core.util.SafeParseResult<z.infer<S>> {
  try {
    return schema.safeParse(input) as z.core.util.SafeParseResult<z.infer<S>>;
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    return schema.safeParse(withPlainLengths(input)) as z.core.util.SafeParseResult<z.infer<S>>;
  }
}

/** A field of the wrong type is reported as that; its length or size is noise beside it. */
function withoutNoise(issues: readonly Issue[]): Issue[] {
  const mistyped = new Set(
    issues
      .filter((issue) => issue.code === "invalid_type")
      .map((issue) => JSON.stringify(issue.path.map(String))),
  );
  return issues.filter(
    (issue) =>
      !(
        (issue.code === "too_small" || issue.code === "too_big") &&
        mistyped.has(JSON.stringify(issue.path.map(String)))
      ),
  );
}

/** Parse `input` with `schema`; on failure throw a 400 naming every bad field. */
export function parseOrThrow<S extends z.ZodMiniType>(schema: S, input: unknown, where?: string): z.infer<S> {
  const result = safeParse(schema, input);
  if (result.success) return result.data;
  const messages = withoutNoise(result.error.issues).map((issue) => formatIssue(issue, input, where));
  throw new ValidationError(messages.join("; "), { cause: result.error });
}
