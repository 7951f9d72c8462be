import { config } from "../config.ts";
import { createDocumentClient } from "../db/client.ts";
import { DynamoDeploymentIdentity } from "../db/deployment.ts";
import { DynamoNodeRepository } from "../nodes/dynamo-repository.ts";
import { DynamoNodeHistory } from "../nodes/history.ts";
import { NodeService } from "../nodes/service.ts";
import { DynamoPodManagerRepository } from "../podmanagers/dynamo-repository.ts";

/**
 * `build()` once per Lambda container (or local process), on first use — after the local stack or a test has
 * set the environment. `@__PURE__` on each call lets the bundler drop the ones a function never uses.
 */
export function once<T>(build: () => T): () => T {
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

/** The DynamoDB side of the composition root: what every node and pod-manager function needs. */
export const documentClient = /* @__PURE__ */ once(() =>
  createDocumentClient({ region: config().AWS_REGION, endpoint: config().DYNAMODB_ENDPOINT }),
);

export const nodeRepository = /* @__PURE__ */ once(
  () => new DynamoNodeRepository(documentClient(), config().VALENCE_TABLE_NAME),
);

export const podManagerRepository = /* @__PURE__ */ once(
  () => new DynamoPodManagerRepository(documentClient(), config().VALENCE_TABLE_NAME),
);

export const nodeHistory = /* @__PURE__ */ once(
  () => new DynamoNodeHistory(documentClient(), config().VALENCE_TABLE_NAME, config().VALENCE_HISTORY_LIMIT),
);

export const nodeService = /* @__PURE__ */ once(() => new NodeService(nodeRepository()));

/** This deployment's identity (kept in its table), marked on the Ironic nodes it creates or adopts. */
export const deploymentIdentity = /* @__PURE__ */ once(
  () => new DynamoDeploymentIdentity(documentClient(), config().VALENCE_TABLE_NAME),
);
