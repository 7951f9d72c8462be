import {
  NodeBusyError,
  NodeNotRegisteredError,
  OperationInProgressError,
  OperationNotFoundError,
  OperationNotStartedError,
  ValidationError,
  VersionConflictError,
} from "../errors.ts";
import { logger } from "../log.ts";
import type { Node } from "../nodes/model.ts";
import type { NodeRepository } from "../nodes/repository.ts";
import type { NodeService } from "../nodes/service.ts";
import { withOperation, withoutOperation } from "../nodes/transitions.ts";
import {
  isFinalState,
  type NewOperation,
  type Operation,
  type OperationArguments,
  type OperationKind,
  type ResyncResult,
} from "./model.ts";
import type { OperationListQuery, OperationPage, OperationRepository } from "./repository.ts";
import { failed } from "./transitions.ts";
import { cancelNodesUnderWay, requestCancel } from "./writes.ts";

/** Starts the workflow of an operation stored `pending`. Starting one that was started already changes nothing. */
export interface OperationStarter {
  start(operationId: string): Promise<void>;
}

/**
 * The durable execution name of an operation's workflow: the engine refuses a second execution of one name, so a
 * retried start never runs the operation twice.
 */
export function executionNameOf(operationId: string): string {
  return `operation-${operationId}`;
}

/** Ironic lifecycle actions on a registered node, each one operation with one step of that name. */
export const LIFECYCLE_ACTIONS = ["manage", "provide", "inspect", "clean"] as const;
export type LifecycleAction = (typeof LIFECYCLE_ACTIONS)[number];

/** Who asks and under which request id. */
export interface OperationCaller {
  requestId: string;
  principal: string;
}

export interface OperationServiceDeps {
  operations: OperationRepository;
  nodes: NodeRepository;
  finder: NodeService;
  starter: OperationStarter;
  now?: () => Date;
  newId?: () => string;
}

/** What an operation on a node is to be, before it is stored. */
export interface OperationPlan {
  kind: OperationKind;
  steps: readonly string[];
  arguments?: OperationArguments | undefined;
  /** Seconds from now; absent: the store's default deadline. */
  deadlineSeconds?: number | undefined;
}

/**
 * Operations: Ironic's long lifecycle run by a durable workflow, shown and cancelled through the API. One
 * operation per node at a time: the node records the one it runs (`operation`), written with a conditional
 * update before the operation starts and cleared when it ends.
 */
export class OperationService {
  private readonly now: () => Date;
  private readonly newId: () => string;

  constructor(private readonly deps: OperationServiceDeps) {
    this.now = deps.now ?? (() => new Date());
    this.newId = deps.newId ?? (() => crypto.randomUUID());
  }

  async get(id: string): Promise<Operation> {
    const operation = await this.deps.operations.get(id);
    if (!operation) throw new OperationNotFoundError(id);
    return operation;
  }

  async listForNode(nodeId: string, query: OperationListQuery): Promise<OperationPage> {
    const node = await this.deps.finder.find(nodeId);
    return this.deps.operations.listByNode(node.uuid, query);
  }

  /**
   * Asks the operation to stop: the workflow aborts in Ironic where Ironic allows it (`clean wait`, `inspect
   * wait`), otherwise it stops at the next step boundary. Cancelling twice is fine; cancelling an ended one is not.
   * Cancelling an enrollment also cancels the node operations it has under way.
   */
  async cancel(id: string): Promise<Operation> {
    const operation = await requestCancel(this.deps.operations, id, this.now());
    if (operation.kind === "enroll") await cancelNodesUnderWay(this.deps.operations, operation, this.now());
    return operation;
  }

