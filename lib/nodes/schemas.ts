import { z } from "zod/mini";
import { MANAGED_BY } from "./model.ts";

export const MAX_PAGE_SIZE = 1000;

/** `GET /v1/nodes` filters and pagination. */
export const ListNodesQuery = z.strictObject({
  managed_by: z.optional(z.enum(MANAGED_BY)),
  podm_id: z.optional(z.uuid()),
  name: z.optional(z.string().check(z.minLength(1), z.maxLength(255))),
  limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(MAX_PAGE_SIZE)), MAX_PAGE_SIZE),
  marker: z.optional(z.uuid()),
});
export type ListNodesInput = z.infer<typeof ListNodesQuery>;
