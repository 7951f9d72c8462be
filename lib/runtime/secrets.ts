import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { config } from "../config.ts";
import { FileSecretStore } from "../secrets/file-store.ts";
import { SecretsManagerStore } from "../secrets/secrets-manager.ts";
import type { SecretStore } from "../secrets/store.ts";
import { once } from "./store.ts";

/** Secrets Manager: pod-manager credentials, and Ironic's when `IRONIC_SECRET_ARN` names a secret. */
export const secretsManager = /* @__PURE__ */ once(
  () => new SecretsManagerClient({ region: config().AWS_REGION }),
);

export const secretStore = /* @__PURE__ */ once((): SecretStore => {
  const { VALENCE_SECRET_STORE, VALENCE_SECRETS_FILE, VALENCE_DATA_DIR, VALENCE_SECRET_PREFIX } = config();
  if (VALENCE_SECRET_STORE === "file") {
    return new FileSecretStore(VALENCE_SECRETS_FILE ?? `${VALENCE_DATA_DIR}/secrets.json`);
  }
  return new SecretsManagerStore(secretsManager(), VALENCE_SECRET_PREFIX);
});
