import * as z from "zod/mini";
import { lazySchema } from "../lazy-schema.ts";
import { MAX_PAGE_SIZE, MAX_WAIT_SECONDS } from "../nodes/schemas.ts";
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
