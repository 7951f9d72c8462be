import { config } from "../config.ts";
import { ValidationError } from "../errors.ts";
import { logger } from "../log.ts";
import { addressPolicy, podManagerUrlCheck } from "../net/address-policy.ts";
import { checkPlacement } from "../nodes/ironic-node.ts";
import type { Placement } from "../podmanagers/placement.ts";
import { PodManagerService } from "../podmanagers/service.ts";
import { PodManagerSessions } from "../podmanagers/sessions.ts";
import { createPodManagerClient } from "../redfish/index.ts";
import { ironicDriverFor } from "./ironic.ts";
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

/**
 * A pod manager's placement fields checked against the Ironic in use when it is set, so a field its API version
 * lacks or an interface it has not enabled is refused at once (400). Ironic's refusals only: an Ironic that cannot
 * be reached or is not configured does not stop a pod manager from being saved (every register checks again).
 */
export const podManagerPlacementCheckFor = /* @__PURE__ */ once(
  (settings) =>
    async (placement: Placement): Promise<void> => {
      try {
        await checkPlacement(await ironicDriverFor(settings), placement);
      } catch (error) {
        if (error instanceof ValidationError) throw error;
        logger.warn("placement fields not checked: Ironic could not be asked", {
          error: (error as Error).message,
        });
      }
    },
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
      checkPlacement: podManagerPlacementCheckFor(settings),
    }),
);

export const podManagerAddressPolicy = () => podManagerAddressPolicyFor(config());
export const podManagerSessions = () => podManagerSessionsFor(config());
export const podManagerService = () => podManagerServiceFor(config());
