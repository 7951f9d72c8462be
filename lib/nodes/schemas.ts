import * as z from "zod/mini";
import { lazySchema } from "../lazy-schema.ts";
import { placementShape } from "../podmanagers/placement.ts";
import { RESET_TYPES } from "../redfish/reset-types.ts";
import { RegisterTraits } from "./hardware-traits.ts";
import { MANAGED_BY } from "./model.ts";

export const MAX_PAGE_SIZE = 1000;

/** `GET /v1/nodes` filters and pagination. */
export const ListNodesQuery = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    managed_by: z.optional(z.enum(MANAGED_BY)),
    podm_id: z.optional(z.uuid()),
    name: z.optional(z.string().check(z.minLength(1), z.maxLength(255))),
    limit: z._default(
      z.coerce.number().check(z.int(), z.minimum(1), z.maximum(MAX_PAGE_SIZE)),
      MAX_PAGE_SIZE,
    ),
    marker: z.optional(z.uuid()),
  }),
);
export type ListNodesInput = z.infer<typeof ListNodesQuery>;

const UUID_LIKE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const RESERVED = new Set(["states", "vendor_passthru", "management", "maintenance", "detail", "validate"]);

/**
 * Node names become Ironic node names, so they follow Ironic's rules (API ≥ 1.10): refusing here is a clear 400
 * instead of a failed register later.
 */
export const NodeName = /* @__PURE__ */ lazySchema(() =>
  z.string().check(
    z.minLength(1),
    z.maxLength(255),
    z.regex(/^[A-Za-z0-9\-._~]+$/, { error: "may only hold letters, digits and - . _ ~" }),
    z.refine((name) => !UUID_LIKE.test(name), { error: "must not look like a UUID" }),
    z.refine((name) => !RESERVED.has(name), { error: "is a word Ironic reserves" }),
  ),
);

const positiveInt = /* @__PURE__ */ lazySchema(() => z.number().check(z.int(), z.positive()));

/**
 * `POST /v1/nodes`: compose a node on a pod manager. A composition needs something to compose from: resource
 * blocks, or memory or cores; refused here rather than after a session with the pod manager.
 */
export const ComposeNodeBody = /* @__PURE__ */ lazySchema(() =>
  z
    .strictObject({
      name: NodeName,
      description: z.optional(z.string().check(z.maxLength(1024))),
      podm_id: z.uuid(),
      properties: z.optional(
        z.strictObject({
          memory: z.optional(z.strictObject({ capacity_mib: positiveInt })),
          processor: z.optional(
            z.strictObject({
              total_cores: positiveInt,
              model: z.optional(z.string().check(z.maxLength(255))),
            }),
          ),
        }),
      ),
      resource_blocks: z.optional(
        z.array(z.string().check(z.minLength(1), z.maxLength(1024))).check(z.minLength(1), z.maxLength(64)),
      ),
    })
    .check(
      z.refine(
        (body) =>
          Boolean(body.resource_blocks?.length || body.properties?.memory || body.properties?.processor),
        { error: "needs resource_blocks, or properties with memory or processor" },
      ),
    ),
);
export type ComposeNodeInput = z.infer<typeof ComposeNodeBody>;

/** `POST /v1/nodes/manage`: bring an already composed system under management. */
export const ManageNodeBody = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    podm_id: z.uuid(),
    node_index: z
      .string()
      .check(
        z.minLength(1),
        z.maxLength(255),
        z.regex(/^[^/?#]+$/, { error: "must be a system id without / ? or #" }),
      ),
    name: z.optional(NodeName),
  }),
);
export type ManageNodeInput = z.infer<typeof ManageNodeBody>;

export { RESET_TYPES };

