import * as z from "zod/mini";
import { lazySchema } from "../lazy-schema.ts";

/** Path `{id}` that must be a uuid (pod managers). */
export const UuidParams = /* @__PURE__ */ lazySchema(() => z.object({ id: z.uuid() }));

/** Path `{id}` of a node: its uuid or its name. */
export const NodeIdParams = /* @__PURE__ */ lazySchema(() =>
  z.object({ id: z.string().check(z.minLength(1), z.maxLength(255)) }),
);

/** Query strings with no parameters at all: anything sent is a mistake worth telling. */
export const NoQuery = /* @__PURE__ */ lazySchema(() => z.strictObject({}));
