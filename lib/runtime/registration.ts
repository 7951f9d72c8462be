import { config } from "../config.ts";
import { RegistrationService } from "../nodes/registration-service.ts";
import { eventPublisherFor } from "./events.ts";
import { ironicDriverFor } from "./ironic.ts";
import { operationServiceFor } from "./operations.ts";
import { podManagerSessionsFor } from "./pod-managers.ts";
import { deploymentIdentityFor, nodeHistoryFor, nodeRepositoryFor, nodeServiceFor, once } from "./store.ts";

/** Register and unregister nodes in Ironic (and show Ironic's live state). */
export const registrationServiceFor = /* @__PURE__ */ once(
  (settings) =>
    new RegistrationService({
      nodes: nodeRepositoryFor(settings),
      finder: nodeServiceFor(settings),
      sessions: podManagerSessionsFor(settings),
      ironic: () => ironicDriverFor(settings),
      defaultResourceClass: settings.VALENCE_RESOURCE_CLASS,
      hardwareRules: settings.VALENCE_HARDWARE_RULES,
      deployment: deploymentIdentityFor(settings),
      history: nodeHistoryFor(settings),
      events: eventPublisherFor(settings),
      operations: operationServiceFor(settings),
    }),
);

export const registrationService = () => registrationServiceFor(config());
