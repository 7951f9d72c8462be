import * as z from "zod/mini";
import type { IronicFeatures } from "../ironic/features.ts";
import type { JsonPatchOperation } from "../ironic/schemas.ts";
import { lazySchema } from "../lazy-schema.ts";

/**
 * Where and for whom Ironic runs a node, as Ironic names the node fields: the registration defaults a pod manager
 * carries for every node it composed, which a register body may override per node.
 */
export const PLACEMENT_FIELDS = [
  "conductor_group",
  "shard",
  "owner",
  "lessee",
  "automated_clean",
  "resource_class",
  "boot_interface",
  "deploy_interface",
] as const;
export type PlacementField = (typeof PLACEMENT_FIELDS)[number];

/** Lists the Ironic node create and `placementPatch` leave to the pod manager: its own value stays on the node. */
export const OVERRIDES_MARK = "valence_placement_overrides";

const projectOrName = /* @__PURE__ */ lazySchema(() => z.string().check(z.minLength(1), z.maxLength(255)));
const interfaceName = /* @__PURE__ */ lazySchema(() =>
  z
    .string()
    .check(
      z.minLength(1),
      z.maxLength(255),
      z.regex(/^[A-Za-z0-9_.-]+$/, { error: "must be an Ironic interface name (letters, digits and _ . -)" }),
    ),
);

/** The validators of each field, with Ironic's own rules where it has them (`ironic/api/controllers/v1/node.py`). */
export const PLACEMENT_SCHEMAS = /* @__PURE__ */ lazySchema(
  () =>
    ({
      /** Ironic's `validate_conductor_group`; Ironic keeps it lower-cased (it is case-insensitive), so does Valence. */
      conductor_group: z.pipe(
        z.string().check(
          z.maxLength(255),
          z.regex(/^[a-zA-Z0-9_\-.]*$/, {
            error: "may only hold letters, digits and _ - . (Ironic's rule)",
          }),
        ),
        z.transform((group) => group.toLowerCase()),
      ),
      shard: projectOrName,
      owner: projectOrName,
      lessee: projectOrName,
      automated_clean: z.boolean(),
      resource_class: z
        .string()
        .check(
          z.minLength(1),
          z.maxLength(80),
          z.regex(/^[A-Za-z0-9_.-]+$/, { error: "may only hold letters, digits and _ . -" }),
        ),
      boot_interface: interfaceName,
      deploy_interface: interfaceName,
    }) as const,
);

/** Every placement field, optional: the shape of a create body and of a register body. */
export const placementShape = /* @__PURE__ */ lazySchema(() => ({
  conductor_group: z.optional(PLACEMENT_SCHEMAS.conductor_group),
  shard: z.optional(PLACEMENT_SCHEMAS.shard),
  owner: z.optional(PLACEMENT_SCHEMAS.owner),
  lessee: z.optional(PLACEMENT_SCHEMAS.lessee),
  automated_clean: z.optional(PLACEMENT_SCHEMAS.automated_clean),
  resource_class: z.optional(PLACEMENT_SCHEMAS.resource_class),
  boot_interface: z.optional(PLACEMENT_SCHEMAS.boot_interface),
  deploy_interface: z.optional(PLACEMENT_SCHEMAS.deploy_interface),
}));

/** A PATCH may also clear a field with `null`: the pod manager then has no default for it. */
export const placementPatchShape = /* @__PURE__ */ lazySchema(() => ({
  conductor_group: z.optional(z.nullable(PLACEMENT_SCHEMAS.conductor_group)),
  shard: z.optional(z.nullable(PLACEMENT_SCHEMAS.shard)),
  owner: z.optional(z.nullable(PLACEMENT_SCHEMAS.owner)),
  lessee: z.optional(z.nullable(PLACEMENT_SCHEMAS.lessee)),
  automated_clean: z.optional(z.nullable(PLACEMENT_SCHEMAS.automated_clean)),
  resource_class: z.optional(z.nullable(PLACEMENT_SCHEMAS.resource_class)),
  boot_interface: z.optional(z.nullable(PLACEMENT_SCHEMAS.boot_interface)),
  deploy_interface: z.optional(z.nullable(PLACEMENT_SCHEMAS.deploy_interface)),
}));

