import { config } from "../config.ts";
import { PodManagerSecretRotation, redfishPodManagerAccounts } from "../podmanagers/rotation.ts";
import { SecretsManagerRotatingSecrets } from "../secrets/rotation.ts";
import { podManagerAddressPolicyFor, podManagerServiceFor } from "./pod-managers.ts";
import { secretsManagerFor } from "./secrets.ts";
import { once, podManagerRepositoryFor } from "./store.ts";

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
      // The new password reaches the pod manager's Ironic nodes as a re-sync operation.
      resync: async (podmUuid, caller) => {
        await podManagerServiceFor(settings).resync(podmUuid, caller);
      },
      secretPrefix: settings.VALENCE_SECRET_PREFIX,
    }),
);

export const podManagerSecretRotation = () => podManagerSecretRotationFor(config());
