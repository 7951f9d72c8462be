import * as z from "zod/mini";

/** Path `{id}` that must be a uuid (pod managers). */
export const UuidParams = z.object({ id: z.uuid() });

/** Path `{id}` of a node: its uuid or its name. */
export const NodeIdParams = z.object({ id: z.string().check(z.minLength(1), z.maxLength(255)) });

/** Query strings with no parameters at all: anything sent is a mistake worth telling. */
export const NoQuery = z.strictObject({});
