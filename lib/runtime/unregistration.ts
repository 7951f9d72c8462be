import type { Config } from "../config.ts";
import { config } from "../config.ts";
import { type RegistrationDeps, RegistrationService } from "../nodes/registration-service.ts";
import { eventPublisherFor } from "./events.ts";
import { ironicDriverFor } from "./ironic.ts";
import { operationServiceFor } from "./operations.ts";
import { deploymentIdentityFor, nodeHistoryFor, nodeRepositoryFor, nodeServiceFor, once } from "./store.ts";

/** What registering and unregistering share: everything but the pod managers, which only a register reads. */
export function unregistrationDeps(settings: Config): RegistrationDeps {
  return {
    nodes: nodeRepositoryFor(settings),
    finder: nodeServiceFor(settings),
    ironic: () => ironicDriverFor(settings),
    defaultResourceClass: settings.VALENCE_RESOURCE_CLASS,
    deployment: deploymentIdentityFor(settings),
    history: nodeHistoryFor(settings),
    events: eventPublisherFor(settings),
    operations: operationServiceFor(settings),
  };
}

/**
 * Unregister nodes (and show Ironic's live state): the registration service without the pod managers, so a
 * function that only unregisters does not carry the Redfish clients.
 */
export const unregistrationServiceFor = /* @__PURE__ */ once(
  (settings) => new RegistrationService(unregistrationDeps(settings)),
);

export const unregistrationService = () => unregistrationServiceFor(config());
