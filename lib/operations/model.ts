import * as z from "zod/mini";
import { ValidationError } from "../errors.ts";
import { lazySchema } from "../lazy-schema.ts";

/**
 * What an operation does: to its node, a register with lifecycle steps, an Ironic lifecycle action, an unregister;
 * to a pod manager, a `resync` of its credentials and address into every node it has registered in Ironic; a
 * `hardware_sync` of a node whose composition changed (started by the reconciler): Ironic's properties and the
 * ports Valence created follow the hardware read; an `enroll` of many nodes at once (`POST /v1/nodes/register`),
 * each node's register and lifecycle its own operation.
 */
export const OPERATION_KINDS = [
  "register",
  "manage",
  "provide",
  "inspect",
  "clean",
  "unregister",
  "resync",
  "hardware_sync",
  "enroll",
] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];

export const OPERATION_STATES = [
  "pending",
  "running",
  "succeeded",
  "failed",
  "cancelling",
  "cancelled",
] as const;
export type OperationState = (typeof OPERATION_STATES)[number];

/** States an operation is still in flight in: what a restart must resume or fail. */
export const ACTIVE_OPERATION_STATES = [
  "pending",
  "running",
  "cancelling",
] as const satisfies OperationState[];
/** States an operation ends in; none is ever left. */
export const FINAL_OPERATION_STATES = [
  "succeeded",
  "failed",
  "cancelled",
] as const satisfies OperationState[];
export type FinalOperationState = (typeof FINAL_OPERATION_STATES)[number];

export const STEP_STATES = ["pending", "running", "succeeded", "failed", "skipped", "cancelled"] as const;
export type StepState = (typeof STEP_STATES)[number];
/** States a step ends in. */
export const FINAL_STEP_STATES = [
  "succeeded",
  "failed",
  "skipped",
  "cancelled",
] as const satisfies StepState[];

/** Default time an operation may take before it is failed: Ironic's cleaning alone can take 30 minutes. */
export const DEFAULT_OPERATION_DEADLINE_MS = 2 * 60 * 60 * 1000;

/** Ironic's view of the node while a step waits on it, as last seen. */
export const IronicProgressSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    provision_state: z.nullable(z.string()),
    target_provision_state: z.nullable(z.string()),
    last_error: z.nullable(z.string()),
  }),
);
export type IronicProgress = z.infer<typeof IronicProgressSchema>;

/** A property's value as text (Ironic writes some numbers as strings): `"32"`, `"x86_64"`, or null when unset. */
const PropertyValue = /* @__PURE__ */ lazySchema(() => z.nullable(z.string()));

/** What Ironic's inspection found against what was registered, as an `inspect` step reports it. */
export const InspectionReportSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    /** Every property the same, and every registered port still there. */
    agrees: z.boolean(),
    properties: z.array(
      z.object({ name: z.string(), registered: PropertyValue, found: PropertyValue, agrees: z.boolean() }),
    ),
    ports: z.object({
      registered: z.array(z.string()),
      found: z.array(z.string()),
      added_by_inspection: z.array(z.string()),
      missing: z.array(z.string()),
    }),
  }),
);
export type InspectionReport = z.infer<typeof InspectionReportSchema>;

/** One named step of an operation (`verify`, `manage`, `clean`, ...), in the order it runs. */
export const OperationStepSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    name: z.string(),
    state: z.enum(STEP_STATES),
    started_at: z.nullable(z.string()),
    finished_at: z.nullable(z.string()),
    ...IronicProgressSchema.shape,
    /** Free text for the operator: what the step did or why it failed or was skipped. */
    detail: z.optional(z.string()),
    /** An `inspect` step that succeeded: what Ironic's inspection found against what was registered. */
    report: z.optional(InspectionReportSchema),
  }),
);
export type OperationStep = z.infer<typeof OperationStepSchema>;

/** How the operation ended: a stable code (`Succeeded`, `Cancelled`, or an error code) and a sentence. */
export const OperationOutcomeSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    code: z.string(),
    detail: z.string(),
  }),
);
export type OperationOutcome = z.infer<typeof OperationOutcomeSchema>;

/** One step of Ironic's manual cleaning, as Ironic takes it (`{"interface": "deploy", "step": "erase_devices_metadata"}`). */
export const CleanStepSchema = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    interface: z.enum(["deploy", "power", "management", "bios", "raid", "firmware"]),
    step: z
      .string()
      .check(z.minLength(1), z.maxLength(255), z.regex(/^[A-Za-z0-9_]+$/, "must be a step name")),
    args: z.optional(z.record(z.string(), z.unknown())),
  }),
);
export type CleanStep = z.infer<typeof CleanStepSchema>;

