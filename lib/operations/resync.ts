import { eventMessage } from "../events/build.ts";
import type { EventPublisher } from "../events/publisher.ts";
import { type EnrollmentDeps, runEnrollment } from "./enrollment.ts";
import {
  type LifecycleDeps,
  type LifecycleInput,
  type LifecycleResult,
  runLifecycle,
  type WaitCheck,
  type WaitOptions,
  type WorkflowContext,
} from "./lifecycle.ts";
import {
  type IronicProgress,
  isFinalState,
  isFinalStepState,
  type Operation,
  type ResyncResult,
} from "./model.ts";
import type { OperationRepository } from "./repository.ts";
import {
  cancelled,
  failed,
  isPastDeadline,
  type OperationTransition,
  resyncNodeFinished,
  resyncNodeWaiting,
  started,
  succeeded,
} from "./transitions.ts";
import { startOnce, writeEnd, writeTransition } from "./writes.ts";

/**
 * How one node of a re-sync ended, or `busy`: Ironic is in a transition that takes no driver_info change
 * (cleaning, deploying), so the node is tried again once it rests; `ironic` says where it stands.
 */
export type ResyncNodeOutcome =
  | { state: Exclude<ResyncResult["state"], "pending">; detail: string }
  | { state: "busy"; detail: string; ironic: IronicProgress };

export interface ResyncDeps {
  operations: OperationRepository;
  /**
   * Carries the pod manager's current address and credentials into one node's Ironic driver_info and has Ironic
   * validate it. Must be safe to run again (it writes the same driver_info). Throws only for what is worth the
   * engine's retry of the step (the store unreachable); a node Ironic refuses or fails is an outcome.
   */
  resyncNode(operation: Operation, node: ResyncResult): Promise<ResyncNodeOutcome>;
  events?: EventPublisher | undefined;
  now?: () => Date;
  /** Durable wait for a node Ironic is moving. @default 5 s doubling to 60 s */
  durableWait?: WaitOptions;
}

/** Outcome codes of a re-sync that did not reach every node. */
export const RESYNC_FAILURES = {
  /** Some nodes did not take the new driver_info or failed Ironic's validation: `results` says which and why. */
  incomplete: "ResyncIncomplete",
  timeout: "OperationTimeout",
  error: "ResyncError",
} as const;

/**
 * Runs an operation's workflow: a `resync` of a pod manager's nodes, an `enroll` of many nodes, or the Ironic
 * lifecycle of one node.
 */
export async function runOperation(
  input: LifecycleInput,
  ctx: WorkflowContext,
  deps: LifecycleDeps & {
    resyncNode?: ResyncDeps["resyncNode"] | undefined;
    enrollment?: (() => Promise<EnrollmentDeps>) | undefined;
  },
): Promise<LifecycleResult> {
  // The kind never changes, so this read gives a replay the same answer: no checkpoint needed.
  const operation = await deps.operations.get(input.operation_id);
  if (operation?.kind === "enroll" && deps.enrollment)
    return runEnrollment(input, ctx, await deps.enrollment());
  if (operation?.kind === "resync" && deps.resyncNode) {
    return runResync(input, ctx, {
      operations: deps.operations,
      resyncNode: deps.resyncNode,
      events: deps.events,
      ...(deps.now ? { now: deps.now } : {}),
    });
  }
  return runLifecycle(input, ctx, deps);
}

/**
 * The durable re-sync of a pod manager's nodes: one checkpointed step per node (a crash resumes at the first
 * node not done, never redoing one), each ending with that node's result; a node that fails does not stop the
 * others. It takes no node's operation slot: a node cleaning for an hour still gets the new password (Ironic
 * takes driver_info changes in most states). Cancel and deadline are honoured between nodes. It ends
 * `succeeded` when every node did (or was skipped), else `failed` with `ResyncIncomplete` naming the nodes.
 */
export async function runResync(
  input: LifecycleInput,
  ctx: WorkflowContext,
  deps: ResyncDeps,
): Promise<LifecycleResult> {
  const workflow = new ResyncWorkflow(input.operation_id, deps);
  try {
    const names = await ctx.step("start", () => workflow.start());
    for (const [index, name] of names.entries()) {
      let next = await ctx.step(`node ${name}`, () => workflow.node(index));
      if (next === "busy") {
        // Ironic takes no driver_info change while it cleans or deploys: suspend until the node rests, then patch.
        next = await ctx.waitUntil(
          `node ${name}: wait`,
          async (): Promise<WaitCheck<NodeStep>> => {
            const now = await workflow.node(index).catch((): NodeStep => "busy");
            return now === "busy" ? { done: false } : { done: true, value: now };
          },
          deps.durableWait ?? { firstDelayMs: 5_000, maxDelayMs: 60_000 },
        );
      }
      if (next === "stop") break;
    }
  } catch (error) {
    const detail = (error as Error).message;
    return ctx.step("fail", () => workflow.failOnError(detail));
  }
  return ctx.step("finish", () => workflow.finish());
}

