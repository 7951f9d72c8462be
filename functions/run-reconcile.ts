import { route } from "../lib/api/routes/run-reconcile.ts";
import { httpRoute, json } from "../lib/http/route.ts";
import { reconcileAndReport } from "../lib/nodes/reconcile-job.ts";
import { reconciler } from "../lib/runtime/reconcile.ts";

/** `POST /v1/reconcile`, local stack only: one pass now, answering its summary. */
export const handler = httpRoute(route, async ({ requestId, remainingMs }) =>
  json(200, await reconcileAndReport(reconciler(), { requestId, remainingMs })),
);
