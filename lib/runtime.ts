import { readFileSync } from "node:fs";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { config, openstackEnvironment } from "./config.ts";
import { createDocumentClient } from "./db/client.ts";
import { createIronicDriver, type IronicDriver } from "./ironic/index.ts";
import { resolveIronicSettings } from "./ironic/settings.ts";
import { logger } from "./log.ts";
import { CompositionService } from "./nodes/composition-service.ts";
import { DynamoNodeRepository } from "./nodes/dynamo-repository.ts";
import { DynamoNodeHistory } from "./nodes/history.ts";
import { DynamoReconcileCursor } from "./nodes/reconcile-cursor.ts";
import { Reconciler } from "./nodes/reconciler.ts";
import { RegistrationService } from "./nodes/registration-service.ts";
import { NodeService } from "./nodes/service.ts";
import { DynamoPodManagerRepository } from "./podmanagers/dynamo-repository.ts";
import { PodManagerService } from "./podmanagers/service.ts";
import { PodManagerSessions } from "./podmanagers/sessions.ts";
import { createPodManagerClient } from "./redfish/index.ts";
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

export const documentClient = /* @__PURE__ */ once(() =>
  createDocumentClient({ region: config().AWS_REGION, endpoint: config().DYNAMODB_ENDPOINT }),
);

export const nodeRepository = /* @__PURE__ */ once(
  () => new DynamoNodeRepository(documentClient(), config().VALENCE_TABLE_NAME),
);

export const podManagerRepository = /* @__PURE__ */ once(
  () => new DynamoPodManagerRepository(documentClient(), config().VALENCE_TABLE_NAME),
);

const secretsManager = /* @__PURE__ */ once(() => new SecretsManagerClient({ region: config().AWS_REGION }));

export const secretStore = /* @__PURE__ */ once((): SecretStore => {
  const { VALENCE_SECRET_STORE, VALENCE_SECRETS_FILE, VALENCE_DATA_DIR, VALENCE_SECRET_PREFIX } = config();
  if (VALENCE_SECRET_STORE === "file") {
    return new FileSecretStore(VALENCE_SECRETS_FILE ?? `${VALENCE_DATA_DIR}/secrets.json`);
  }
  return new SecretsManagerStore(secretsManager(), VALENCE_SECRET_PREFIX);
});

export const nodeHistory = /* @__PURE__ */ once(
  () => new DynamoNodeHistory(documentClient(), config().VALENCE_TABLE_NAME, config().VALENCE_HISTORY_LIMIT),
);

export const nodeService = /* @__PURE__ */ once(() => new NodeService(nodeRepository()));

export const podManagerSessions = /* @__PURE__ */ once(
  () =>
    new PodManagerSessions(podManagerRepository(), secretStore(), (connection) =>
      createPodManagerClient({ ...connection, timeoutMs: config().VALENCE_PODM_TIMEOUT_MS }),
    ),
);

export const podManagerService = /* @__PURE__ */ once(
  () =>
    new PodManagerService({
      repository: podManagerRepository(),
      secrets: secretStore(),
      countNodes: (podmId) => nodeRepository().countByPodManager(podmId),
      probe: podManagerSessions().probe,
    }),
);

export const compositionService = /* @__PURE__ */ once(
  () => new CompositionService(nodeRepository(), nodeService(), podManagerSessions(), nodeHistory()),
);

function readOptionalFile(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * The YAML parser for clouds.yaml, in the local stack only: Lambda has no clouds.yaml, and a module name the
 * bundler cannot see keeps the parser out of every function bundle.
 */
async function localYamlParser(): Promise<((text: string) => unknown) | undefined> {
  if (!config().VALENCE_LOCAL) return undefined;
  const name = "yaml";
  const yaml = (await import(name)) as { parse: (text: string) => unknown };
  return yaml.parse;
}

/** The Ironic driver, once per container: its negotiated API version and Keystone token are reused. */
export const ironicDriver = /* @__PURE__ */ once(async (): Promise<IronicDriver> => {
  const settings = config();
  let secret: Record<string, unknown> | undefined;
  if (settings.IRONIC_SECRET_ARN) {
    const value = await secretsManager().send(
      new GetSecretValueCommand({ SecretId: settings.IRONIC_SECRET_ARN }),
    );
    secret = JSON.parse(value.SecretString ?? "{}") as Record<string, unknown>;
  }
  const { url, auth } = await resolveIronicSettings({
    url: settings.IRONIC_URL,
    authType: settings.IRONIC_AUTH_TYPE,
    username: settings.IRONIC_USERNAME,
    password: settings.IRONIC_PASSWORD,
    secret,
    env: openstackEnvironment(),
    readFile: readOptionalFile,
    parseYaml: await localYamlParser(),
  });
  return createIronicDriver({
    ...(url ? { url } : {}),
    auth,
    timeoutMs: settings.IRONIC_TIMEOUT_MS,
    log: (event) => logger.debug("ironic", { ...event }),
  });
});

export const registrationService = /* @__PURE__ */ once(
  () =>
    new RegistrationService({
      nodes: nodeRepository(),
      finder: nodeService(),
      sessions: podManagerSessions(),
      ironic: ironicDriver,
      defaultResourceClass: config().VALENCE_RESOURCE_CLASS,
      history: nodeHistory(),
    }),
);

export const reconciler = /* @__PURE__ */ once(
  () =>
    new Reconciler({
      nodes: nodeRepository(),
      podManagers: podManagerRepository(),
      sessions: podManagerSessions(),
      ironic: ironicDriver,
      history: nodeHistory(),
      cursor: new DynamoReconcileCursor(documentClient(), config().VALENCE_TABLE_NAME),
      staleIntentMs: config().VALENCE_INTENT_STALE_SECONDS * 1000,
    }),
);
