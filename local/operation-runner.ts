import { LocalDurableTestRunner } from "@aws/durable-execution-sdk-js-testing";
import { handler } from "../functions/operation-workflow.ts";
import { logger } from "../lib/log.ts";
import type { LifecycleResult } from "../lib/operations/lifecycle.ts";
import type { OperationRepository } from "../lib/operations/repository.ts";
import type { OperationStarter } from "../lib/operations/service.ts";

/**
 * Operations on one machine: each runs the very handler Lambda runs (`functions/operation-workflow.ts`) through
 * the durable execution SDK's local runner, with real time (its waits suspend and resume as on AWS). Its
 * checkpoints live in this process, so a killed `npm start` loses its executions: `resume` starts again every
 * operation the store still has in flight, and the workflow's steps, each safe to run again, pick up from what
 * Ironic and the store show.
 */
export interface LocalOperationRunner extends OperationStarter {
  /** Ids of the operations whose workflow runs in this process now. */
  running(): string[];
  /** Resolves once every workflow started so far has ended. */
  settled(): Promise<void>;
  /** Starts a workflow for every operation still `pending`, `running` or `cancelling`; answers how many. */
  resume(operations: OperationRepository): Promise<number>;
  close(): Promise<void>;
}

let environments = 0;

export async function startLocalOperationRunner(): Promise<LocalOperationRunner> {
  if (environments++ === 0) await LocalDurableTestRunner.setupTestEnvironment({ skipTime: false });
  const executions = new Map<string, Promise<void>>();
  let closed = false;

  const start = async (operationId: string) => {
    if (closed) throw new Error("the local operation runner is stopped");
    // One execution per operation, as the durable execution name makes it on AWS.
    if (executions.has(operationId)) return;
    const runner = new LocalDurableTestRunner<LifecycleResult>({ handlerFunction: handler });
    const execution = runner
      .run({ payload: { operation_id: operationId } })
      .then((result) => {
        const outcome = result.getResult();
        logger.info("operation workflow ended", {
          operation_id: operationId,
          status: result.getStatus(),
          state: outcome?.state,
          outcome: outcome?.outcome?.code,
        });
      })
      .catch((error: unknown) => {
        if (!closed)
          logger.error("operation workflow crashed", {
            operation_id: operationId,
            error: (error as Error).message,
          });
      })
      .finally(() => executions.delete(operationId));
    executions.set(operationId, execution);
  };

  return {
    start,
    running: () => [...executions.keys()],
    settled: async () => {
      while (executions.size > 0) await Promise.all(executions.values());
    },
    async resume(operations) {
      let marker: string | undefined;
      let count = 0;
      do {
        const page = await operations.listActive({ limit: 100, ...(marker ? { marker } : {}) });
        for (const operation of page.items) {
          // A node's operation inside an enrollment runs in the enrollment's execution, resumed with it.
          if (operation.parent_id) continue;
          await start(operation.id);
          count++;
        }
        marker = page.next;
      } while (marker);
      if (count > 0) logger.info("operations resumed", { count });
      return count;
    },
    async close() {
      if (closed) return;
      closed = true;
      if (--environments === 0) await LocalDurableTestRunner.teardownTestEnvironment().catch(() => undefined);
    },
  };
}
