import { type Config, config } from "../config.ts";
import { createDocumentClient } from "../db/client.ts";
import { DynamoDeploymentIdentity } from "../db/deployment.ts";
import { DynamoNodeRepository } from "../nodes/dynamo-repository.ts";
import { DynamoNodeHistory } from "../nodes/history.ts";
import { NodeService } from "../nodes/service.ts";
import { DynamoPodManagerRepository } from "../podmanagers/dynamo-repository.ts";

/**
 * `build(config)` once per configuration — once per Lambda container, or per local stack — on first use. What
 * is built is kept per configuration object, so a stack or test with its own configuration never gets services
 * built for another. A build that throws, or whose promise rejects, is not kept: the next call builds again,
 * so one transient failure (Secrets Manager, Keystone, a DNS blip) cannot break a warm container until AWS
 * recycles it. `@__PURE__` on each call lets the bundler drop the ones a function never uses.
 */
export function once<T>(build: (settings: Config) => T): (settings: Config) => T {
  const built = new WeakMap<Config, T>();
  return (settings) => {
    if (built.has(settings)) return built.get(settings) as T;
    const value = build(settings);
    built.set(settings, value);
    if (value instanceof Promise) {
      // Registered before any caller's handler, so the failed build is forgotten before a caller sees it.
      value.catch(() => {
        if (built.get(settings) === value) built.delete(settings);
      });
    }
    return value;
  };
}

/** The DynamoDB side of the composition root: what every node and pod-manager function needs. */
export const documentClientFor = /* @__PURE__ */ once((settings) =>
  createDocumentClient({
    region: settings.AWS_REGION,
    endpoint: settings.DYNAMODB_ENDPOINT,
    connectionTimeoutMs: settings.VALENCE_DYNAMODB_CONNECT_TIMEOUT_MS,
    requestTimeoutMs: settings.VALENCE_DYNAMODB_TIMEOUT_MS,
  }),
);

export const nodeRepositoryFor = /* @__PURE__ */ once(
  (settings) => new DynamoNodeRepository(documentClientFor(settings), settings.VALENCE_TABLE_NAME),
);

export const podManagerRepositoryFor = /* @__PURE__ */ once(
  (settings) => new DynamoPodManagerRepository(documentClientFor(settings), settings.VALENCE_TABLE_NAME),
);

export const nodeHistoryFor = /* @__PURE__ */ once(
  (settings) =>
    new DynamoNodeHistory(
      documentClientFor(settings),
      settings.VALENCE_TABLE_NAME,
      settings.VALENCE_HISTORY_LIMIT,
    ),
);

export const nodeServiceFor = /* @__PURE__ */ once(
  (settings) => new NodeService(nodeRepositoryFor(settings)),
);

/** This deployment's identity (kept in its table), marked on the Ironic nodes it creates or adopts. */
export const deploymentIdentityFor = /* @__PURE__ */ once(
  (settings) => new DynamoDeploymentIdentity(documentClientFor(settings), settings.VALENCE_TABLE_NAME),
);

// Bound to this process's configuration (`config()`): what the Lambda entry points call.
export const documentClient = () => documentClientFor(config());
export const nodeRepository = () => nodeRepositoryFor(config());
export const podManagerRepository = () => podManagerRepositoryFor(config());
export const nodeHistory = () => nodeHistoryFor(config());
export const nodeService = () => nodeServiceFor(config());
export const deploymentIdentity = () => deploymentIdentityFor(config());
