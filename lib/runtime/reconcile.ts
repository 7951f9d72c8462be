import { config } from "../config.ts";
import { DynamoReconcileCursor } from "../nodes/reconcile-cursor.ts";
import { Reconciler } from "../nodes/reconciler.ts";
import { eventPublisherFor } from "./events.ts";
import { ironicDriverFor } from "./ironic.ts";
import { operationServiceFor } from "./operations.ts";
import { podManagerSessionsFor } from "./pod-managers.ts";
import {
  deploymentIdentityFor,
  documentClientFor,
  nodeHistoryFor,
  nodeRepositoryFor,
  once,
  podManagerRepositoryFor,
} from "./store.ts";

/** The scheduled reconciler. */
export const reconcilerFor = /* @__PURE__ */ once(
  (settings) =>
    new Reconciler({
      nodes: nodeRepositoryFor(settings),
      podManagers: podManagerRepositoryFor(settings),
      sessions: podManagerSessionsFor(settings),
      ironic: () => ironicDriverFor(settings),
      deployment: deploymentIdentityFor(settings),
      history: nodeHistoryFor(settings),
      events: eventPublisherFor(settings),
      cursor: new DynamoReconcileCursor(documentClientFor(settings), settings.VALENCE_TABLE_NAME),
      staleIntentMs: settings.VALENCE_INTENT_STALE_SECONDS * 1000,
      operations: operationServiceFor(settings),
    }),
);

export const reconciler = () => reconcilerFor(config());