/** Where one node's step left the re-sync: on to the next node, stopped (it ended), or waiting on Ironic. */
type NodeStep = "next" | "stop" | "busy";

class ResyncWorkflow {
  private readonly now: () => Date;

  constructor(
    private readonly operationId: string,
    private readonly deps: ResyncDeps,
  ) {
    this.now = deps.now ?? (() => new Date());
  }

  /** `pending` → `running` (once), publishing Operation Started; the node names, in order (none once ended). */
  async start(): Promise<string[]> {
    const operation = await startOnce(
      await this.load(),
      (pending) => this.write(pending, started),
      this.deps.events,
      this.now,
    );
    return operation?.steps.map((step) => step.name) ?? [];
  }

  /** Re-syncs node `index` unless it ended already: whether the re-sync goes on, stopped, or waits on Ironic. */
  async node(index: number): Promise<NodeStep> {
    const operation = await this.load();
    if (isFinalState(operation.state)) return "stop";
    if (operation.state === "cancelling") {
      await this.end(operation, (current) => cancelled(current, this.now()));
      return "stop";
    }
    if (isPastDeadline(operation, this.now())) {
      await this.end(operation, (current) =>
        failed(
          current,
          { code: RESYNC_FAILURES.timeout, detail: `deadline ${current.deadline} passed` },
          this.now(),
        ),
      );
      return "stop";
    }
    const step = operation.steps[index];
    const target = operation.results?.[index];
    if (!step || !target || isFinalStepState(step.state)) return "next";
    const outcome = await this.deps.resyncNode(operation, target);
    if (outcome.state === "busy") {
      const detail = eventMessage(outcome.detail);
      await this.write(operation, (current) =>
        current.steps[index] && !isFinalStepState(current.steps[index].state)
          ? resyncNodeWaiting(current, index, outcome.ironic, detail, this.now())
          : undefined,
      );
      return "busy";
    }
    const ended = outcome;
    await this.write(operation, (current) =>
      current.steps[index] && !isFinalStepState(current.steps[index].state)
        ? resyncNodeFinished(
            current,
            index,
            { state: ended.state, detail: eventMessage(ended.detail) },
            this.now(),
          )
        : undefined,
    );
    return "next";
  }

  /** Ends the operation: succeeded when every node did or was skipped, else failed naming those that did not. */
  async finish(): Promise<LifecycleResult> {
    let operation = await this.load();
    if (!isFinalState(operation.state)) {
      const results = operation.results ?? [];
      const notDone = results.filter((each) => each.state !== "succeeded" && each.state !== "skipped");
      if (operation.state === "cancelling" && notDone.length > 0) {
        operation = await this.end(operation, (current) => cancelled(current, this.now()));
      } else if (notDone.length > 0) {
        const named = notDone.map((each) => `${each.name}: ${each.detail ?? each.state}`).join("; ");
        operation = await this.end(operation, (current) =>
          failed(
            current,
            {
              code: RESYNC_FAILURES.incomplete,
              detail: eventMessage(`${notDone.length} of ${results.length} nodes not re-synced: ${named}`),
            },
            this.now(),
          ),
        );
      } else {
        const done = results.filter((each) => each.state === "succeeded").length;
        operation = await this.end(operation, (current) =>
          succeeded(
            current,
            `pod manager ${current.node_name}: ${done} of ${results.length} nodes re-synced and validated by Ironic`,
          ),
        );
      }
    }
    return { operation_id: operation.id, state: operation.state, outcome: operation.outcome };
  }

  /** Fails the operation (if it has not ended) after an error no step could get past. */
  async failOnError(detail: string): Promise<LifecycleResult> {
    let operation = await this.load();
    if (!isFinalState(operation.state)) {
      operation = await this.end(operation, (current) =>
        failed(current, { code: RESYNC_FAILURES.error, detail: eventMessage(detail) }, this.now()),
      );
    }
    return { operation_id: operation.id, state: operation.state, outcome: operation.outcome };
  }

  private async load(): Promise<Operation> {
    const operation = await this.deps.operations.get(this.operationId);
    if (!operation) throw new Error(`operation ${this.operationId} not found`);
    return operation;
  }

  /** Writes a transition that ends the operation, and publishes Operation Finished if this write ended it. */
  private end(
    operation: Operation,
    transition: (current: Operation) => OperationTransition | undefined,
  ): Promise<Operation> {
    return writeEnd(
      (onWritten) => this.write(operation, transition, onWritten),
      this.deps.events,
      this.now(),
    );
  }

  /** Writes `transition(operation)`, trying again on a concurrent write (see `writeTransition`). */
  private write(
    operation: Operation,
    transition: (current: Operation) => OperationTransition | undefined,
    onWritten?: () => void,
  ): Promise<Operation> {
    return writeTransition(this.deps.operations, () => this.load(), operation, transition, onWritten);
  }
}
