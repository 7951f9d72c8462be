import { config } from "../config.ts";
import { addressPolicy, podManagerUrlCheck } from "../net/address-policy.ts";
import { PodManagerService } from "../podmanagers/service.ts";
import { PodManagerSessions } from "../podmanagers/sessions.ts";
import { createPodManagerClient } from "../redfish/index.ts";
import { podManagerResyncFor } from "./resync.ts";
import { secretStoreFor } from "./secrets.ts";
import { nodeRepositoryFor, once, podManagerRepositoryFor } from "./store.ts";

/** Where pod-manager connections may go: the deployment's address policy. */
export const podManagerAddressPolicyFor = /* @__PURE__ */ once((settings) =>
  addressPolicy({
    allowHttp: settings.VALENCE_PODM_ALLOW_HTTP,
    allowLoopback: settings.VALENCE_PODM_ALLOW_LOOPBACK,
    allowedCidrs: settings.VALENCE_PODM_ALLOWED_CIDRS,
  }),
);

/** Pod managers: their Redfish clients, opened with the credentials from the secret store. */
export const podManagerSessionsFor = /* @__PURE__ */ once(
  (settings) =>
    new PodManagerSessions(podManagerRepositoryFor(settings), secretStoreFor(settings), (connection) =>
      createPodManagerClient({
        ...connection,
        timeoutMs: settings.VALENCE_PODM_TIMEOUT_MS,
        addressPolicy: podManagerAddressPolicyFor(settings),
      }),
    ),
);

export const podManagerServiceFor = /* @__PURE__ */ once(
  (settings) =>
    new PodManagerService({
      repository: podManagerRepositoryFor(settings),
      secrets: secretStoreFor(settings),
      countNodes: (podmId) => nodeRepositoryFor(settings).countByPodManager(podmId),
      probe: podManagerSessionsFor(settings).probe,
      login: podManagerSessionsFor(settings).login,
      resync: podManagerResyncFor(settings),
      checkUrl: podManagerUrlCheck(podManagerAddressPolicyFor(settings)),
    }),
);

export const podManagerAddressPolicy = () => podManagerAddressPolicyFor(config());
export const podManagerSessions = () => podManagerSessionsFor(config());
export const podManagerService = () => podManagerServiceFor(config());
