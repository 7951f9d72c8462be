import { config } from "../config.ts";
import { PodManagerService } from "../podmanagers/service.ts";
import { PodManagerSessions } from "../podmanagers/sessions.ts";
import { createPodManagerClient } from "../redfish/index.ts";
import { secretStoreFor } from "./secrets.ts";
import { nodeRepositoryFor, once, podManagerRepositoryFor } from "./store.ts";

/** Pod managers: their Redfish clients, opened with the credentials from the secret store. */
export const podManagerSessionsFor = /* @__PURE__ */ once(
  (settings) =>
    new PodManagerSessions(podManagerRepositoryFor(settings), secretStoreFor(settings), (connection) =>
      createPodManagerClient({ ...connection, timeoutMs: settings.VALENCE_PODM_TIMEOUT_MS }),
    ),
);

export const podManagerServiceFor = /* @__PURE__ */ once(
  (settings) =>
    new PodManagerService({
      repository: podManagerRepositoryFor(settings),
      secrets: secretStoreFor(settings),
      countNodes: (podmId) => nodeRepositoryFor(settings).countByPodManager(podmId),
      probe: podManagerSessionsFor(settings).probe,
    }),
);

export const podManagerSessions = () => podManagerSessionsFor(config());
export const podManagerService = () => podManagerServiceFor(config());
