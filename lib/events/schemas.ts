import * as z from "zod/mini";
import { lazySchema } from "../lazy-schema.ts";

/**
 * What Valence tells the world: one `source`, a few `detail-type`s, and a strict schema per detail. These are
 * a public contract (EventBridge rules and downstream automation match on them, see docs/events.md): add
 * optional fields freely, and bump `DETAIL_VERSION` for anything that would break a consumer.
 */
export const EVENT_SOURCE = "valence";

/** The version of the detail schemas, in every detail as `version`. */
export const DETAIL_VERSION = "1";

export const NODE_REGISTERED = "Node Registered";
export const NODE_UNREGISTERED = "Node Unregistered";
export const NODE_DRIFT = "Node Drift";
export const NODE_REGISTRATION_FAILED = "Node Registration Failed";
export const OPERATION_STARTED = "Operation Started";
export const OPERATION_FINISHED = "Operation Finished";

export const NODE_DETAIL_TYPES = [
  NODE_REGISTERED,
  NODE_UNREGISTERED,
  NODE_DRIFT,
  NODE_REGISTRATION_FAILED,
] as const;
export const OPERATION_DETAIL_TYPES = [OPERATION_STARTED, OPERATION_FINISHED] as const;
export const DETAIL_TYPES = [...NODE_DETAIL_TYPES, ...OPERATION_DETAIL_TYPES] as const;

export type NodeDetailType = (typeof NODE_DETAIL_TYPES)[number];
export type OperationDetailType = (typeof OPERATION_DETAIL_TYPES)[number];
export type DetailType = (typeof DETAIL_TYPES)[number];

/** Free text (an error, what a rollback did) is bounded: events are notifications, not logs. */
export const MESSAGE_MAX = 2_000;

const text = /* @__PURE__ */ lazySchema(() => z.string().check(z.minLength(1), z.maxLength(256)));
const message = /* @__PURE__ */ lazySchema(() => z.string().check(z.maxLength(MESSAGE_MAX)));
const timestamp = /* @__PURE__ */ lazySchema(() => z.iso.datetime({ offset: true }));

/** Who caused an event, in which request, and when: in every detail. */
const attribution = {
  /** The caller's IAM principal, or `reconciler`. */
  actor: text,
  request_id: text,
  /** When it happened (ISO 8601). */
  at: timestamp,
};

/** A detail: its schema's version first, then `fields`; nothing else. */
function eventDetail<Fields extends z.core.$ZodLooseShape>(fields: Fields) {
  return z.strictObject({ version: z.literal(DETAIL_VERSION), ...fields });
}

/** The node an event is about: identity only, never its Ironic `driver_info` or credentials. */
export const EventNodeSchema = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    uuid: text,
    name: text,
    podm_id: text,
    /** The Ironic node it is (or was) registered as; null when none exists. */
    ironic_node_uuid: z.nullable(text),
  }),
);

/** `Node Registered`, `Node Unregistered`, `Node Drift` and `Node Registration Failed`. */
export const NodeEventDetailSchema = /* @__PURE__ */ lazySchema(() =>
  eventDetail({
    node: EventNodeSchema,
    /** What happened, as the node's history names it (`register`, `adopt`, `finish-register`, `drift`, ...). */
    action: z.enum([
      "register",
      "adopt",
      "finish-register",
      "unregister",
      "force-unregister",
      "finish-unregister",
      "drift",
      "rollback",
    ]),
    outcome: z.enum(["succeeded", "failed"]),
    ...attribution,
    /** Ironic's provision state after a register, when known. */
    provision_state: z.optional(z.nullable(text)),
    /** What went wrong or what was done, scrubbed of credentials and cut to `MESSAGE_MAX` characters. */
    message: z.optional(message),
  }),
);
export type NodeEventDetail = z.infer<typeof NodeEventDetailSchema>;

/** An asynchronous operation (register with lifecycle steps, manage, provide, inspect, clean, ...). */
export const EventOperationSchema = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    id: text,
    /** What it does: `register`, `unregister`, `manage`, `provide`, `inspect`, `clean`, ... */
    kind: text,
    node_uuid: text,
    node_name: z.optional(text),
  }),
);

/** `Operation Started`. */
export const OperationStartedDetailSchema = /* @__PURE__ */ lazySchema(() =>
  eventDetail({ operation: EventOperationSchema, ...attribution }),
);
export type OperationStartedDetail = z.infer<typeof OperationStartedDetailSchema>;

/** `Operation Finished`. */
export const OperationFinishedDetailSchema = /* @__PURE__ */ lazySchema(() =>
  eventDetail({
    operation: EventOperationSchema,
    outcome: z.enum(["succeeded", "failed", "cancelled"]),
    ...attribution,
    /** Ironic's provision state at the end, when known. */
    provision_state: z.optional(z.nullable(text)),
    /** Ironic's `last_error` (or ours), scrubbed of credentials and bounded; null when it succeeded. */
    last_error: z.optional(z.nullable(message)),
  }),
);
export type OperationFinishedDetail = z.infer<typeof OperationFinishedDetailSchema>;

/** One event: its detail-type and the detail of that type. */
export type ValenceEvent =
  | { detailType: NodeDetailType; detail: NodeEventDetail }
  | { detailType: typeof OPERATION_STARTED; detail: OperationStartedDetail }
  | { detailType: typeof OPERATION_FINISHED; detail: OperationFinishedDetail };

/** The detail schema of each detail-type. */
export function detailSchemaOf(detailType: DetailType) {
  if (detailType === OPERATION_STARTED) return OperationStartedDetailSchema;
  if (detailType === OPERATION_FINISHED) return OperationFinishedDetailSchema;
  return NodeEventDetailSchema;
}

/** True when `event` is one Valence may publish: a known detail-type with a detail matching its schema. */
export function isValidEvent(event: { detailType: string; detail: unknown }): boolean {
  if (!(DETAIL_TYPES as readonly string[]).includes(event.detailType)) return false;
  return detailSchemaOf(event.detailType as DetailType).safeParse(event.detail).success;
}