/** How a pod manager stores the fields: absent when it has no default. */
export const StoredPlacementShape = /* @__PURE__ */ lazySchema(() => ({
  conductor_group: z.optional(z.string()),
  shard: z.optional(z.string()),
  owner: z.optional(z.string()),
  lessee: z.optional(z.string()),
  automated_clean: z.optional(z.boolean()),
  resource_class: z.optional(z.string()),
  boot_interface: z.optional(z.string()),
  deploy_interface: z.optional(z.string()),
}));

export interface Placement {
  conductor_group?: string | undefined;
  shard?: string | undefined;
  owner?: string | undefined;
  lessee?: string | undefined;
  automated_clean?: boolean | undefined;
  resource_class?: string | undefined;
  boot_interface?: string | undefined;
  deploy_interface?: string | undefined;
}

/** A PATCH's placement changes: a value sets the field, `null` clears it, absent leaves it. */
export type PlacementChanges = { [F in PlacementField]?: Placement[F] | null };

/** Only the placement fields of `source` that are set. */
export function placementOf(source: PlacementChanges): Placement {
  const placement: Placement = {};
  for (const field of PLACEMENT_FIELDS) {
    const value = source[field];
    if (value !== undefined && value !== null) (placement as Record<string, unknown>)[field] = value;
  }
  return placement;
}

/** The placement changes of a PATCH body: only the fields it names, `null` kept (it clears). */
export function placementChangesOf(body: PlacementChanges): PlacementChanges {
  const changes: PlacementChanges = {};
  for (const field of PLACEMENT_FIELDS) {
    if (body[field] !== undefined) (changes as Record<string, unknown>)[field] = body[field];
  }
  return changes;
}

/** Per field, the register body's value, else the pod manager's, else none. */
export function effectivePlacement(body: Placement, podm: Placement): Placement {
  const placement: Placement = {};
  for (const field of PLACEMENT_FIELDS) {
    const value = body[field] ?? podm[field];
    if (value !== undefined) (placement as Record<string, unknown>)[field] = value;
  }
  return placement;
}

/** The fields a register body sets itself; the Ironic node records them so re-applying the pod manager's skips them. */
export function overriddenFields(body: Placement): PlacementField[] {
  return PLACEMENT_FIELDS.filter((field) => body[field] !== undefined);
}

function same(field: PlacementField, wanted: unknown, current: unknown): boolean {
  if (field === "conductor_group" && typeof current === "string" && typeof wanted === "string") {
    return wanted.toLowerCase() === current.toLowerCase();
  }
  return wanted === current;
}

/**
 * The JSON-patch operations that bring an existing Ironic node in line with its pod manager's placement: one
 * `replace` per field the pod manager sets that differs on the node. Fields the pod manager does not set are left
 * alone, and so are those the node's register set itself (listed in `extra.valence_placement_overrides`). With
 * `features`, fields the Ironic API version in use cannot take are left out (the caller can name them with
 * `features.missing`). Pure: reads nothing, sends nothing.
 */
export function placementPatch(
  podm: Placement,
  node: { extra?: Record<string, unknown> | null | undefined; [field: string]: unknown },
  features?: IronicFeatures,
): JsonPatchOperation[] {
  const marked = node.extra?.[OVERRIDES_MARK];
  const overridden = new Set(Array.isArray(marked) ? marked : []);
  const patch: JsonPatchOperation[] = [];
  for (const field of PLACEMENT_FIELDS) {
    const wanted = podm[field];
    if (wanted === undefined || wanted === null || overridden.has(field)) continue;
    if (features && !features.supports(field)) continue;
    if (same(field, wanted, node[field])) continue;
    patch.push({ op: "replace", path: `/${field}`, value: wanted });
  }
  return patch;
}
