import { NothingToEnrollError, ValenceError, ValidationError } from "../errors.ts";
import { eventMessage } from "../events/build.ts";
import type { EventPublisher } from "../events/publisher.ts";
import type { Node } from "../nodes/model.ts";
import type { NodeRepository } from "../nodes/repository.ts";
import { RegisterNodeBody, type RegisterNodeInput } from "../nodes/schemas.ts";
import { formatIssue, safeParse } from "../validation.ts";
import type { LifecycleInput, LifecycleResult, WorkflowContext } from "./lifecycle.ts";
import { type EnrollNode, isFinalState, type Operation } from "./model.ts";
import type { OperationRepository } from "./repository.ts";
import { type EnrollItemInput, type EnrollNodesInput, MAX_ENROLL_NODES, nodeOfItem } from "./schemas.ts";
import type { OperationCaller } from "./service.ts";
import {
  cancelled,
  enrollNodeFinished,
  enrollNodeRegistered,
  enrollNodeStarted,
  failed,
  type OperationTransition,
  started,
  succeeded,
} from "./transitions.ts";
import { cancelUnlessEnded, startOnce, writeEnd, writeTransition } from "./writes.ts";

/** Outcome codes of an enrollment and of its nodes. */
export const ENROLL_FAILURES = {
  /** Some nodes did not enroll: `nodes` says which and why. */
  incomplete: "EnrollmentIncomplete",
  /** The enrollment's workflow failed past its retries. */
  error: "EnrollmentError",
  /** A node's register failed with an error that has no code of its own. */
  registration: "RegistrationFailed",
  /** The enrollment was cancelled before the node started. */
  cancelled: "Cancelled",
} as const;

/** The register body fields of an enrollment body: what every node is registered with. */
function registerFieldsOf(body: EnrollNodesInput): Record<string, unknown> {
  const { nodes: _nodes, selector: _selector, concurrency: _concurrency, ...register } = body;
  return register;
}

/** The fields an item sets for itself (none for a bare uuid or name). */
function ownFieldsOf(item: EnrollItemInput): Record<string, unknown> {
  if (typeof item === "string") return {};
  const { node: _node, ...own } = item;
  return Object.fromEntries(Object.entries(own).filter(([, value]) => value !== undefined));
}

/** A node's register body: the enrollment's fields with its own over them, checked as a single register's. */
export function registerBodyOf(register: Record<string, unknown>, own: Record<string, unknown> = {}) {
  return safeParse(RegisterNodeBody, { ...register, ...own });
}

export interface EnrollmentServiceDeps {
  operations: Pick<OperationRepository, "create">;
  finder: { find(id: string): Promise<Node> };
  nodes: Pick<NodeRepository, "list">;
  podManagers: { get(uuid: string): Promise<{ uuid: string; name: string } | undefined> };
  /** Starts the stored operation's workflow (failing the operation when it cannot). */
  launch(operation: Operation): Promise<Operation>;
  /** Seconds a node's operation may take when the body sets no `wait_timeout` (the deployment's default). */
  defaultDeadlineSeconds: number;
  now?: () => Date;
  newId?: () => string;
}

/** One node of an enrollment, found: its entry in the operation. */
interface Target {
  node: Pick<Node, "uuid" | "name">;
  own: Record<string, unknown>;
}

/**
 * Fleet enrollment: `POST /v1/nodes/register` registers many nodes, each with the single register's options, as
 * one `enroll` operation whose workflow (`runEnrollment`) runs every node's register and lifecycle steps as that
 * node's own operation, a bounded number at once. The request is checked whole before anything starts: a body
 * that does not validate, a node that does not exist, a node named twice, an unknown pod manager, a selector
 * with no nodes: 400, naming every problem. What happens to each node later (Ironic refusing it, its cleaning
 * failing, it being registered meanwhile) is that node's result, never the others'.
 */
export class EnrollmentService {
  private readonly now: () => Date;
  private readonly newId: () => string;

  constructor(private readonly deps: EnrollmentServiceDeps) {
    this.now = deps.now ?? (() => new Date());
    this.newId = deps.newId ?? (() => crypto.randomUUID());
  }

