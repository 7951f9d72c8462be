import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { logInvocation } from "../lib/log.ts";
import { reconcileAndReport } from "../lib/nodes/reconcile-job.ts";
import { reconciler } from "../lib/runtime/reconcile.ts";

/** Scheduled (EventBridge): one reconcile pass, bounded by the time this invocation has. */
export const handler = middy<unknown, unknown, Error, Context>()
  .use({
    before: (request) => logInvocation(request.context, request.context.awsRequestId),
  })
  .handler(async (_event, context) =>
    reconcileAndReport(reconciler(), {
      requestId: context.awsRequestId,
      remainingMs: () => context.getRemainingTimeInMillis(),
    }),
  );
