import { withDurableExecution } from "@aws/durable-execution-sdk-js";
import { logInvocation } from "../lib/log.ts";
import { durableWorkflowContext } from "../lib/operations/durable.ts";
import {
  type LifecycleInput,
  LifecycleInputSchema,
  type LifecycleResult,
} from "../lib/operations/lifecycle.ts";
import { runOperation } from "../lib/operations/resync.ts";
import { enrollmentDeps } from "../lib/runtime/enrollment.ts";
import { lifecycleDeps } from "../lib/runtime/operations.ts";
import { podManagerResync } from "../lib/runtime/resync.ts";

/**
 * The durable workflow of one operation (a node's Ironic lifecycle, a pod manager's re-sync, or an enrollment of
 * many nodes) (invoked asynchronously with `{operation_id}`, never on the request
 * path): its steps are checkpointed and its waits on Ironic suspend the execution. A malformed input fails the
 * execution outright.
 */
export const handler = withDurableExecution<LifecycleInput, LifecycleResult>(async (event, context) => {
  const input = LifecycleInputSchema.parse(event);
  logInvocation(context.lambdaContext, input.operation_id);
  return runOperation(input, durableWorkflowContext(context), {
    ...(await lifecycleDeps()),
    resyncNode: (operation, node) => podManagerResync().resyncNode(operation, node),
    enrollment: enrollmentDeps,
  });
});
