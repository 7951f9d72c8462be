import * as z from "zod/mini";
import { lazySchema } from "../lazy-schema.ts";
import {
  PLACEMENT_FIELDS,
  type Placement,
  type PlacementChanges,
  StoredPlacementShape,
} from "./placement.ts";

export const PODM_DRIVERS = ["redfish", "rsd"] as const;
export type PodManagerDriverName = (typeof PODM_DRIVERS)[number];

export const PODM_STATUSES = ["online", "offline", "unknown"] as const;
export type PodManagerStatus = (typeof PODM_STATUSES)[number];

/**
 * A pod manager as stored. The password is never here: `credentials_ref` names it in the secret store.
 * The username is kept (it is shown back to operators, as Ironic shows `redfish_username`). The placement fields
 * (`conductor_group`, `owner`, ...) are the Ironic registration defaults of its nodes, absent when unset.
 */
export const PodManagerSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    uuid: z.string(),
    name: z.string(),
    url: z.string(),
    driver: z.enum(PODM_DRIVERS),
    verify_ca: z.boolean(),
    status: z.enum(PODM_STATUSES),
    username: z.string(),
    credentials_ref: z.string(),
    ...StoredPlacementShape,
    created_at: z.string(),
    updated_at: z.string(),
    version: z.number(),
  }),
);
export type PodManager = z.infer<typeof PodManagerSchema>;

export type NewPodManager = Omit<PodManager, "created_at" | "updated_at" | "version">;
/** A change of a pod manager: absent fields stay; a placement field set to `null` is cleared. */
export type PodManagerChanges = Partial<
  Pick<PodManager, "name" | "url" | "driver" | "verify_ca" | "status" | "username" | "credentials_ref">
> &
  PlacementChanges;

/** Shown in place of every password. */
export const MASKED = "***";

/** The pod manager as the API shows it, in Valence's shape: credentials masked. */
export function toPodManagerView(podm: PodManager) {
  const { version: _version, credentials_ref: _ref, username, ...rest } = podm;
  // Every placement field is shown, `null` when the pod manager has no default for it.
  const placement = Object.fromEntries(PLACEMENT_FIELDS.map((field) => [field, podm[field] ?? null])) as {
    [F in keyof Placement]-?: NonNullable<Placement[F]> | null;
  };
  return {
    ...rest,
    ...placement,
    authentication: [{ type: "basic" as const, auth_items: { username, password: MASKED } }],
  };
}