  /** Starts Ironic's `action` on a registered node as an operation; 409 while another one runs on it. */
  async act(
    nodeId: string,
    action: LifecycleAction,
    options: { clean_steps?: OperationArguments["clean_steps"]; wait_timeout?: number | undefined },
    caller: OperationCaller,
  ): Promise<Operation> {
    if (action === "clean" && !options.clean_steps)
      throw new ValidationError("body.clean_steps: clean needs the steps to run (Ironic's manual cleaning)");
    if (action !== "clean" && options.clean_steps)
      throw new ValidationError(`body.clean_steps: only clean takes steps, not ${action}`);
    const node = await this.deps.finder.find(nodeId);
    if (node.managed_by !== "ironic" || !node.ironic_node_uuid) throw new NodeNotRegisteredError(node.name);
    await this.ensureIdle(node);
    return this.begin(
      node,
      {
        kind: action,
        // `provide` leaves any state Ironic provides from only through `manage` (`enroll`, `clean failed` after a
        // failed cleaning): it manages first where needed, so retrying provide is all an operator does.
        steps: action === "provide" ? ["manage", "provide"] : [action],
        arguments: options.clean_steps ? { clean_steps: options.clean_steps } : undefined,
        deadlineSeconds: options.wait_timeout,
      },
      caller,
    );
  }

  /**
   * Starts an operation on a registered node found idle: takes the node (a conditional write: of concurrent
   * callers one wins, the others get 409 naming what runs), stores the operation, starts its workflow.
   */
  async begin(node: Node, plan: OperationPlan, caller: OperationCaller): Promise<Operation> {
    const id = this.newId();
    try {
      await this.deps.nodes.update(
        node.uuid,
        { version: node.version, managed_by: "ironic", noIntent: true },
        withOperation({ id, kind: plan.kind, started_at: this.now().toISOString() }),
      );
    } catch (error) {
      if (error instanceof VersionConflictError) throw await this.busy(node.uuid, node.name);
      throw error;
    }
    let operation: Operation;
    try {
      operation = await this.record(id, node, plan, caller);
    } catch (error) {
      await this.release(node.uuid, id);
      throw error;
    }
    return this.launch(operation);
  }

  /**
   * Starts an operation whose subject is a pod manager (a `resync`, one step per node): it takes no node's
   * operation slot, so a node busy with its own operation (an hour of cleaning) does not hold it up, and it holds
   * up none. Operations of the pod manager still in flight are asked to stop: this one carries the newer values.
   */
  async beginForPodManager(
    podm: { uuid: string; name: string },
    plan: OperationPlan & { results: ResyncResult[] },
    caller: OperationCaller,
  ): Promise<Operation> {
    const earlier = await this.deps.operations.listByNode(podm.uuid, { limit: 20 });
    for (const operation of earlier.items) {
      if (operation.state !== "pending" && operation.state !== "running") continue;
      await this.cancel(operation.id).catch((error: unknown) => {
        logger.warn("could not cancel an earlier operation of the pod manager", {
          operation_id: operation.id,
          error: (error as Error).message,
        });
      });
    }
    const operation = await this.deps.operations.create({
      id: this.newId(),
      node_uuid: podm.uuid,
      node_name: podm.name,
      pod_manager_uuid: podm.uuid,
      kind: plan.kind,
      steps: plan.steps,
      results: plan.results,
      request_id: caller.requestId,
      principal: caller.principal,
      arguments: plan.arguments,
      deadline: this.deadlineOf(plan),
    });
    return this.launch(operation);
  }

  /** A pod manager's operations (its re-syncs), newest first. */
  listForPodManager(podmUuid: string, query: OperationListQuery): Promise<OperationPage> {
    return this.deps.operations.listByNode(podmUuid, query);
  }

  /**
   * 409 while the node runs an operation or a register/unregister. The node's `operation` is cleared just after
   * the operation ends: one that ended already no longer holds the node (the next write replaces it).
   */
  async ensureIdle(node: Node): Promise<void> {
    if (node.operation) {
      const running = await this.deps.operations.get(node.operation.id);
      if (running && !isFinalState(running.state))
        throw new OperationInProgressError(node.name, running.id, running.kind);
    }
    assertIdle({ ...node, operation: null });
  }

  /** When a plan with a deadline must have ended, from now. */
  private deadlineOf(plan: Pick<OperationPlan, "deadlineSeconds">): string | undefined {
    return plan.deadlineSeconds === undefined
      ? undefined
      : new Date(this.now().getTime() + plan.deadlineSeconds * 1000).toISOString();
  }

