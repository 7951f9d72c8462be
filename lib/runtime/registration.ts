import { config } from "../config.ts";
import { RegistrationService } from "../nodes/registration-service.ts";
import { ironicDriver } from "./ironic.ts";
import { podManagerSessions } from "./pod-managers.ts";
import { deploymentIdentity, nodeHistory, nodeRepository, nodeService, once } from "./store.ts";

/** Register and unregister nodes in Ironic (and show Ironic's live state). */
export const registrationService = /* @__PURE__ */ once(
  () =>
    new RegistrationService({
      nodes: nodeRepository(),
      finder: nodeService(),
      sessions: podManagerSessions(),
      ironic: ironicDriver,
      defaultResourceClass: config().VALENCE_RESOURCE_CLASS,
      deployment: deploymentIdentity(),
      history: nodeHistory(),
    }),
);
