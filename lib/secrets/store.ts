import * as z from "zod/mini";
import { lazySchema } from "../lazy-schema.ts";

export const CredentialsSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({ username: z.string(), password: z.string() }),
);
export type Credentials = z.infer<typeof CredentialsSchema>;

/**
 * Where credentials live: never DynamoDB. Records keep only the reference `put` returns.
 */
export interface SecretStore {
  /** Creates or replaces the secret `name`; returns its reference. */
  put(name: string, credentials: Credentials): Promise<string>;
  get(ref: string): Promise<Credentials>;
  /** Deleting a secret that is already gone is not an error. */
  delete(ref: string): Promise<void>;
}
