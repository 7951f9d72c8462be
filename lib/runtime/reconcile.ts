import { config } from "../config.ts";
import { DynamoReconcileCursor } from "../nodes/reconcile-cursor.ts";
import { Reconciler } from "../nodes/reconciler.ts";
import { ironicDriver } from "./ironic.ts";
import { podManagerSessions } from "./pod-managers.ts";
import {
  deploymentIdentity,
  documentClient,
  nodeHistory,
  nodeRepository,
  once,
  podManagerRepository,
} from "./store.ts";

/** The scheduled reconciler. */
export const reconciler = /* @__PURE__ */ once(
  () =>
    new Reconciler({
      nodes: nodeRepository(),
      podManagers: podManagerRepository(),
      sessions: podManagerSessions(),
      ironic: ironicDriver,
      deployment: deploymentIdentity(),
      history: nodeHistory(),
      cursor: new DynamoReconcileCursor(documentClient(), config().VALENCE_TABLE_NAME),
      staleIntentMs: config().VALENCE_INTENT_STALE_SECONDS * 1000,
    }),
);
