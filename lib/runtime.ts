import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { config } from "./config.ts";
import { createDocumentClient } from "./db/client.ts";
import { DynamoNodeRepository } from "./nodes/dynamo-repository.ts";
import { NodeService } from "./nodes/service.ts";
import { DynamoPodManagerRepository } from "./podmanagers/dynamo-repository.ts";
import { PodManagerService } from "./podmanagers/service.ts";
import { FileSecretStore } from "./secrets/file-store.ts";
import { SecretsManagerStore } from "./secrets/secrets-manager.ts";
import type { SecretStore } from "./secrets/store.ts";

/**
 * The composition root: builds adapters and services from the configuration, once per Lambda container (or
 * local process), on first use. Handlers take their services from here; tests build services directly.
 */
function once<T>(build: () => T): () => T {
  let value: T | undefined;
  let built = false;
  return () => {
    if (!built) {
      value = build();
      built = true;
    }
    return value as T;
  };
}

export const documentClient = once(() =>
  createDocumentClient({ region: config().AWS_REGION, endpoint: config().DYNAMODB_ENDPOINT }),
);

export const nodeRepository = once(
  () => new DynamoNodeRepository(documentClient(), config().VALENCE_TABLE_NAME),
);

export const podManagerRepository = once(
  () => new DynamoPodManagerRepository(documentClient(), config().VALENCE_TABLE_NAME),
);

export const secretStore = once((): SecretStore => {
  const { VALENCE_SECRET_STORE, VALENCE_SECRETS_FILE, VALENCE_DATA_DIR, VALENCE_SECRET_PREFIX, AWS_REGION } =
    config();
  if (VALENCE_SECRET_STORE === "file") {
    return new FileSecretStore(VALENCE_SECRETS_FILE ?? `${VALENCE_DATA_DIR}/secrets.json`);
  }
  return new SecretsManagerStore(new SecretsManagerClient({ region: AWS_REGION }), VALENCE_SECRET_PREFIX);
});

export const nodeService = once(() => new NodeService(nodeRepository()));

export const podManagerService = once(
  () =>
    new PodManagerService({
      repository: podManagerRepository(),
      secrets: secretStore(),
      countNodes: (podmId) => nodeRepository().countByPodManager(podmId),
    }),
);
