import { config } from "../config.ts";
import { PodManagerService } from "../podmanagers/service.ts";
import { PodManagerSessions } from "../podmanagers/sessions.ts";
import { createPodManagerClient } from "../redfish/index.ts";
import { secretStore } from "./secrets.ts";
import { nodeRepository, once, podManagerRepository } from "./store.ts";

/** Pod managers: their Redfish clients, opened with the credentials from the secret store. */
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
