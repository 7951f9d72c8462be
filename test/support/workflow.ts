import { runWithConcurrency } from "../../cli/bulk.ts";
import type { ProvisionTarget } from "../../lib/ironic/index.ts";
import type { NodeHistory } from "../../lib/nodes/history.ts";
import type { IronicNodesPort } from "../../lib/nodes/ironic-port.ts";
import { rollBackEnrollment, unregisterForOperation } from "../../lib/nodes/operation-steps.ts";
import type { NodeRepository } from "../../lib/nodes/repository.ts";
import type { NodeService } from "../../lib/nodes/service.ts";
import {
  type MapItemResult,
  type MapOptions,
  runLifecycle,
  type WaitCheck,
  type WorkflowContext,
} from "../../lib/operations/lifecycle.ts";
import type { OperationRepository } from "../../lib/operations/repository.ts";
import { OperationService } from "../../lib/operations/service.ts";
import { MemoryIronic } from "./memory-ironic.ts";

/**
 * A `map` in this process: `fn` over the items, `maxConcurrency` at a time, each with a fresh child context; an
 * item that throws fails alone, as the durable engine's map (tolerating every failure) does.
 */
async function mapInProcess<I, R>(
  items: readonly I[],
  fn: (ctx: WorkflowContext, item: I, index: number) => Promise<R>,
  options: MapOptions<I>,
  child: (name: string) => WorkflowContext,
): Promise<MapItemResult<R>[]> {
  return runWithConcurrency(
    items.map((item, index) => ({ item, index })),
    options.maxConcurrency,
    async ({ item, index }): Promise<MapItemResult<R>> => {
      try {
        const name = options.itemName?.(item, index) ?? String(index);
        return { ok: true, value: structuredClone(await fn(child(name), item, index)) };
      } catch (error) {
        return { ok: false, error: (error as Error).message };
      }
    },
  );
}

/**
 * An in-memory Ironic whose `provide` cleans: the node waits in `clean wait` (target `available`) until the test
 * finishes or fails cleaning; `abort` from `clean wait` ends in `clean failed`, as Ironic does.
 */
export class CleaningIronic extends MemoryIronic {
  override async setProvisionState(
    ident: string,
    target: ProvisionTarget,
    extra?: Record<string, unknown>,
  ): Promise<void> {
    const node = this.nodes.get(ident);
    if (node && target === "provide" && node.provision_state === "manageable") {
      this.calls.push({ method: "setProvisionState", args: [ident, target] });
      node.provision_state = "clean wait";
      node.target_provision_state = "available";
      node.last_error = null;
      node.provision_updated_at = new Date().toISOString();
      return;
    }
    if (node && target === "abort" && node.provision_state === "clean wait") {
      this.calls.push({ method: "setProvisionState", args: [ident, target] });
      node.provision_state = "clean failed";
      node.target_provision_state = null;
      node.last_error = "By request, the clean operation was aborted";
      node.provision_updated_at = new Date().toISOString();
      return;
    }
    return super.setProvisionState(ident, target, extra);
  }

  finishCleaning(uuid: string, error?: string): void {
    const node = this.nodes.get(uuid);
    if (!node) throw new Error(`no node ${uuid}`);
    node.provision_state = error ? "clean failed" : "available";
    node.target_provision_state = null;
    node.last_error = error ?? null;
  }
}

/**
 * An in-process workflow engine: steps run at once, retried when they throw (as the SDK retries a step);
 * `replay` names steps whose first run is thrown away after its side effect, as when a Lambda dies before the
 * checkpoint. `onWait` runs before each check of a durable wait after the first.
 */
export class FakeWorkflowContext implements WorkflowContext {
  readonly ran: string[] = [];
  readonly waits: string[] = [];
  replay = new Set<string>();
  onWait: (check: number) => void | Promise<void> = () => {};
  /** The child context of each `map` item, by the item's name. */
  readonly children = new Map<string, FakeWorkflowContext>();

  map<I, R>(
    _name: string,
    items: readonly I[],
    fn: (ctx: WorkflowContext, item: I, index: number) => Promise<R>,
    options: MapOptions<I>,
  ): Promise<MapItemResult<R>[]> {
    return mapInProcess(items, fn, options, (name) => {
      const child = new FakeWorkflowContext();
      child.onWait = this.onWait;
      this.children.set(name, child);
      return child;
    });
  }

  async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.ran.push(name);
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await fn();
        if (this.replay.delete(name)) throw new Error(`lost the checkpoint of ${name}`);
        return structuredClone(result);
      } catch (error) {
        if (attempt >= 3) throw error;
        this.ran.push(name);
      }
    }
  }

  async waitUntil<T>(name: string, check: () => Promise<WaitCheck<T>>): Promise<T> {
    this.waits.push(name);
    for (let attempt = 0; attempt < 100; attempt++) {
      if (attempt > 0) await this.onWait(attempt);
      const result = await check();
      if (result.done) return structuredClone(result.value);
    }
    throw new Error(`${name} never ended`);
  }
}

/**
 * An in-process workflow engine in real time, for tests that run the lifecycle against the real Ironic without
 * the durable SDK: a step that throws is tried again (up to 3 times, as the SDK retries), a wait sleeps between
 * checks with the workflow's own growing delays, capped at `maxDelayMs`.
 */
export class RealTimeWorkflowContext implements WorkflowContext {
  constructor(private readonly maxDelayMs = 1_000) {}

  map<I, R>(
    _name: string,
    items: readonly I[],
    fn: (ctx: WorkflowContext, item: I, index: number) => Promise<R>,
    options: MapOptions<I>,
  ): Promise<MapItemResult<R>[]> {
    return mapInProcess(items, fn, options, () => new RealTimeWorkflowContext(this.maxDelayMs));
  }

  async step<T>(_name: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return structuredClone(await fn());
      } catch (error) {
        if (attempt >= 3) throw error;
      }
    }
  }

  async waitUntil<T>(
    _name: string,
    check: () => Promise<WaitCheck<T>>,
    options: { firstDelayMs: number; maxDelayMs: number },
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const result = await check();
      if (result.done) return structuredClone(result.value);
      const delay = Math.min(this.maxDelayMs, options.firstDelayMs * 2 ** (attempt - 1));
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

export interface InProcessOperationsDeps {
  operations: OperationRepository;
  nodes: NodeRepository;
  finder: NodeService;
  ironic: IronicNodesPort;
  history?: NodeHistory;
}

/**
 * Operations whose workflow runs in this process to its end before `start` returns: a service-level register
 * with lifecycle steps then answers once its operation ended. For tests that build the services by hand.
 */
export function inProcessOperations(deps: InProcessOperationsDeps): OperationService {
  const service: OperationService = new OperationService({
    operations: deps.operations,
    nodes: deps.nodes,
    finder: deps.finder,
    starter: {
      start: async (operationId) => {
        await runLifecycle({ operation_id: operationId }, new RealTimeWorkflowContext(), {
          operations: deps.operations,
          ironicNodeOf: async (uuid) => (await deps.nodes.get(uuid))?.ironic_node_uuid,
          ironic: deps.ironic,
          release: (operation) => service.release(operation.node_uuid, operation.id),
          rollBackRegistration: (operation, reason) =>
            rollBackEnrollment(operation, reason, {
              nodes: deps.nodes,
              ironic: deps.ironic,
              ...(deps.history ? { history: deps.history } : {}),
            }),
          unregisterNode: (operation) =>
            unregisterForOperation(operation, {
              nodes: deps.nodes,
              ironic: deps.ironic,
              ...(deps.history ? { history: deps.history } : {}),
            }),
        });
      },
    },
  });
  return service;
}
