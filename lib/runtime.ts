/**
 * The composition root: builds adapters and services from the configuration, once per Lambda container (or
 * local process), on first use. Handlers take their services from here; tests build services directly.
 *
 * The wiring lives in `lib/runtime/`, one module per concern, and each function imports the module it needs
 * (`functions/list-nodes.ts` only `runtime/store.ts`): our modules build zod schemas at load, which the bundler
 * cannot drop, so importing the whole root from every function would load Redfish, Ironic and Secrets Manager
 * code into functions that never use them (measured by `bench/cold-start.ts`). New wiring goes into the module
 * of its concern, and is re-exported here for the local stack and the tests.
 */
export { compositionService } from "./runtime/composition.ts";
export { ironicDriver } from "./runtime/ironic.ts";
export { podManagerService, podManagerSessions } from "./runtime/pod-managers.ts";
export { reconciler } from "./runtime/reconcile.ts";
export { registrationService } from "./runtime/registration.ts";
export { secretStore } from "./runtime/secrets.ts";
export {
  deploymentIdentity,
  documentClient,
  nodeHistory,
  nodeRepository,
  nodeService,
  podManagerRepository,
} from "./runtime/store.ts";
