/**
 * Response bodies of the API as zod/mini schemas, for the API reference (the `reference` of each route definition,
 * `lib/api/routes/`) and the contract test. Derived from the stored models where possible, so a field added to a
 * model shows up in the reference without a second edit here. Handlers do not parse their own responses: the
 * contract test checks real responses against the generated document instead.
 */
import * as z from "zod/mini";
import { lazySchema } from "../lazy-schema.ts";
import { HISTORY_ACTIONS } from "../nodes/history-actions.ts";
import { IronicStateSchema, NodeSchema } from "../nodes/model.ts";
import { OperationSchema } from "../operations/model.ts";
import { MASKED, PodManagerSchema } from "../podmanagers/model.ts";

/** `toNodeView`: the stored node without its optimistic-locking counter. */
export const NodeView = /* @__PURE__ */ lazySchema(() => z.omit(NodeSchema, { version: true }));

/** Ironic's live fields (`IronicView` of the registration service), read from Ironic at request time. */
export const IronicLiveState = /* @__PURE__ */ lazySchema(() =>
  z.omit(IronicStateSchema, { synced_at: true }),
);

/** `POST /v1/nodes/{id}/register`: the node as stored now, plus the Ironic node's state after the register. */
export const RegisteredNodeView = /* @__PURE__ */ lazySchema(() =>
  z.extend(NodeView, { ironic: IronicLiveState }),
);

/**
 * `GET /v1/nodes/{id}`: the node; with `?refresh=true` also `ironic` — Ironic's live state, `null` when Ironic no
 * longer has the node, absent when the node is not registered.
 */
export const ShownNodeView = /* @__PURE__ */ lazySchema(() =>
  z.extend(NodeView, { ironic: z.optional(z.nullable(IronicLiveState)) }),
);

export const NodeList = /* @__PURE__ */ lazySchema(() => z.array(NodeView));

/** `toOperationView`: the stored operation without its optimistic-locking counter. */
export const OperationView = /* @__PURE__ */ lazySchema(() => z.omit(OperationSchema, { version: true }));

export const OperationList = /* @__PURE__ */ lazySchema(() => z.array(OperationView));

/**
 * `POST /v1/nodes/{id}/register` with lifecycle steps (202): the node as registered (Ironic `enroll`), and the
 * operation that carries the steps on.
 */
export const RegisterAcceptedView = /* @__PURE__ */ lazySchema(() =>
  z.extend(RegisteredNodeView, { operation: OperationView }),
);

const JsonObject = /* @__PURE__ */ lazySchema(() => z.record(z.string(), z.unknown()));

/** `POST /v1/nodes/{id}/register?dry_run=true`: the register's plan (`RegisterPlan`), nothing done. */
export const RegisterPlanView = /* @__PURE__ */ lazySchema(() =>
  z.object({
    dry_run: z.literal(true),
    node: z.object({ uuid: z.string(), name: z.string() }),
    action: z.enum(["create", "adopt", "refuse"]),
    refused: z.optional(z.string()),
    ironic_node: z.looseObject({
      uuid: z.nullable(z.string()),
      name: z.nullable(z.string()),
      driver: z.string(),
      driver_info: JsonObject,
      properties: JsonObject,
      resource_class: z.optional(z.nullable(z.string())),
      extra: JsonObject,
      traits: z.array(z.string()),
    }),
    ports: z.object({
      create: z.array(z.object({ address: z.string(), pxe_enabled: z.boolean() })),
      keep: z.array(z.string()),
      conflicting: z.array(z.object({ address: z.string(), ironic_node_uuid: z.string() })),
    }),
    lifecycle: z.array(z.string()),
    warnings: z.optional(z.array(z.string())),
  }),
);

/** `POST /v1/nodes/{id}/register` (200): the registered node, or with `dry_run=true` the plan. */
export const RegisterNodeResponse = /* @__PURE__ */ lazySchema(() =>
  z.union([RegisteredNodeView, RegisterPlanView]),
);

