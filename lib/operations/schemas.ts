import * as z from "zod/mini";
import { lazySchema } from "../lazy-schema.ts";
import { MAX_PAGE_SIZE, MAX_WAIT_SECONDS, RegisterNodeBody } from "../nodes/schemas.ts";
import { CleanStepSchema } from "./model.ts";

/** Path `{id}` of an operation: its uuid. */
export const OperationIdParams = /* @__PURE__ */ lazySchema(() => z.object({ id: z.uuid() }));

/** `GET /v1/nodes/{id}/operations`: newest first, paginated. */
export const OperationListQuery = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(MAX_PAGE_SIZE)), 100),
    marker: z.optional(z.uuid({ error: "must be an operation id from a page's Link header" })),
  }),
);

/**
 * `POST /v1/nodes/{id}/manage|provide|inspect|clean`. Only `clean` takes steps (Ironic's manual cleaning runs
 * exactly the steps it is given); the others take none.
 */
export const LifecycleActionBody = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    clean_steps: z.optional(z.array(CleanStepSchema).check(z.minLength(1), z.maxLength(50))),
    /** Seconds the operation may take in all (its deadline); default the deployment's (2 h). */
    wait_timeout: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(MAX_WAIT_SECONDS))),
  }),
);
export type LifecycleActionInput = z.infer<typeof LifecycleActionBody>;

/** Seconds a client should wait before looking at an operation again. */
export const OPERATION_RETRY_AFTER_SECONDS = 5;

/** Nodes one `POST /v1/nodes/register` takes: a few racks; each node's result is kept in the one operation. */
export const MAX_ENROLL_NODES = 500;
/** Nodes an enrollment registers and moves through Ironic at once, at most (the CLI's bulk bound). */
export const MAX_ENROLL_CONCURRENCY = 64;
export const DEFAULT_ENROLL_CONCURRENCY = 10;

/**
 * The register body's fields as a node of an enrollment sets them for itself: every field optional and without
 * its default, so a field the item leaves out keeps the enrollment's value rather than the register's default.
 */
const registerFieldsOfItem = /* @__PURE__ */ lazySchema(
  () =>
    Object.fromEntries(
      Object.entries(RegisterNodeBody.shape).map(([field, schema]) => {
        const def = (schema as z.ZodMiniType)._zod.def as { type: string; innerType?: z.ZodMiniType };
        return [field, z.optional(def.type === "default" && def.innerType ? def.innerType : schema)];
      }),
    ) as {
      [K in keyof typeof RegisterNodeBody.shape]: z.ZodMiniOptional<
        z.ZodMiniType<z.infer<(typeof RegisterNodeBody.shape)[K]>>
      >;
    },
);

/** A node by uuid or name. */
const NodeRef = /* @__PURE__ */ lazySchema(() =>
  z.string().check(z.trim(), z.minLength(1), z.maxLength(255)),
);

/** One node of an enrollment: its uuid or name, or `{node, <register body fields>...}` for its own fields. */
export const EnrollItem = /* @__PURE__ */ lazySchema(() =>
  z.union([NodeRef, z.strictObject({ node: NodeRef, ...registerFieldsOfItem })]),
);
export type EnrollItemInput = z.infer<typeof EnrollItem>;

/** The node an item names. */
export function nodeOfItem(item: EnrollItemInput): string {
  return typeof item === "string" ? item : item.node;
}

/**
 * `POST /v1/nodes/register`: enroll many nodes at once, with the single register's options (`RegisterNodeBody`)
 * for each. The nodes are a list (`nodes`) or a selector (`selector`: the nodes of a pod manager that Valence
 * manages, none registered yet); exactly one of the two.
 */
export const EnrollNodesBody = /* @__PURE__ */ lazySchema(() =>
  z
    .strictObject({
      ...RegisterNodeBody.shape,
      nodes: z.optional(
        z
          .array(EnrollItem)
          .check(
            z.minLength(1, { error: "the list of nodes is empty" }),
            z.maxLength(MAX_ENROLL_NODES, { error: `at most ${MAX_ENROLL_NODES} nodes at once` }),
          ),
      ),
      selector: z.optional(
        z.strictObject({
          podm_id: z.uuid(),
          managed_by: z.literal("valence"),
        }),
      ),
      concurrency: z._default(
        z.number().check(z.int(), z.minimum(1), z.maximum(MAX_ENROLL_CONCURRENCY)),
        DEFAULT_ENROLL_CONCURRENCY,
      ),
    })
    .check(
      z.superRefine((body, context) => {
        if ((body.nodes === undefined) === (body.selector === undefined))
          context.issues.push({
            code: "custom",
            message: "give exactly one of nodes (a list) or selector (a pod manager's nodes)",
            input: body,
            path: [],
          });
        const seen = new Map<string, number>();
        for (const [index, item] of (body.nodes ?? []).entries()) {
          const node = nodeOfItem(item);
          const first = seen.get(node);
          if (first === undefined) seen.set(node, index);
          else
            context.issues.push({
              code: "custom",
              message: `${node} is listed twice (also nodes[${first}])`,
              input: item,
              path: ["nodes", index],
            });
        }
      }),
    ),
);
export type EnrollNodesInput = z.infer<typeof EnrollNodesBody>;
