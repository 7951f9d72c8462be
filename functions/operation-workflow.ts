import { withDurableExecution } from "@aws/durable-execution-sdk-js";
import { durableWorkflowContext } from "../lib/operations/durable.ts";
import {
  type LifecycleInput,
  LifecycleInputSchema,
  type LifecycleResult,
  runLifecycle,
} from "../lib/operations/lifecycle.ts";
import { lifecycleDeps } from "../lib/runtime/operations.ts";

/**
 * The durable lifecycle of one operation (invoked asynchronously with `{operation_id}`, never on the request
 * path): its steps are checkpointed and its waits on Ironic suspend the execution. A malformed input fails the
 * execution outright.
 */
export const handler = withDurableExecution<LifecycleInput, LifecycleResult>(async (event, context) =>
  runLifecycle(LifecycleInputSchema.parse(event), durableWorkflowContext(context), await lifecycleDeps()),
);
