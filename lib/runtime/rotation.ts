import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { config } from "../config.ts";
import { PodManagerSecretRotation, redfishPodManagerAccounts } from "../podmanagers/rotation.ts";
import { SecretsManagerRotatingSecrets } from "../secrets/rotation.ts";
import { podManagerAddressPolicyFor, podManagerServiceFor } from "./pod-managers.ts";
import { once, podManagerRepositoryFor } from "./store.ts";

/**
 * The SDK's Secrets Manager client, in the rotation function only: staging versions takes more of the API than
 * the other functions' signed requests (`./secrets.ts`) cover, and its tests drive the client.
 */
export const secretsManagerClientFor = /* @__PURE__ */ once(
  (settings) =>
    new SecretsManagerClient({
      region: settings.AWS_REGION,
      ...(settings.SECRETS_MANAGER_ENDPOINT ? { endpoint: settings.SECRETS_MANAGER_ENDPOINT } : {}),
    }),
);

/** The rotation of pod-manager secrets: Secrets Manager, the pod-manager records, the pod managers' accounts. */
export const podManagerSecretRotationFor = /* @__PURE__ */ once(
  (settings) =>
    new PodManagerSecretRotation({
      secrets: new SecretsManagerRotatingSecrets(secretsManagerClientFor(settings)),
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
