import { config } from "../config.ts";
import { PodManagerResync } from "../podmanagers/resync.ts";
import { ironicDriverFor } from "./ironic.ts";
import { operationServiceFor } from "./operations.ts";
import { secretStoreFor } from "./secrets.ts";
import { deploymentIdentityFor, nodeRepositoryFor, once, podManagerRepositoryFor } from "./store.ts";

/** The re-sync of pod managers' credentials and addresses into their Ironic nodes. */
export const podManagerResyncFor = /* @__PURE__ */ once(
  (settings) =>
    new PodManagerResync({
      nodes: nodeRepositoryFor(settings),
      podManagers: podManagerRepositoryFor(settings),
      secrets: secretStoreFor(settings),
      ironic: () => ironicDriverFor(settings),
      deployment: deploymentIdentityFor(settings),
      operations: operationServiceFor(settings),
    }),
);

export const podManagerResync = () => podManagerResyncFor(config());