/** What the operation's Ironic verbs take besides the node (only manual cleaning takes anything). */
export const OperationArgumentsSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    clean_steps: z.optional(z.array(CleanStepSchema)),
    /** An unregister's `force`: an `active` node, or one with an instance, is put in maintenance and deleted. */
    force: z.optional(z.boolean()),
    /**
     * A `resync`'s pod-manager addresses (before and after the change): only Ironic nodes whose driver_info points
     * at one of them are re-synced.
     */
    pod_manager_urls: z.optional(z.array(z.string())),
    /** An `enroll`'s register body, for every node (each node's own fields over it). */
    register: z.optional(z.record(z.string(), z.unknown())),
    /** An `enroll`'s limit of nodes enrolled at once. */
    concurrency: z.optional(z.number()),
    /**
     * A `resync` after the pod manager's owner turned TLS verification off: the nodes' `redfish_verify_ca` follows
     * to false. Otherwise a re-sync only ever sets it to true (a node registered with the check keeps it).
     */
    verify_ca_turned_off: z.optional(z.boolean()),
  }),
);
export type OperationArguments = z.infer<typeof OperationArgumentsSchema>;

/** How a `resync` left one node. */
export const RESYNC_RESULT_STATES = ["pending", "succeeded", "failed", "skipped"] as const;

/**
 * One node of a `resync`: its driver_info patched in Ironic and Ironic's own validation of it. `failed` says why
 * (Ironic refused the patch, or its power or management validation failed); `skipped` when the node is no longer
 * one to touch (unregistered meanwhile, its Ironic node gone or not Valence's).
 */
export const ResyncResultSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    node_uuid: z.string(),
    name: z.string(),
    ironic_node_uuid: z.string(),
    state: z.enum(RESYNC_RESULT_STATES),
    detail: z.nullable(z.string()),
  }),
);
export type ResyncResult = z.infer<typeof ResyncResultSchema>;

/** How one node of an `enroll` stands. */
export const ENROLL_NODE_STATES = ["pending", "running", "succeeded", "failed", "cancelled"] as const;
export type EnrollNodeState = (typeof ENROLL_NODE_STATES)[number];

/**
 * One node of an `enroll`: its register and lifecycle run as its own operation (`operation_id`, set once the
 * node is registered). `code` and `detail` say how it ended: the register's error code when the register was
 * refused, the node operation's outcome code otherwise.
 */
export const EnrollNodeSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    node_uuid: z.string(),
    name: z.string(),
    state: z.enum(ENROLL_NODE_STATES),
    operation_id: z.nullable(z.string()),
    ironic_node_uuid: z.nullable(z.string()),
    code: z.nullable(z.string()),
    detail: z.nullable(z.string()),
    /** The register body fields this node sets for itself, over the enrollment's (`arguments.register`). */
    options: z.optional(z.record(z.string(), z.unknown())),
  }),
);
export type EnrollNode = z.infer<typeof EnrollNodeSchema>;

/** An `enroll`'s nodes counted by state, as the API shows it (computed on read). */
export const EnrollProgressSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    total: z.number(),
    ...Object.fromEntries(ENROLL_NODE_STATES.map((state) => [state, z.number()])),
  } as Record<"total" | EnrollNodeState, z.ZodMiniNumber>),
);
export type EnrollProgress = z.infer<typeof EnrollProgressSchema>;

