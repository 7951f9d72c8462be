import { config } from "../config.ts";
import { RegistrationService } from "../nodes/registration-service.ts";
import { podManagerSessionsFor } from "./pod-managers.ts";
import { once } from "./store.ts";
import { unregistrationDeps } from "./unregistration.ts";

/** Register and unregister nodes in Ironic (and show Ironic's live state). */
export const registrationServiceFor = /* @__PURE__ */ once(
  (settings) =>
    new RegistrationService({
      ...unregistrationDeps(settings),
      sessions: podManagerSessionsFor(settings),
      hardwareRules: settings.VALENCE_HARDWARE_RULES,
    }),
);

export const registrationService = () => registrationServiceFor(config());
