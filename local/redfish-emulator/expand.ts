import type { Json } from "./resources.ts";

/**
 * Redfish `$expand` (DSP0266, "Query parameters"): a GET answers the resource with the hyperlinks it names replaced
 * by the resources they point at, to `$levels` deep. `*` expands every hyperlink, `.` those outside any `Links`
 * section (subordinate resources, a collection's `Members`), `~` those inside `Links` sections only.
 */

/** What the service root advertises in `ProtocolFeaturesSupported.ExpandQuery`. */
export const EXPAND_QUERY = {
  ExpandAll: true,
  Levels: true,
  Links: true,
  NoLinks: true,
  MaxLevels: 6,
} as const;

export type ExpandKind = "*" | "." | "~";

export interface ExpandRequest {
  kind: ExpandKind;
  levels: number;
}

/** A `$expand` value the service cannot take: 400, as Redfish answers a malformed or out-of-range query. */
export class ExpandQueryError extends Error {}

/** Parses `*`, `.`, `~`, each optionally with `($levels=n)`; `n` from 1 to `MaxLevels`. */
export function parseExpand(value: string): ExpandRequest {
  const match = /^([*.~])(?:\(\$levels=(\d+)\))?$/.exec(value);
  if (!match) {
    throw new ExpandQueryError(`$expand=${value}: expected *, . or ~, optionally followed by ($levels=n)`);
  }
  const levels = match[2] === undefined ? 1 : Number(match[2]);
  if (levels < 1 || levels > EXPAND_QUERY.MaxLevels) {
    throw new ExpandQueryError(`$expand=${value}: $levels must be from 1 to ${EXPAND_QUERY.MaxLevels}`);
  }
  return { kind: match[1] as ExpandKind, levels };
}

/** A bare hyperlink `{"@odata.id": "..."}` to a resource (not a fragment of one). */
function referenceOf(value: unknown): string | undefined {
  if (!isObject(value)) return undefined;
  const keys = Object.keys(value);
  const id = value["@odata.id"];
  return keys.length === 1 && typeof id === "string" && !id.includes("#") ? id : undefined;
}

/**
 * The resource with its hyperlinks expanded. `resolve` answers the body of a path, or `undefined` when there is none
 * (the hyperlink then stays as it is). A resource already being expanded above is never expanded inside itself.
 */
export function expandResource(
  body: Json,
  request: ExpandRequest,
  resolve: (path: string) => Json | undefined,
): Json {
  const expandAt = (
    value: unknown,
    levels: number,
    inLinks: boolean,
    above: ReadonlySet<string>,
  ): unknown => {
    const reference = referenceOf(value);
    if (reference !== undefined) {
      const wanted = request.kind === "*" || (request.kind === "~" ? inLinks : !inLinks);
      if (!wanted || levels < 1 || above.has(reference)) return value;
      const target = resolve(reference);
      if (target === undefined) return value;
      return walk(target, levels - 1, new Set([...above, reference]));
    }
    if (Array.isArray(value)) return value.map((entry) => expandAt(entry, levels, inLinks, above));
    if (isObject(value)) {
      return Object.fromEntries(
        Object.entries(value).map(([key, entry]) => [
          key,
          key === "@odata.id" ? entry : expandAt(entry, levels, inLinks || key === "Links", above),
        ]),
      );
    }
    return value;
  };
  /** A resource's own properties, expanded `levels` deep (0: as it is). */
  const walk = (resource: Json, levels: number, above: ReadonlySet<string>): Json =>
    levels < 1 ? resource : (expandAt(resource, levels, false, above) as Json);
  const self = typeof body["@odata.id"] === "string" ? new Set([body["@odata.id"]]) : new Set<string>();
  return walk(body, request.levels, self);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