/** `POST /v1/nodes/{id}/action`, in Valence's shape. */
export const NodeActionBody = /* @__PURE__ */ lazySchema(() =>
  z.union([
    z.strictObject({ Reset: z.strictObject({ Type: z.enum(RESET_TYPES) }) }),
    z.strictObject({
      Boot: z.strictObject({
        Enabled: z.enum(["Once", "Continuous", "Disabled"]),
        Target: z.enum(["Pxe", "Hdd", "None", "Cd", "Usb", "BiosSetup", "UefiShell"]),
      }),
    }),
  ]),
);
export type NodeActionInput = z.infer<typeof NodeActionBody>;

const MAC = /* @__PURE__ */ lazySchema(() =>
  z.string().check(
    z.regex(/^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$/, {
      error: "must be a MAC address like aa:bb:cc:dd:ee:ff",
    }),
  ),
);

/** Longest deadline an operation may be given, in seconds (7 days). */
export const MAX_WAIT_SECONDS = 7 * 24 * 60 * 60;

/**
 * `POST /v1/nodes/{id}/register`: everything optional. The placement fields (`resource_class`, `conductor_group`,
 * `owner`, ...) override the pod manager's defaults for this node.
 */
export const RegisterNodeBody = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    ...placementShape,
    /** Overrides of what was read from the pod manager. */
    properties: z.optional(
      z.strictObject({
        cpus: z.optional(positiveInt),
        memory_mb: z.optional(positiveInt),
        local_gb: z.optional(z.number().check(z.int(), z.nonnegative())),
        cpu_arch: z.optional(z.string().check(z.minLength(1), z.maxLength(32))),
        capabilities: z.optional(z.string().check(z.maxLength(1024))),
      }),
    ),
    driver_info: z.optional(
      z.strictObject({
        redfish_verify_ca: z.optional(z.boolean()),
        redfish_auth_type: z.optional(z.enum(["basic", "session", "auto"])),
      }),
    ),
    ports: z._default(z.enum(["all", "boot"]), "all"),
    boot_mac: z.optional(MAC),
    /**
     * The Ironic traits: a list replaces what the deployment's hardware rules give; `{add, remove}` adjusts it.
     * Absent: the rules' traits.
     */
    traits: z.optional(RegisterTraits),
    /** Lifecycle steps: any of them makes the register answer 202 with an operation that runs them. */
    manage: z._default(z.boolean(), false),
    inspect: z._default(z.boolean(), false),
    provide: z._default(z.boolean(), false),
    /** Seconds the lifecycle steps may take in all (the operation's deadline); default the deployment's (2 h). */
    wait_timeout: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(MAX_WAIT_SECONDS))),
  }),
);
export type RegisterNodeInput = z.infer<typeof RegisterNodeBody>;

/** A query flag, `?name=true` or `?name=false`, read as a boolean; absent when not given. */
function queryFlag() {
  return z.optional(
    z.pipe(
      z.enum(["true", "false"]),
      z.transform((value) => value === "true"),
    ),
  );
}

/** `POST /v1/nodes/{id}/register?dry_run=true`: the plan, and nothing changed. */
export const RegisterNodeQuery = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    dry_run: queryFlag(),
  }),
);

/** `POST /v1/nodes/{id}/unregister`. */
export const UnregisterNodeBody = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    /** Also unregister an `active` node or one with an instance: maintenance on, then delete. */
    force: z._default(z.boolean(), false),
  }),
);
export type UnregisterNodeInput = z.infer<typeof UnregisterNodeBody>;

/** `GET /v1/nodes/{id}?refresh=true` adds Ironic's live state. */
export const GetNodeQuery = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    refresh: queryFlag(),
  }),
);

/** `GET /v1/nodes/{id}/history`: newest first, paginated. */
export const HistoryQuery = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(MAX_PAGE_SIZE)), 100),
    marker: z.optional(
      z.string().check(
        z.maxLength(64),
        z.regex(/^\d{4}-\d\d-\d\dT[\d:.]+Z#[0-9a-f]{8}$/, {
          error: "must be a marker from a history page's Link header, like 2026-01-31T12:00:00.000Z#0123abcd",
        }),
      ),
    ),
  }),
);