  async enroll(body: EnrollNodesInput, caller: OperationCaller): Promise<Operation> {
    const register = registerFieldsOf(body);
    const targets = body.selector
      ? await this.selected(body.selector.podm_id)
      : await this.listed(body.nodes ?? []);
    const id = this.newId();
    const waves = Math.ceil(targets.length / body.concurrency);
    const nodeSeconds = body.wait_timeout ?? this.deps.defaultDeadlineSeconds;
    const operation = await this.deps.operations.create({
      id,
      // Its own subject: an enrollment holds no node's or pod manager's operation slot.
      node_uuid: id,
      node_name: `enrollment of ${targets.length} node${targets.length === 1 ? "" : "s"}`,
      ...(body.selector ? { pod_manager_uuid: body.selector.podm_id } : {}),
      kind: "enroll",
      steps: targets.map((target) => target.node.name),
      nodes: targets.map(
        (target): EnrollNode => ({
          node_uuid: target.node.uuid,
          name: target.node.name,
          state: "pending",
          operation_id: null,
          ironic_node_uuid: null,
          code: null,
          detail: null,
          ...(Object.keys(target.own).length ? { options: target.own } : {}),
        }),
      ),
      arguments: { register, concurrency: body.concurrency },
      request_id: caller.requestId,
      principal: caller.principal,
      // Every wave of nodes may take a node's deadline; the enrollment ends once its last node did.
      deadline: new Date(this.now().getTime() + (waves * nodeSeconds + 3600) * 1000).toISOString(),
    });
    return this.deps.launch(operation);
  }

  /** The listed nodes, each found (by uuid or name); every problem at once. */
  private async listed(items: readonly EnrollItemInput[]) {
    const problems: string[] = [];
    const found = await Promise.all(
      items.map(async (item, index): Promise<Target | undefined> => {
        const where = `body.nodes[${index}]`;
        const own = ownFieldsOf(item);
        try {
          const node = await this.deps.finder.find(nodeOfItem(item));
          return { node: { uuid: node.uuid, name: node.name }, own };
        } catch (error) {
          if (!(error instanceof ValenceError) || error.code !== "NodeNotFound") throw error;
          problems.push(`${where}: no node ${nodeOfItem(item)}`);
          return undefined;
        }
      }),
    );
    // A name and a uuid can name the same node.
    const seen = new Map<string, number>();
    for (const [index, target] of found.entries()) {
      if (!target) continue;
      const first = seen.get(target.node.uuid);
      if (first === undefined) seen.set(target.node.uuid, index);
      else
        problems.push(
          `body.nodes[${index}]: node ${target.node.name} is listed twice (also nodes[${first}])`,
        );
    }
    if (problems.length) throw new ValidationError(problems.join("; "));
    return found as Target[];
  }

  /** The nodes of a pod manager that Valence manages (none registered in Ironic yet). */
  private async selected(podmId: string): Promise<Target[]> {
    const podm = await this.deps.podManagers.get(podmId);
    if (!podm) throw new ValidationError(`body.selector.podm_id: no pod manager ${podmId}`);
    const targets: Target[] = [];
    let marker: string | undefined;
    do {
      const page = await this.deps.nodes.list({
        podm_id: podmId,
        managed_by: "valence",
        limit: 1000,
        ...(marker ? { marker } : {}),
      });
      for (const node of page.items) targets.push({ node: { uuid: node.uuid, name: node.name }, own: {} });
      marker = page.next;
    } while (marker && targets.length <= MAX_ENROLL_NODES);
    if (targets.length === 0)
      throw new NothingToEnrollError(
        `body.selector: pod manager ${podm.name} has no node that Valence manages: nothing to enroll`,
      );
    if (targets.length > MAX_ENROLL_NODES)
      throw new ValidationError(
        `body.selector: pod manager ${podm.name} has more than ${MAX_ENROLL_NODES} nodes to enroll; list them in batches`,
      );
    return targets;
  }
}

/** What a node's register answered: the operation that runs its lifecycle steps, if it has any. */
export interface NodeRegistered {
  operationId: string | null;
  ironicNodeUuid: string | null;
}

export interface EnrollmentDeps {
  operations: OperationRepository;
  nodes: Pick<NodeRepository, "get">;
  /**
   * Registers one node for `enrollment` (its request id and principal) as the single register does. The node's
   * operation, if any, is recorded with the enrollment as its parent and not started: this workflow runs it.
   * Throws the register's error (a `ValenceError` with its code) when the register is refused or fails.
   */
  register(node: EnrollNode, options: RegisterNodeInput, enrollment: Operation): Promise<NodeRegistered>;
  /** Runs a node's operation (its lifecycle) in `ctx`, the enrollment's child context for that node. */
  runNodeOperation(input: LifecycleInput, ctx: WorkflowContext): Promise<LifecycleResult>;
  events?: EventPublisher | undefined;
  now?: () => Date;
}

/** Where a node's register left it: its operation to run, or nothing more to do. */
type Registered = { go: true; operationId: string } | { go: false };