/**
 * `POST /v1/nodes/{id}/unregister` while Ironic still moves the node (202): the node, still registered, and the
 * operation that settles it and unregisters.
 */
export const UnregisterAcceptedView = /* @__PURE__ */ lazySchema(() =>
  z.extend(NodeView, { operation: OperationView }),
);

/** `toPodManagerView`: credentials masked, in Valence's `authentication` shape. */
export const PodManagerView = /* @__PURE__ */ lazySchema(() =>
  z.extend(
    z.omit(PodManagerSchema, {
      version: true,
      credentials_ref: true,
      username: true,
      conductor_group: true,
      shard: true,
      owner: true,
      lessee: true,
      automated_clean: true,
      resource_class: true,
      boot_interface: true,
      deploy_interface: true,
    }),
    {
      // Every placement field is shown, `null` when the pod manager has no default for it.
      conductor_group: z.nullable(z.string()),
      shard: z.nullable(z.string()),
      owner: z.nullable(z.string()),
      lessee: z.nullable(z.string()),
      automated_clean: z.nullable(z.boolean()),
      resource_class: z.nullable(z.string()),
      boot_interface: z.nullable(z.string()),
      deploy_interface: z.nullable(z.string()),
      authentication: z.array(
        z.object({
          type: z.literal("basic"),
          auth_items: z.object({ username: z.string(), password: z.literal(MASKED) }),
        }),
      ),
    },
  ),
);

/**
 * `PATCH /v1/pod_managers/{id}` with new credentials, url or `verify_ca` while nodes of it are registered in
 * Ironic (202): the pod manager as stored now, and the `resync` operation carrying the change into their
 * driver_info.
 */
export const PodManagerResyncView = /* @__PURE__ */ lazySchema(() =>
  z.extend(PodManagerView, { operation: OperationView }),
);

export const PodManagerList = /* @__PURE__ */ lazySchema(() => z.array(PodManagerView));

/** One event of a node's audit trail (`HistoryEvent` of `lib/nodes/history.ts`). */
export const HistoryEventSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    id: z.string(),
    node_uuid: z.string(),
    at: z.string(),
    actor: z.string(),
    action: z.enum(HISTORY_ACTIONS),
    request_id: z.string(),
    outcome: z.enum(["succeeded", "failed"]),
    detail: z.optional(z.string()),
    ironic_node_uuid: z.optional(z.nullable(z.string())),
  }),
);

export const HistoryEventList = /* @__PURE__ */ lazySchema(() => z.array(HistoryEventSchema));

/** Valence's error body (`ErrorBody` of `lib/http/errors.ts`); `request_id` is echoed in `X-Request-Id`. */
export const ErrorBodySchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    request_id: z.string(),
    code: z.string(),
    status: z.number().check(z.int(), z.minimum(400), z.maximum(599)),
    title: z.string(),
    detail: z.string(),
  }),
);

const Link = /* @__PURE__ */ lazySchema(() => z.object({ href: z.string(), rel: z.string() }));

const VersionRange = /* @__PURE__ */ lazySchema(() => ({
  id: z.string(),
  min_version: z.string(),
  max_version: z.string(),
  links: z.array(Link),
}));

/** `GET /`: `rootDocument` of `lib/api/versions.ts`. */
export const RootDocumentSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    name: z.string(),
    description: z.string(),
    versions: z.array(z.object({ ...VersionRange, status: z.string() })),
    default_version: z.object(VersionRange),
  }),
);

/** `GET /v1`: `v1Document` of `lib/api/versions.ts`. */
export const V1DocumentSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    ...VersionRange,
    status: z.string(),
    media_types: z.array(z.object({ base: z.string(), type: z.string() })),
    nodes: z.array(Link),
    pod_managers: z.array(Link),
  }),
);

