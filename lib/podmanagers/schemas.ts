import * as z from "zod/mini";
import { lazySchema } from "../lazy-schema.ts";
import { PODM_DRIVERS } from "./model.ts";
import { placementPatchShape, placementShape } from "./placement.ts";

/** Longest pod-manager URL: far above any real one, far below a DynamoDB item (400 KB). */
export const MAX_URL_LENGTH = 2048;

/**
 * http(s) only; stored without a trailing slash so `http://x/` and `http://x` are one pod manager. Which hosts
 * and schemes a deployment accepts is its address policy's business (`lib/net/address-policy.ts`).
 */
const httpUrl = /* @__PURE__ */ lazySchema(() =>
  z.pipe(
    z.url({ protocol: /^https?$/ }).check(
      z.maxLength(MAX_URL_LENGTH),
      // A password there would be stored, listed and logged as a plain field: credentials go in `authentication`.
      z.refine((url) => !/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(url), {
        error: "must not carry credentials (user:password@); give them in authentication",
      }),
    ),
    z.transform((url) => url.replace(/\/+$/, "")),
  ),
);

/** Valence's clients send `redfishv1` by default; it names the RSD 2.x API. */
const driverName = /* @__PURE__ */ lazySchema(() =>
  z.pipe(
    z.enum([...PODM_DRIVERS, "redfishv1"]),
    z.transform((driver) => (driver === "redfishv1" ? "rsd" : driver)),
  ),
);

const BasicAuthentication = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    type: z.literal("basic"),
    auth_items: z.strictObject({
      username: z.string().check(z.minLength(1), z.maxLength(255)),
      password: z.string().check(z.minLength(1), z.maxLength(1024)),
    }),
  }),
);

const name = /* @__PURE__ */ lazySchema(() =>
  z.string().check(
    z.minLength(1),
    z.maxLength(255),
    z.regex(/^[^\s/]+( [^\s/]+)*$/, {
      error: "must not contain a slash, tabs or line breaks, nor begin, end or repeat spaces",
    }),
  ),
);

/**
 * `POST /v1/pod_managers`, in Valence's shape, with the Ironic registration defaults of its nodes (`conductor_group`,
 * `owner`, ...: `lib/podmanagers/placement.ts`).
 */
export const CreatePodManagerBody = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    name,
    url: httpUrl,
    driver: z._default(driverName, "redfish"),
    verify_ca: z._default(z.boolean(), true),
    authentication: z.array(BasicAuthentication).check(z.minLength(1), z.maxLength(1)),
    ...placementShape,
  }),
);
export type CreatePodManagerInput = z.infer<typeof CreatePodManagerBody>;

/** `PATCH /v1/pod_managers/{id}`: any subset of the create body; `null` clears a placement field. */
export const UpdatePodManagerBody = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    ...placementPatchShape,
    name: z.optional(name),
    url: z.optional(httpUrl),
    driver: z.optional(driverName),
    verify_ca: z.optional(z.boolean()),
    authentication: z.optional(z.array(BasicAuthentication).check(z.minLength(1), z.maxLength(1))),
  }),
);
export type UpdatePodManagerInput = z.infer<typeof UpdatePodManagerBody>;
