/**
 * The composition root: builds adapters and services from a configuration, once per configuration (once per
 * Lambda container, or per local stack), on first use. Each builder takes a `Config` (`nodeServiceFor(config)`);
 * the Lambda entry points call its twin bound to this process's configuration (`nodeService()`, see `config()`
 * in `lib/config.ts`). Tests build services directly, or through the builders with a configuration of their own.
 *
 * The wiring lives in `lib/runtime/`, one module per concern, and each function imports the module it needs
 * (`functions/list-nodes.ts` only `runtime/store.ts`): our modules build zod schemas at load, which the bundler
 * cannot drop, so importing the whole root from every function would load Redfish, Ironic and Secrets Manager
 * code into functions that never use them (measured by `bench/cold-start.ts`). New wiring goes into the module
 * of its concern, and is re-exported here for the local stack and the tests.
 */
export { compositionService, compositionServiceFor } from "./runtime/composition.ts";
export { eventPublisher, eventPublisherFor } from "./runtime/events.ts";
export { ironicDriver, ironicDriverFor } from "./runtime/ironic.ts";
export { nodeIronicView, nodeIronicViewFor } from "./runtime/ironic-view.ts";
export {
  lifecycleDeps,
  lifecycleDepsFor,
  operationRepository,
  operationRepositoryFor,
} from "./runtime/operations.ts";
export {
  podManagerAddressPolicy,
  podManagerAddressPolicyFor,
  podManagerService,
  podManagerServiceFor,
  podManagerSessions,
  podManagerSessionsFor,
} from "./runtime/pod-managers.ts";
export { reconciler, reconcilerFor } from "./runtime/reconcile.ts";
export { registrationService, registrationServiceFor } from "./runtime/registration.ts";
export { secretStore, secretStoreFor } from "./runtime/secrets.ts";
export {
  deploymentIdentity,
  deploymentIdentityFor,
  documentClient,
  documentClientFor,
  nodeHistory,
  nodeHistoryFor,
  nodeRepository,
  nodeRepositoryFor,
  nodeService,
  nodeServiceFor,
  podManagerRepository,
  podManagerRepositoryFor,
} from "./runtime/store.ts";
