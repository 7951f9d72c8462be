import { config } from "../config.ts";
import { ConfigurationError } from "../errors.ts";
import { logger } from "../log.ts";
import {
  PodManagerSecretRotation,
  type RotationCaller,
  redfishPodManagerAccounts,
} from "../podmanagers/rotation.ts";
import { SecretsManagerRotatingSecrets } from "../secrets/rotation.ts";
import { podManagerAddressPolicyFor } from "./pod-managers.ts";
import { secretsManagerFor } from "./secrets.ts";
import { once, podManagerRepositoryFor } from "./store.ts";

/**
 * The re-sync of a pod manager's Ironic nodes after its password was rotated. `PodManagerService.resync` (the
 * re-sync as an operation) is not in this build yet: until it is wired here, as
 * `(uuid, caller) => podManagerServiceFor(settings).resync(uuid, caller)`, finishSecret promotes the new password
 * and then fails loudly, so the rotation's failure (and its alarm) says the nodes still hold the old one.
 */
const resyncUnavailable = async (podmUuid: string, caller: RotationCaller): Promise<void> => {
  logger.error("pod-manager re-sync is not available: Ironic nodes keep the previous password", {
    pod_manager: podmUuid,
    request_id: caller.requestId,
  });
  throw new ConfigurationError(
    `pod manager ${podmUuid}: its password was rotated, but this build cannot re-sync its Ironic nodes`,
  );
};

/** The rotation of pod-manager secrets: Secrets Manager, the pod-manager records, the pod managers' accounts. */
export const podManagerSecretRotationFor = /* @__PURE__ */ once(
  (settings) =>
    new PodManagerSecretRotation({
      secrets: new SecretsManagerRotatingSecrets(secretsManagerFor(settings)),
      podManagers: podManagerRepositoryFor(settings),
      accounts: redfishPodManagerAccounts({
        timeoutMs: settings.VALENCE_PODM_TIMEOUT_MS,
        addressPolicy: podManagerAddressPolicyFor(settings),
      }),
      resync: resyncUnavailable,
      secretPrefix: settings.VALENCE_SECRET_PREFIX,
    }),
);

export const podManagerSecretRotation = () => podManagerSecretRotationFor(config());