/** `GET /v1/openapi.json`: an OpenAPI 3.1 document (its full shape is OpenAPI's, not ours to restate). */
export const OpenApiDocumentSchema = /* @__PURE__ */ lazySchema(() =>
  z.looseObject({
    openapi: z.string(),
    info: z.looseObject({ title: z.string(), version: z.string() }),
    paths: z.record(z.string(), z.record(z.string(), z.unknown())),
  }),
);

/**
 * Named response schemas: each becomes `#/components/schemas/<name>` in the document, so the reference shows a
 * node once instead of under every route.
 */
export const RESPONSE_COMPONENTS = {
  Node: NodeView,
  ShownNode: ShownNodeView,
  RegisteredNode: RegisteredNodeView,
  RegisterAccepted: RegisterAcceptedView,
  RegisterPlan: RegisterPlanView,
  UnregisterAccepted: UnregisterAcceptedView,
  IronicLiveState,
  Operation: OperationView,
  HistoryEvent: HistoryEventSchema,
  PodManager: PodManagerView,
  PodManagerResync: PodManagerResyncView,
  Error: ErrorBodySchema,
  RootDocument: RootDocumentSchema,
  V1Document: V1DocumentSchema,
  OpenApiDocument: OpenApiDocumentSchema,
} as const;

/** Field descriptions of the named response schemas, by dotted path (`hardware.nics[].mac`). */
export const RESPONSE_FIELDS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  Node: {
    uuid: "Valence's id of the node.",
    name: "Unique; also the Ironic node's name once registered.",
    podm_id: "The pod manager that composed the system.",
    index: "The pod manager's id of the composed system (Redfish `Id`).",
    resource_uri: "The composed system's Redfish path.",
    managed_by:
      "`valence`: composed, not in Ironic; `ironic`: registered, Ironic owns it until unregistered.",
    ironic_node_uuid: "The Ironic node's uuid while registered.",
    hardware: "What was read from the pod manager; becomes the Ironic node's `properties` and ports.",
    "hardware.nics[].mac": "Lower-case, colon-separated.",
    "hardware.nics[].enabled": "Only enabled NICs become Ironic ports.",
    "hardware.summary":
      "What the composed system holds, each kind of device once with its count (absent on nodes read before " +
      "Valence kept it): what traits and the resource class are computed from.",
    "hardware.summary.processors":
      "By Redfish `ProcessorType` (`CPU`, `GPU`, `FPGA`, ...), `Manufacturer`, `Model`.",
    "hardware.summary.drives": "By Redfish `MediaType` (`SSD`, `HDD`) and `Protocol` (`NVMe`, `SAS`, ...).",
    "hardware.summary.nics": "The enabled NICs by `SpeedMbps` (absent when the BMC reports none).",
    "hardware.summary.memory": "Memory devices by `MemoryType` and `MemoryDeviceType`; `cxl`: CXL-attached.",
    traits: "The traits the register set on the Ironic node (from the hardware rules and the register body).",
    resource_class: "The Ironic node's `resource_class` as the register set it.",
    intent: "A register, unregister or delete in flight (`null` when none).",
    registered_at: "When the node was last registered.",
    status: "`missing`: the pod manager no longer has the composed system.",
    ironic_state: "Ironic's view of the node as the reconciler last saw it.",
    composition:
      "What defines the node's hardware as its pod manager links it (DMTF resource blocks, RSD device links), as " +
      "`hardware` was read from it: the reconciler compares `digest` with each listing and reads the system again " +
      "only when it moved.",
    hardware_drift:
      "Set while the composition changed under the node and Ironic has not followed yet (`null` or absent when " +
      "none): the node was in use (`active`, `deploying`, ...) or busy. The reconciler re-syncs it (a " +
      "`hardware_sync` operation) once Ironic rests it unused, and clears this.",
    "hardware_drift.since": "When the reconciler first saw the change.",
    "hardware_drift.changes":
      "Resource blocks (links) added and removed, properties before → after, enabled MACs added and removed.",
    "hardware_drift.hardware": "The hardware as read then: what the re-sync writes into Ironic.",
    operation:
      "The operation running on the node now (`null` or absent when none): one at a time, another one is a 409 " +
      "`OperationInProgress` naming it.",
  },
  RegisterAccepted: {
    ironic:
      "The Ironic node as the register left it, before the operation's steps: `enroll` for a node it created.",
    operation: "The operation that runs the lifecycle steps; also the `Location` header.",
  },
  RegisterPlan: {
    dry_run: "Always `true`: nothing was changed in Ironic, in the store or in the history.",
    action:
      "`create`: a new Ironic node; `adopt`: the Ironic node that already drives this system (ours) is taken; " +
      "`refuse`: the register would be refused (`refused` says why: a 409).",
    refused: "Why the register would be refused.",
    ironic_node:
      "The Ironic node fields the register would create (driver, `driver_info` with the password masked, " +
      "`properties`, `resource_class`, the placement fields, `extra`); for `adopt`, the node as Ironic has it. " +
      "`uuid` is `null` for a node to be created.",
    "ironic_node.traits": "The traits the register would set (the hardware rules', adjusted by the body).",
    ports: "Per NIC the register would give a port to.",
    "ports.create": "Ports to create, with the one that PXE-boots.",
    "ports.keep": "MACs the adopted Ironic node has a port for already.",
    "ports.conflicting": "MACs another Ironic node holds a port for (the register would be refused).",
    lifecycle:
      "The lifecycle steps an operation would run after the register (`manage`, `inspect`, `provide`).",
    warnings: "What was skipped reading the system (an interface without a usable MAC).",
  },
  UnregisterAccepted: {
    operation:
      "The operation that waits for Ironic to settle and then unregisters; also the `Location` header.",
  },
  Operation: {
    id: "The operation's uuid: `GET /v1/operations/{id}`.",
    node_uuid: "The node it works on; for a `resync`, the pod manager's uuid.",
    node_name: "The node's name; for a `resync`, the pod manager's name.",
    pod_manager_uuid: "A `resync`'s pod manager.",
    kind: "`register`: a register's lifecycle steps; `manage`, `provide`, `inspect`, `clean`: that lifecycle action; `unregister`: an unregister that waits for Ironic to settle; `resync`: a pod manager's new credentials or address carried into the driver_info of every node of it registered in Ironic; `hardware_sync`: started by the reconciler when a node's composition changed while Ironic rested it unused: Ironic's properties and the ports Valence created follow the hardware read.",
    results:
      "A `resync`'s nodes, in the order of its steps (one step per node, named after it), each with how it ended.",
    "results[].node_uuid": "The Valence node.",
    "results[].name": "Its name.",
    "results[].ironic_node_uuid": "Its Ironic node.",
    "results[].state":
      "`pending` (not reached yet, or waiting for Ironic to end a transition: its step shows Ironic's state), `succeeded` (driver_info patched and Ironic's validation of the `power` and " +
      "`management` interfaces passed), `failed` (Ironic refused the patch, kept the node locked, or its validation " +
      "failed: `detail` says which), `skipped` (no longer one to touch: unregistered meanwhile, its Ironic node gone, " +
      "not Valence's, or its driver_info points elsewhere).",
    "results[].detail": "What was done, or why it failed or was skipped; `null` while pending.",
    state:
      "`pending` (recorded, its workflow not running yet), `running`, `cancelling` (a cancel was asked for), then " +
      "`succeeded`, `failed` or `cancelled`, which it never leaves.",
    steps:
      "In the order they run: a register's `manage`, then `inspect` and `provide` when asked for; an action's one " +
      "step, named after it; a `hardware_sync`'s one step `hardware_sync`.",
    "steps[].name":
      "`manage`, `inspect`, `provide` or `clean`: the Ironic verb the step sends; `unregister` and `hardware_sync` " +
      "are Valence's own steps (its `detail` says what changed in Ironic).",
    "steps[].state":
      "`pending`, `running`, then `succeeded`, `failed`, `skipped` (never ran: the operation ended before it) or " +
      "`cancelled`.",
    "steps[].started_at": "When the step started (ISO 8601); `null` before.",
    "steps[].finished_at": "When it ended; `null` before.",
    "steps[].provision_state": "Ironic's `provision_state` as the step last saw it; `null` before it looked.",
    "steps[].target_provision_state": "Ironic's `target_provision_state` as the step last saw it.",
    "steps[].last_error":
      "Ironic's `last_error` as the step last saw it (or why Ironic refused the step's verb).",
    "steps[].detail": "Why the step failed; for a succeeded `inspect`, its report in a sentence.",
    "steps[].report":
      "A succeeded `inspect` step: what Ironic's inspection found against what was registered — each of " +
      "`cpus`, `memory_mb`, `local_gb`, `cpu_arch` with both values, and the ports (`added_by_inspection`: " +
      "Ironic's own, never deleted by Valence; `missing`: registered ones gone).",
    arguments:
      "What the action was given: `clean_steps` for `clean`, `force` for an unregister, `pod_manager_urls` for a " +
      "`resync` (the pod manager's address before and after the change: only Ironic nodes pointing at one are " +
      "touched) and `verify_ca_turned_off` (the pod manager's owner turned TLS verification off: the nodes' " +
      "`redfish_verify_ca` follows; otherwise a re-sync only ever raises it).",
    outcome:
      "How it ended; `null` while in flight. `code`: `Succeeded`, `Cancelled`, or why it failed — " +
      "`IronicStepFailed` (Ironic ended the step in a failed state; `detail` is its `last_error`), " +
      "`VerificationFailed` (a register's `manage` failed and the registration was rolled back), `ResyncIncomplete` " +
      "(a `resync` did not reach every node: `results` says which and why), `OperationTimeout` " +
      "(the deadline passed), `IronicError` (Ironic kept failing), `NodeNotRegistered`, `RegistrationFailed` (the " +
      "register before it failed), `OperationNotStarted` (its workflow could not be started).",
    request_id: "The request that started it (its `X-Request-Id`).",
    principal: "The caller's IAM principal that started it (`anonymous` locally).",
    deadline:
      "After this time (ISO 8601) the operation is failed (`OperationTimeout`) rather than waited on: its " +
      "`created_at` plus `wait_timeout`, or the deployment's default (`VALENCE_OPERATION_DEADLINE_SECONDS`, 2 h).",
    cancel_requested_at: "When a cancel was asked for; `null` if none was.",
    created_at: "When it was recorded.",
    updated_at: "When it last changed (a step, Ironic's progress, its end).",
  },
  HistoryEvent: {
    id: "Sortable (time, then a random suffix); the `marker` of the next page.",
    at: "When it happened (ISO 8601).",
    actor: "The caller's IAM principal (`anonymous` locally), or `reconciler`.",
    request_id: "The request (or reconcile pass) that did it.",
    detail: "Why it failed, or what the reconciler found.",
    ironic_node_uuid: "The Ironic node concerned.",
  },
  PodManager: {
    status:
      "`online`/`offline` as last seen by a probe (create, show, update) or a reconcile pass; `unknown` before either.",
    "authentication[].auth_items.password": "Always `***`.",
    conductor_group:
      "Ironic placement defaults of the nodes it composed (`conductor_group` and the seven fields after it), " +
      "applied when Valence creates their Ironic nodes unless the register body overrides them; `null`: none.",
  },
  Error: {
    request_id: "Also in the `X-Request-Id` header; names the request in the logs.",
    code: "Stable machine-readable code, e.g. `NodeNotFound`.",
    status: "The HTTP status.",
    title: "The status's title, e.g. `Conflict`.",
    detail: "What went wrong, naming the field or resource at fault.",
  },
};