  /** Stores an operation for `node` (whose `operation` already names `id`), `pending`. */
  record(id: string, node: Pick<Node, "uuid" | "name">, plan: OperationPlan, caller: OperationCaller) {
    const operation: NewOperation = {
      id,
      node_uuid: node.uuid,
      node_name: node.name,
      kind: plan.kind,
      steps: plan.steps,
      request_id: caller.requestId,
      principal: caller.principal,
      arguments: plan.arguments,
      deadline: this.deadlineOf(plan),
    };
    return this.deps.operations.create(operation);
  }

  /**
   * Starts the stored operation's workflow. If it cannot be started, the operation is failed and the node freed:
   * nothing is left waiting for a workflow that never runs.
   */
  async launch(operation: Operation): Promise<Operation> {
    try {
      await this.deps.starter.start(operation.id);
      return operation;
    } catch (error) {
      const detail = `the workflow could not be started: ${(error as Error).message}`;
      logger.error("operation not started", { operation_id: operation.id, error: (error as Error).message });
      await this.failUnstarted(operation, "OperationNotStarted", detail);
      throw new OperationNotStartedError(
        `operation ${operation.id}: ${detail}; it was failed and the node freed`,
      );
    }
  }

  /**
   * Fails an operation no workflow carries on (its start failed, the register before it did, or it was abandoned)
   * and frees its node.
   */
  async failUnstarted(operation: Operation, code: string, detail: string): Promise<void> {
    try {
      const current = (await this.deps.operations.get(operation.id)) ?? operation;
      if (!isFinalState(current.state)) {
        await this.deps.operations.update(
          current.id,
          { version: current.version },
          failed(current, { code, detail }, this.now()),
        );
      }
    } catch (error) {
      logger.error("could not fail the operation", {
        operation_id: operation.id,
        error: (error as Error).message,
      });
    }
    await this.release(operation.node_uuid, operation.id);
  }

  /**
   * Fails every operation still in flight well past its deadline, and frees its node: no workflow runs it any
   * more (a workflow fails its operation at the deadline itself, at its next look at Ironic), e.g. a start that
   * never ran or an execution that failed outright on AWS. Answers how many it failed.
   */
  async failAbandoned(graceMs: number): Promise<number> {
    const now = this.now().getTime();
    let failedCount = 0;
    let marker: string | undefined;
    do {
      const page = await this.deps.operations.listActive({ limit: 100, ...(marker ? { marker } : {}) });
      for (const operation of page.items) {
        if (Date.parse(operation.deadline) + graceMs > now) continue;
        logger.warn("operation abandoned: failed past its deadline", {
          operation_id: operation.id,
          node_uuid: operation.node_uuid,
          state: operation.state,
          deadline: operation.deadline,
        });
        await this.failUnstarted(
          operation,
          "OperationAbandoned",
          `no workflow ran it past its deadline ${operation.deadline}; Ironic was left as it was`,
        );
        failedCount++;
      }
      marker = page.next;
    } while (marker);
    return failedCount;
  }

  /** Clears the node's operation if it still is `operationId` (an operation ended). Never fails the caller. */
  async release(nodeUuid: string, operationId: string): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const node = await this.deps.nodes.get(nodeUuid);
        if (node?.operation?.id !== operationId) return;
        await this.deps.nodes.update(nodeUuid, { version: node.version }, withoutOperation());
        return;
      } catch (error) {
        if (error instanceof VersionConflictError) continue;
        logger.error("could not clear the node's operation; the reconciler will", {
          node_uuid: nodeUuid,
          operation_id: operationId,
          error: (error as Error).message,
        });
        return;
      }
    }
  }

  /** The 409 for a node that changed under us: the operation it runs now, or what else it is busy with. */
  private async busy(uuid: string, name: string): Promise<Error> {
    const current = await this.deps.nodes.get(uuid);
    if (current?.operation)
      return new OperationInProgressError(name, current.operation.id, current.operation.kind);
    return new NodeBusyError(name, current?.intent?.op ?? "another request");
  }
}

/** 409 when the node runs an operation or a register/unregister: one thing at a time. */
export function assertIdle(node: Node): void {
  if (node.operation) throw new OperationInProgressError(node.name, node.operation.id, node.operation.kind);
  if (node.intent?.operation_id)
    throw new OperationInProgressError(node.name, node.intent.operation_id, "register");
  if (node.intent) throw new NodeBusyError(node.name, node.intent.op);
}
