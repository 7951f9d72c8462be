import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { config } from "../config.ts";
import { FileSecretStore } from "../secrets/file-store.ts";
import { SecretsManagerStore } from "../secrets/secrets-manager.ts";
import type { SecretStore } from "../secrets/store.ts";
import { once } from "./store.ts";

/** Secrets Manager: pod-manager credentials, and Ironic's when `IRONIC_SECRET_ARN` names a secret. */
export const secretsManagerFor = /* @__PURE__ */ once(
  (settings) => new SecretsManagerClient({ region: settings.AWS_REGION }),
);

export const secretStoreFor = /* @__PURE__ */ once((settings): SecretStore => {
  if (settings.VALENCE_SECRET_STORE === "file") {
    return new FileSecretStore(settings.VALENCE_SECRETS_FILE ?? `${settings.VALENCE_DATA_DIR}/secrets.json`);
  }
  const rotation =
    settings.VALENCE_SECRET_ROTATION_LAMBDA_ARN && settings.VALENCE_SECRET_ROTATION_DAYS
      ? {
          lambdaArn: settings.VALENCE_SECRET_ROTATION_LAMBDA_ARN,
          days: settings.VALENCE_SECRET_ROTATION_DAYS,
        }
      : undefined;
  return new SecretsManagerStore(secretsManagerFor(settings), settings.VALENCE_SECRET_PREFIX, rotation);
});

export const secretsManager = () => secretsManagerFor(config());
export const secretStore = () => secretStoreFor(config());
