import { config } from "../config.ts";
import { FileSecretStore } from "../secrets/file-store.ts";
import {
  type SecretsManagerApi,
  SecretsManagerStore,
  secretsManagerApi,
} from "../secrets/secrets-manager.ts";
import type { SecretStore } from "../secrets/store.ts";
import { defaultProvider } from "./lambda-credentials.ts";
import { once } from "./store.ts";

/**
 * Secrets Manager over signed requests: pod-manager credentials, and Ironic's when `IRONIC_SECRET_ARN` names a
 * secret. Credentials as Lambda gives them (the environment, else the container endpoint). The rotation function
 * keeps the SDK client (`./rotation.ts`).
 */
export const secretsManagerApiFor = /* @__PURE__ */ once(
  (settings): SecretsManagerApi =>
    secretsManagerApi({
      region: settings.AWS_REGION,
      credentials: defaultProvider(),
      ...(settings.SECRETS_MANAGER_ENDPOINT ? { endpoint: settings.SECRETS_MANAGER_ENDPOINT } : {}),
    }),
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
  return new SecretsManagerStore(secretsManagerApiFor(settings), settings.VALENCE_SECRET_PREFIX, rotation);
});

export const secretStore = () => secretStoreFor(config());