export const OperationSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    /** uuid. */
    id: z.string(),
    /** The operation's subject: its node, or for a `resync` the pod manager (its uuid and name). */
    node_uuid: z.string(),
    node_name: z.string(),
    /** A `resync`'s pod manager. */
    pod_manager_uuid: z.optional(z.string()),
    /** A `resync`'s nodes, one per step in the same order, each with how it ended. */
    results: z.optional(z.array(ResyncResultSchema)),
    /** An `enroll`'s nodes, one per step in the same order, each with its own operation and how it ended. */
    nodes: z.optional(z.array(EnrollNodeSchema)),
    /** An `enroll`'s nodes counted by state. */
    progress: z.optional(EnrollProgressSchema),
    /** A node's operation run by an `enroll`: the enrollment's operation, whose workflow runs this one. */
    parent_id: z.optional(z.string()),
    kind: z.enum(OPERATION_KINDS),
    state: z.enum(OPERATION_STATES),
    steps: z.array(OperationStepSchema),
    arguments: z.optional(OperationArgumentsSchema),
    /** Set when the operation ends, null before. */
    outcome: z.nullable(OperationOutcomeSchema),
    /** The request that started the operation. */
    request_id: z.string(),
    /** The caller's IAM principal that started it. */
    principal: z.string(),
    /** ISO time after which the operation is failed rather than waited on any longer. */
    deadline: z.string(),
    cancel_requested_at: z.nullable(z.string()),
    created_at: z.string(),
    updated_at: z.string(),
    /** Optimistic-locking counter, bumped by the repository on every update. */
    version: z.number(),
  }),
);
export type Operation = z.infer<typeof OperationSchema>;

/** What a caller gives to create an operation; the store fills in the rest (state `pending`, steps pending). */
export interface NewOperation {
  id: string;
  node_uuid: string;
  node_name: string;
  kind: OperationKind;
  /** Names of the steps, in the order they will run. */
  steps: readonly string[];
  request_id: string;
  principal: string;
  /** ISO time; absent: the store's default deadline after creation (2 h unless configured). */
  deadline?: string | undefined;
  arguments?: OperationArguments | undefined;
  pod_manager_uuid?: string | undefined;
  results?: ResyncResult[] | undefined;
  nodes?: EnrollNode[] | undefined;
  parent_id?: string | undefined;
}

/** Fields a transition may change; identity, who started it and when, never change. */
export type OperationChanges = Partial<
  Pick<Operation, "state" | "steps" | "outcome" | "cancel_requested_at" | "results" | "nodes">
>;

export function isActiveState(state: OperationState): boolean {
  return (ACTIVE_OPERATION_STATES as readonly OperationState[]).includes(state);
}

export function isFinalState(state: OperationState): state is FinalOperationState {
  return (FINAL_OPERATION_STATES as readonly OperationState[]).includes(state);
}

export function isFinalStepState(state: StepState): boolean {
  return (FINAL_STEP_STATES as readonly StepState[]).includes(state);
}

/** The operation as a freshly created record has it (before the store adds `version` and its key). */
export function initialOperation(input: NewOperation, at: Date, defaultDeadlineMs: number): Operation {
  // Steps are addressed by name, so a name may appear once.
  const duplicate = input.steps.find((name, index) => input.steps.indexOf(name) !== index);
  if (duplicate !== undefined) throw new ValidationError(`steps: ${duplicate} appears twice`);
  const createdAt = at.toISOString();
  return {
    id: input.id,
    node_uuid: input.node_uuid,
    node_name: input.node_name,
    ...(input.pod_manager_uuid ? { pod_manager_uuid: input.pod_manager_uuid } : {}),
    kind: input.kind,
    state: "pending",
    steps: input.steps.map((name) => ({
      name,
      state: "pending",
      started_at: null,
      finished_at: null,
      provision_state: null,
      target_provision_state: null,
      last_error: null,
    })),
    ...(input.arguments ? { arguments: input.arguments } : {}),
    ...(input.results ? { results: input.results } : {}),
    ...(input.nodes ? { nodes: input.nodes } : {}),
    ...(input.parent_id ? { parent_id: input.parent_id } : {}),
    outcome: null,
    request_id: input.request_id,
    principal: input.principal,
    deadline: input.deadline ?? new Date(at.getTime() + defaultDeadlineMs).toISOString(),
    cancel_requested_at: null,
    created_at: createdAt,
    updated_at: createdAt,
    version: 1,
  };
}

/** The operation as the API shows it: internal bookkeeping stays inside. */
export function toOperationView(operation: Operation): Omit<Operation, "version"> {
  const { version: _version, ...view } = operation;
  if (!view.nodes) return view;
  // Each node's own fields stay inside: the enrollment's register body (`arguments.register`) is what it asked.
  const nodes = view.nodes.map(({ options: _options, ...node }) => node);
  return { ...view, nodes, progress: enrollProgress(view.nodes) };
}

/** An `enroll`'s nodes counted by state. */
export function enrollProgress(nodes: readonly Pick<EnrollNode, "state">[]): EnrollProgress {
  const progress = { total: nodes.length, pending: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
  for (const node of nodes) progress[node.state]++;
  return progress;
}
export type OperationView = ReturnType<typeof toOperationView>;
