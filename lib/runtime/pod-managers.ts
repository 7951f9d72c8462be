import { config } from "../config.ts";
import { addressPolicy, podManagerUrlCheck } from "../net/address-policy.ts";
import { PodManagerService } from "../podmanagers/service.ts";
import { PodManagerSessions } from "../podmanagers/sessions.ts";
import { createPodManagerClient } from "../redfish/index.ts";
import { secretStore } from "./secrets.ts";
import { nodeRepository, once, podManagerRepository } from "./store.ts";

/** Where pod-manager connections may go: the deployment's address policy. */
export const podManagerAddressPolicy = /* @__PURE__ */ once(() =>
  addressPolicy({
    allowHttp: config().VALENCE_PODM_ALLOW_HTTP,
    allowLoopback: config().VALENCE_PODM_ALLOW_LOOPBACK,
    allowedCidrs: config().VALENCE_PODM_ALLOWED_CIDRS,
  }),
);

/** Pod managers: their Redfish clients, opened with the credentials from the secret store. */
export const podManagerSessions = /* @__PURE__ */ once(
  () =>
    new PodManagerSessions(podManagerRepository(), secretStore(), (connection) =>
      createPodManagerClient({
        ...connection,
        timeoutMs: config().VALENCE_PODM_TIMEOUT_MS,
        addressPolicy: podManagerAddressPolicy(),
      }),
    ),
);

export const podManagerService = /* @__PURE__ */ once(
  () =>
    new PodManagerService({
      repository: podManagerRepository(),
      secrets: secretStore(),
      countNodes: (podmId) => nodeRepository().countByPodManager(podmId),
      probe: podManagerSessions().probe,
      checkUrl: podManagerUrlCheck(podManagerAddressPolicy()),
    }),
);