/**
 * The durable enrollment: a `map` over the nodes, `arguments.concurrency` at once, each node in its own child
 * context: its register (one checkpointed step), then its operation's lifecycle (manage, inspect, provide, with
 * their durable waits), then its result written into the enrollment. A node that fails does not stop the
 * others; a cancel stops the nodes not started yet (each ends `cancelled`) and asks the operations of those under
 * way to stop (each ends as its operation does: `cancelled` once it stopped, aborting in Ironic where Ironic
 * allows). It ends `succeeded` when every node did, `cancelled` after a cancel, else `failed` with
 * `EnrollmentIncomplete` naming the nodes that did not enroll.
 */
export async function runEnrollment(
  input: LifecycleInput,
  ctx: WorkflowContext,
  deps: EnrollmentDeps,
): Promise<LifecycleResult> {
  const workflow = new EnrollmentWorkflow(input.operation_id, deps);
  try {
    const plan = await ctx.step("start", () => workflow.start());
    if (plan.go) {
      await ctx.map(
        "nodes",
        plan.names,
        async (child, _name, index) => {
          const registered = await child.step("register", () => workflow.register(index));
          if (!registered.go) return;
          const result = await deps.runNodeOperation({ operation_id: registered.operationId }, child);
          await child.step("result", () => workflow.nodeEnded(index, result));
        },
        { maxConcurrency: plan.concurrency, itemName: (name, index) => `${index} ${name}` },
      );
    }
  } catch (error) {
    const detail = (error as Error).message;
    return ctx.step("fail", () => workflow.failOnError(detail));
  }
  return ctx.step("finish", () => workflow.finish());
}

class EnrollmentWorkflow {
  private readonly now: () => Date;
  /** The nodes run side by side and all write this one operation: one write at a time, in this process. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly operationId: string,
    private readonly deps: EnrollmentDeps,
  ) {
    this.now = deps.now ?? (() => new Date());
  }

  /** `pending` → `running` (once), publishing Operation Started; the nodes' names and how many run at once. */
  async start(): Promise<{ go: true; names: string[]; concurrency: number } | { go: false }> {
    const operation = await startOnce(
      await this.load(),
      () => this.write(started),
      this.deps.events,
      this.now,
    );
    if (!operation) return { go: false };
    return {
      go: true,
      names: (operation.nodes ?? []).map((node) => node.name),
      concurrency: Math.max(1, operation.arguments?.concurrency ?? 1),
    };
  }

  /**
   * Registers node `index` unless it ended, or was registered by an earlier try (its operation carries on), or
   * the enrollment was cancelled or ended before it started. A register refused or failed ends the node `failed`
   * with the register's error code.
   */
  async register(index: number): Promise<Registered> {
    const operation = await this.load();
    const node = operation.nodes?.[index];
    if (!node || node.state === "succeeded" || node.state === "failed" || node.state === "cancelled")
      return { go: false };
    if (node.operation_id) return { go: true, operationId: node.operation_id };
    if (isFinalState(operation.state)) return { go: false };
    if (operation.state === "cancelling") {
      await this.finishNode(index, {
        state: "cancelled",
        code: ENROLL_FAILURES.cancelled,
        detail: "the enrollment was cancelled before this node started",
      });
      return { go: false };
    }
    // A try that died after the register finds its operation on the node, marked with this enrollment.
    const earlier = node.state === "running" ? await this.earlierRegister(node) : undefined;
    if (node.state === "pending")
      await this.write((current) => enrollNodeStarted(current, index, this.now()));
    let registered: NodeRegistered;
    if (earlier) registered = earlier;
    else {
      const options = registerBodyOf(operation.arguments?.register ?? {}, node.options);
      if (!options.success) {
        await this.finishNode(index, {
          state: "failed",
          code: "ValidationError",
          detail: options.error.issues.map((issue) => formatIssue(issue, node.options)).join("; "),
        });
        return { go: false };
      }
      try {
        registered = await this.deps.register(node, options.data, operation);
      } catch (error) {
        const code = error instanceof ValenceError ? error.code : ENROLL_FAILURES.registration;
        await this.finishNode(index, { state: "failed", code, detail: (error as Error).message });
        return { go: false };
      }
    }
    if (!registered.operationId) {
      await this.finishNode(index, {
        state: "succeeded",
        code: "Succeeded",
        ironicNodeUuid: registered.ironicNodeUuid,
        detail: `registered in Ironic as ${registered.ironicNodeUuid ?? "?"}; no lifecycle steps asked for`,
      });
      return { go: false };
    }
    const operationId = registered.operationId;
    const recorded = await this.write((current) =>
      enrollNodeRegistered(current, index, {
        operationId,
        ironicNodeUuid: registered.ironicNodeUuid,
        detail: `registered in Ironic as ${registered.ironicNodeUuid ?? "?"}; operation ${operationId} runs its steps`,
      }),
    );
    // Cancelled while this node registered: a cancel cancels the nodes under way, and this one is now.
    if (recorded.state === "cancelling")
      await cancelUnlessEnded(this.deps.operations, operationId, this.now());
    return { go: true, operationId };
  }

  /** Node `index`'s operation ended: the node ends as it did, with its outcome. */
  async nodeEnded(index: number, result: LifecycleResult): Promise<void> {
    const state = result.state === "succeeded" || result.state === "cancelled" ? result.state : "failed";
    await this.finishNode(index, {
      state,
      code: result.outcome?.code ?? (state === "succeeded" ? "Succeeded" : ENROLL_FAILURES.error),
      detail: result.outcome?.detail ?? `its operation ended ${result.state}`,
    });
  }

  /**
   * Ends the enrollment. A node still without a result (its branch failed past the engine's retries) fails with
   * it; after a cancel, nodes that never started are cancelled.
   */
  async finish(): Promise<LifecycleResult> {
    let operation = await this.load();
    if (!isFinalState(operation.state)) {
      for (const [index, node] of (operation.nodes ?? []).entries()) {
        if (node.state !== "pending" && node.state !== "running") continue;
        const cancel = operation.state === "cancelling" && node.state === "pending";
        await this.finishNode(
          index,
          cancel
            ? {
                state: "cancelled",
                code: ENROLL_FAILURES.cancelled,
                detail: "the enrollment was cancelled before this node started",
              }
            : {
                state: "failed",
                code: ENROLL_FAILURES.error,
                detail: "the node's enrollment ended without a result",
              },
        );
      }
      operation = await this.load();
      const nodes = operation.nodes ?? [];
      const notDone = nodes.filter((node) => node.state !== "succeeded");
      const summary = `${nodes.length - notDone.length} of ${nodes.length} nodes enrolled`;
      operation = await this.end((current) => {
        if (current.state === "cancelling") return cancelled(current, this.now(), `cancelled: ${summary}`);
        if (notDone.length === 0) return succeeded(current, summary);
        const named = notDone.map((node) => `${node.name}: ${node.code ?? node.state}`).join("; ");
        return failed(
          current,
          { code: ENROLL_FAILURES.incomplete, detail: eventMessage(`${summary}; not enrolled: ${named}`) },
          this.now(),
        );
      });
    }
    return { operation_id: operation.id, state: operation.state, outcome: operation.outcome };
  }

  /** Fails the enrollment (if it has not ended) after an error no step could get past. */
  async failOnError(detail: string): Promise<LifecycleResult> {
    let operation = await this.load();
    if (!isFinalState(operation.state)) {
      operation = await this.end((current) =>
        failed(current, { code: ENROLL_FAILURES.error, detail: eventMessage(detail) }, this.now()),
      );
    }
    return { operation_id: operation.id, state: operation.state, outcome: operation.outcome };
  }

  /** The node's operation started by this enrollment, when an earlier try registered it and died before saying. */
  private async earlierRegister(node: EnrollNode): Promise<NodeRegistered | undefined> {
    const current = await this.deps.nodes.get(node.node_uuid);
    const operationId = current?.operation?.id ?? current?.intent?.operation_id;
    if (!current || !operationId) return undefined;
    const operation = await this.deps.operations.get(operationId);
    if (operation?.parent_id !== this.operationId) return undefined;
    return { operationId, ironicNodeUuid: current.ironic_node_uuid };
  }

  private finishNode(index: number, end: Parameters<typeof enrollNodeFinished>[2]): Promise<Operation> {
    return this.write((current) =>
      isFinalState(current.state) ? undefined : enrollNodeFinished(current, index, end, this.now()),
    );
  }

  private async load(): Promise<Operation> {
    const operation = await this.deps.operations.get(this.operationId);
    if (!operation) throw new Error(`operation ${this.operationId} not found`);
    return operation;
  }

  /** Writes a transition that ends the enrollment, and publishes Operation Finished if this write ended it. */
  private end(transition: (current: Operation) => OperationTransition | undefined): Promise<Operation> {
    return writeEnd((onWritten) => this.write(transition, onWritten), this.deps.events, this.now());
  }

  /**
   * Writes `transition` of the operation as it stands, after this process's earlier writes (the nodes' writes
   * would otherwise race each other for the operation's version); a concurrent cancel is read and written over.
   */
  private write(
    transition: (current: Operation) => OperationTransition | undefined,
    onWritten?: () => void,
  ): Promise<Operation> {
    const written = this.queue.then(async () =>
      writeTransition(this.deps.operations, () => this.load(), await this.load(), transition, onWritten),
    );
    this.queue = written.catch(() => undefined);
    return written;
  }
}
