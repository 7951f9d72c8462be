import * as z from "zod/mini";
import { eventMessage } from "../events/build.ts";
import type { EventPublisher } from "../events/publisher.ts";
import { IronicServerError } from "../ironic/errors.ts";
import type { IronicNode, ProvisionTarget } from "../ironic/index.ts";
import { DEFAULT_POLL_POLICY, type PollPolicy, pollDelay, sleep } from "../ironic/retry.ts";
import { lazySchema } from "../lazy-schema.ts";
import type { IronicNodesPort } from "../nodes/ironic-port.ts";
import { isTransitional } from "../nodes/registration-decisions.ts";
import { describeInspection, inspectionReport, type RegisteredView, registeredView } from "./inspection.ts";
import { type IronicProgress, isFinalState, type Operation, type OperationOutcome } from "./model.ts";
import type { OperationRepository } from "./repository.ts";
import {
  cancelled,
  failed,
  isPastDeadline,
  type OperationTransition,
  started,
  stepFinished,
  stepProgress,
  stepStarted,
  succeeded,
} from "./transitions.ts";
import { startOnce, writeEnd, writeTransition } from "./writes.ts";

/** How many times a provision-state change Ironic failed with a server error (and did not take) is sent. */
const VERB_SEND_ATTEMPTS = 3;
const VERB_RESEND_DELAY_MS = 1_000;

/** One check of a durable wait: done with a value, or not yet. Values are checkpointed, so plain JSON. */
export type WaitCheck<T> = { done: true; value: T } | { done: false };

export interface WaitOptions {
  /** Delay before the second check (the first one is immediate). */
  firstDelayMs: number;
  /** The delay doubles per check up to this. */
  maxDelayMs: number;
}

/**
 * What the workflow needs of a durable engine: named steps whose results are checkpointed (a step that
 * completed is not run again on replay; one that failed before its checkpoint is run again, so each must be
 * safe to repeat), and a wait that suspends between checks instead of blocking. `lib/operations/durable.ts`
 * adapts the durable execution SDK's context to it; tests use a plain in-process one.
 */
export interface WorkflowContext {
  step<T>(name: string, fn: () => Promise<T>): Promise<T>;
  waitUntil<T>(name: string, check: () => Promise<WaitCheck<T>>, options: WaitOptions): Promise<T>;
  /**
   * Runs `fn` over `items`, at most `options.maxConcurrency` at a time, each in its own child context (its steps
   * and waits checkpointed apart from the others'; a replay runs again only the items that had not ended). An item
   * that throws fails alone: the others carry on, and its slot in the answer says why. The answer is in the
   * items' order.
   */
  map<I, R>(
    name: string,
    items: readonly I[],
    fn: (ctx: WorkflowContext, item: I, index: number) => Promise<R>,
    options: MapOptions<I>,
  ): Promise<MapItemResult<R>[]>;
}

export interface MapOptions<I> {
  /** Items running at once. */
  maxConcurrency: number;
  /** A name for the item's child context, unique in the map (what the engine's history shows). */
  itemName?(item: I, index: number): string;
}

/** How one item of a `map` ended: its value (checkpointed, so plain JSON), or why it threw. */
export type MapItemResult<R> = { ok: true; value: R } | { ok: false; error: string };

/** What starts a lifecycle workflow: the operation, already created `pending` with its steps. */
export const LifecycleInputSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({ operation_id: z.string().check(z.minLength(1)) }),
);
export type LifecycleInput = z.infer<typeof LifecycleInputSchema>;

export interface LifecycleResult {
  operation_id: string;
  state: Operation["state"];
  outcome: OperationOutcome | null;
}

/** Outcome codes of an operation the workflow failed. */
export const LIFECYCLE_FAILURES = {
  /** Ironic ended the step in a failed state; the detail is Ironic's `last_error`. */
  stepFailed: "IronicStepFailed",
  /** Ironic (or the store) kept failing past the engine's retries of a step. */
  ironicError: "IronicError",
  /** The operation's deadline passed while it waited on Ironic. */
  timeout: "OperationTimeout",
  /** The node is not registered in Ironic (no Ironic node to act on). */
  notRegistered: "NodeNotRegistered",
  /** A step name the workflow does not know. */
  unknownStep: "UnknownStep",
  /** A register's `manage` failed (Ironic could not verify the BMC): the registration was rolled back. */
  verificationFailed: "VerificationFailed",
} as const;

/** How an Ironic verb runs: the state it rests in when done, and how it fails. */
interface VerbSpec {
  verb: ProvisionTarget;
  target: string;
  /** Failed states of this verb (besides `enroll` with `last_error` for `manage`). */
  failedStates: readonly string[];
  /** The verb starts from its target (`manageable` → inspecting/cleaning → `manageable`). */
  returns?: boolean;
  /** States the step counts as done in, unsent, when it only prepares for another step (an adopted node, say). */
  pastIt?: readonly string[];
  /** Where the node stands, for a step that is no plain verb (`settle`); `verbStatus` otherwise. */
  status?(node: Pick<IronicNode, "provision_state" | "target_provision_state">): VerbStatus;
}

/** The lifecycle steps, by operation step name, with Ironic's semantics. */
export const LIFECYCLE_STEPS: Readonly<Record<string, VerbSpec>> = {
  manage: { verb: "manage", target: "manageable", failedStates: [], pastIt: ["available"] },
  provide: { verb: "provide", target: "available", failedStates: ["clean failed"] },
  inspect: { verb: "inspect", target: "manageable", failedStates: ["inspect failed"], returns: true },
  clean: { verb: "clean", target: "manageable", failedStates: ["clean failed"], returns: true },
  /**
   * Waits until Ironic no longer moves the node (before an unregister): `abort` where Ironic allows it (`clean
   * wait`, `inspect wait`), else the transition runs to its end. Any state Ironic rests in is settled.
   */
  settle: {
    verb: "abort",
    target: "",
    failedStates: [],
    // Ironic leaves the target set on a failed state (`clean failed` after an abort): it rests there all the same.
    status: (node) =>
      !isTransitional(node.provision_state) &&
      (!node.target_provision_state || node.provision_state.endsWith(" failed"))
        ? "done"
        : ABORTABLE_STATES.has(node.provision_state)
          ? "idle"
          : "moving",
  },
};

/** Steps that are no Ironic verb: the workflow runs them through `LifecycleDeps`. */
const OWN_STEPS = new Set(["unregister", "hardware_sync"]);

/** The fault Ironic records when it puts a node in maintenance after a failed clean step. */
const CLEAN_FAILURE_FAULT = "clean failure";

/** Ironic states an `abort` is accepted in. */
const ABORTABLE_STATES: ReadonlySet<string> = new Set(["clean wait", "inspect wait"]);
const ABORTABLE = ABORTABLE_STATES;

/** Where a node stands with respect to one verb. */
export type VerbStatus = "done" | "moving" | "failed" | "idle";

/**
 * Pure: `done` when the node rests in the verb's target, `moving` while Ironic works towards it, `failed` in a
 * failed state of the verb (or, for `manage`, back in `enroll` with `last_error` once the verb was sent), `idle`
 * when the verb has not taken (yet).
 */
export function verbStatus(
  spec: VerbSpec,
  node: Pick<IronicNode, "provision_state" | "target_provision_state" | "last_error">,
  sent: boolean,
): VerbStatus {
  // Resting in the target is only the end of a verb that starts there once the verb was taken.
  if (spec.returns && !sent) {
    if (spec.failedStates.includes(node.provision_state)) return "idle";
    return node.target_provision_state === spec.target && node.provision_state !== spec.target
      ? "moving"
      : "idle";
  }
  if (node.provision_state === spec.target && !node.target_provision_state) return "done";
  // Before `moving`: Ironic may leave the target set on a failed state.
  if (spec.failedStates.includes(node.provision_state)) return "failed";
  // Another verb's failed state (`inspect failed`, `clean failed`) with its target still set: nothing moves.
  if (node.provision_state.endsWith(" failed")) return "idle";
  if (node.target_provision_state === spec.target) return "moving";
  if (sent && spec.verb === "manage" && node.provision_state === "enroll" && node.last_error) return "failed";
  return "idle";
}

export interface LifecycleDeps {
  operations: OperationRepository;
  /** The Ironic node uuid of a Valence node, or undefined when it has none. */
  ironicNodeOf(nodeUuid: string): Promise<string | null | undefined>;
  ironic: Pick<IronicNodesPort, "getNode" | "listPorts" | "setProvisionState" | "clearMaintenance">;
  events?: EventPublisher | undefined;
  now?: () => Date;
  /** In-process polling before a durable wait. @default DEFAULT_POLL_POLICY */
  pollPolicy?: PollPolicy;
  /** How long to poll in-process before suspending. @default 2500 */
  inProcessMs?: number;
  /** Durable wait once in-process polling gave up. @default 2 s doubling to 60 s */
  durableWait?: WaitOptions;
  /** Frees the operation's node once the operation ended (called again on replay: must be idempotent). */
  release?(operation: Operation): Promise<void>;
  /**
   * Unregisters the operation's node (the unregister saga, `force` from the operation's arguments) once Ironic
   * settled: the outcome, or why it was refused. Must be safe to run again (an unregister that already landed).
   */
  unregisterNode?(
    operation: Operation,
  ): Promise<{ ok: true; detail: string } | { ok: false; detail: string }>;
  /**
   * Undoes a register whose `manage` failed (Ironic could not verify the BMC): deletes the Ironic node it made,
   * makes the node Valence's again, and answers what it did. Must be safe to run again.
   */
  rollBackRegistration?(operation: Operation, reason: string): Promise<string>;
  /**
   * A `hardware_sync` step: writes the node's drifted hardware into Ironic (properties, the ports Valence made)
   * and clears the drift. Must be safe to run again (it writes the same values).
   */
  syncHardware?(operation: Operation): Promise<{ ok: true; detail: string } | { ok: false; detail: string }>;
  sleep?: (ms: number) => Promise<void>;
}

/** What one look at Ironic concluded, as checkpointed. */
interface Observation {
  status: VerbStatus | "cancelled" | "timeout" | "ended";
  progress: IronicProgress;
}

/** The node as the step first saw it, before any verb: checkpointed, so a replayed send can tell. */
interface Look {
  provision_updated_at: string | null;
  /** A register met the node already past this step (an adopted node): nothing to send. */
  pastIt?: boolean;
  /** An `inspect` step: the node as registered, what its report compares Ironic's findings with. */
  registered?: RegisteredView;
}

type StepStart =
  | { go: true; ironicNodeUuid: string; look: Look; extra?: Record<string, unknown> }
  | { go: false }
  /** The step ended before (a resumed operation): on to the next. */
  | { go: "skip" };

/** How a step ended: carry on, stop (the operation ended), or roll a register back before failing it. */
type StepEnd = "next" | "stop" | "roll back";

type StepStartGo = Extract<StepStart, { go: true }>;

/**
 * What runs next, as checkpointed at the end of each step (the next step is started in the same checkpoint, one
 * boundary less per step): a step, already started; nothing more (the operation ended, `result` when this
 * checkpoint ended it); or a register to roll back.
 */
type Next =
  | { go: true; steps: string[]; index: number; name: string; start: StepStartGo }
  | { go: false; result?: LifecycleResult; rollBack?: { name: string; seen: Observation } };

/**
 * The durable lifecycle of one operation: for each of its steps, send Ironic's verb (only if the node is not
 * already in or moving to the target), follow Ironic in-process for the first seconds, then suspend durably
 * between checks; record Ironic's progress; end the step and the operation. A failed step leaves the Ironic
 * node as Ironic left it (never deleted); a cancel aborts in `clean wait`/`inspect wait` or waits for the next
 * step boundary; the operation's deadline fails it. Every step is safe to run again after its side effect.
 */
export async function runLifecycle(
  input: LifecycleInput,
  ctx: WorkflowContext,
  deps: LifecycleDeps,
): Promise<LifecycleResult> {
  const workflow = new LifecycleWorkflow(input.operation_id, deps);
  let ended: LifecycleResult | undefined;
  try {
    ended = await runSteps(workflow, ctx);
  } catch (error) {
    // A step that kept failing past the engine's retries (Ironic or the store unreachable): the operation
    // fails rather than staying `running` with no workflow behind it.
    const detail = `${(error as Error).message}`;
    return ctx.step("fail", () => workflow.failOnError(detail));
  }
  return ended ?? ctx.step("finish", () => workflow.finish());
}

/** Runs the steps; the result when the last step's checkpoint ended the operation, else undefined. */
async function runSteps(
  workflow: LifecycleWorkflow,
  ctx: WorkflowContext,
): Promise<LifecycleResult | undefined> {
  let next = await ctx.step("start", () => workflow.begin());
  while (next.go) {
    const { name, index, steps, start: step } = next;
    if (OWN_STEPS.has(name)) {
      next = await ctx.step(`${name}: run`, () => workflow.runOwnStep(name, steps, index));
      continue;
    }
    const spec = LIFECYCLE_STEPS[name] as VerbSpec;
    // Sent, then followed in-process for the first seconds, in one step: run again after the verb was taken,
    // the step's look tells it not to send twice, and it follows on.
    let seen = await ctx.step(`${name}: send`, async () => {
      const sent = await workflow.send(name, spec, step.ironicNodeUuid, step.look, step.extra);
      if (sent.status !== "moving" && sent.status !== "idle") return sent;
      return workflow.follow(name, spec, step.ironicNodeUuid, sent.progress);
    });
    if (seen.status === "moving" || seen.status === "idle") {
      let last = seen.progress;
      seen = await ctx.waitUntil(
        `${name}: wait`,
        async (): Promise<WaitCheck<Observation>> => {
          // A failed look (an Ironic blip) is one more check to wait for; the deadline bounds the wait.
          const now = await workflow
            .observe(name, spec, step.ironicNodeUuid, last)
            .catch((): Observation => ({ status: "moving", progress: last }));
          last = now.progress;
          return now.status === "moving" || now.status === "idle"
            ? { done: false }
            : { done: true, value: now };
        },
        workflow.durableWait,
      );
    }
    const observed = seen;
    next = await ctx.step(`${name}: finish`, () =>
      workflow.finishAndNext(name, observed, steps, index, step),
    );
  }
  if (next.rollBack) {
    const { name, seen } = next.rollBack;
    await ctx.step(`${name}: roll back`, () => workflow.rollBack(name, seen));
    return undefined;
  }
  return next.result;
}

class LifecycleWorkflow {
  private readonly now: () => Date;
  private readonly policy: PollPolicy;
  private readonly inProcessMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private ironicNodeUuid: string | undefined;
  /** Ironic's node as this invocation last read it (not across a replay): the next step's first look. */
  private lastSeen: IronicNode | undefined;
  /** Each step's first look, when this invocation took it: its send needs no second read. */
  private readonly looks = new Map<string, IronicNode>();
  readonly durableWait: WaitOptions;

  constructor(
    private readonly operationId: string,
    private readonly deps: LifecycleDeps,
  ) {
    this.now = deps.now ?? (() => new Date());
    this.policy = deps.pollPolicy ?? DEFAULT_POLL_POLICY;
    this.inProcessMs = deps.inProcessMs ?? 2_500;
    this.sleep = deps.sleep ?? sleep;
    this.durableWait = deps.durableWait ?? { firstDelayMs: 2_000, maxDelayMs: 60_000 };
  }

  /** Starts the operation and its first step that has not ended. */
  async begin(): Promise<Next> {
    const begun = await this.start();
    return begun.go ? this.startFrom(begun.steps, 0) : { go: false };
  }

  /**
   * Starts the first step from `from` on that has not ended (a resumed operation skips those that did); with no
   * step left, ends the operation.
   */
  async startFrom(steps: string[], from: number): Promise<Next> {
    for (let index = from; index < steps.length; index++) {
      const name = steps[index] as string;
      const start = await this.startStep(name);
      if (start.go === "skip") continue;
      if (!start.go) return { go: false };
      return { go: true, steps, index, name, start };
    }
    return { go: false, result: await this.finish() };
  }

  /** Ends step `name` as Ironic left it and starts the next one, in one checkpoint. */
  async finishAndNext(
    name: string,
    seen: Observation,
    steps: string[],
    index: number,
    start?: StepStartGo,
  ): Promise<Next> {
    const ended = await this.finishStep(name, seen, start);
    if (ended === "roll back") return { go: false, rollBack: { name, seen } };
    if (ended === "stop") return { go: false };
    return this.startFrom(steps, index + 1);
  }

  /** `pending` → `running` (once), publishing Operation Started; the step names to run. */
  async start(): Promise<{ go: true; steps: string[] } | { go: false }> {
    const operation = await startOnce(
      await this.load(),
      (pending) => this.write(pending, started),
      this.deps.events,
      this.now,
    );
    if (!operation) return { go: false };
    return { go: true, steps: operation.steps.map((step) => step.name) };
  }

  /** Starts step `name`, unless the operation was cancelled, timed out or cannot run it. */
  async startStep(name: string): Promise<StepStart> {
    const operation = await this.load();
    if (isFinalState(operation.state)) return { go: false };
    if (operation.state === "cancelling") {
      await this.end(operation, (current) => cancelled(current, this.now()));
      return { go: false };
    }
    if (isPastDeadline(operation, this.now())) {
      await this.fail(operation, LIFECYCLE_FAILURES.timeout, `deadline ${operation.deadline} passed`);
      return { go: false };
    }
    const step = operation.steps.find((each) => each.name === name);
    if (step && step.state !== "pending" && step.state !== "running") return { go: "skip" };
    if (OWN_STEPS.has(name)) {
      // Its own step finds what it needs (an unregister run again finds the node unregistered already).
      if (step?.state === "pending")
        await this.write(operation, (current) => stepStarted(current, name, this.now()));
      return { go: true, ironicNodeUuid: "", look: { provision_updated_at: null } };
    }
    if (!LIFECYCLE_STEPS[name]) {
      await this.fail(operation, LIFECYCLE_FAILURES.unknownStep, `no lifecycle step ${name}`);
      return { go: false };
    }
    // The Valence node's Ironic node does not change during an operation: read once per invocation.
    this.ironicNodeUuid ??= (await this.deps.ironicNodeOf(operation.node_uuid)) ?? undefined;
    const ironicNodeUuid = this.ironicNodeUuid;
    if (!ironicNodeUuid) {
      await this.fail(
        operation,
        LIFECYCLE_FAILURES.notRegistered,
        `node ${operation.node_name} has no Ironic node`,
      );
      return { go: false };
    }
    // On replay the step may be running already (started before a crash). The step's first look at Ironic,
    // meanwhile.
    // A node this invocation just saw at rest (the previous step's end) is this step's look as it stands.
    const seen = this.lastSeen;
    this.lastSeen = undefined;
    const [node] = await Promise.all([
      seen?.uuid === ironicNodeUuid ? seen : this.deps.ironic.getNode(ironicNodeUuid),
      step?.state === "pending"
        ? this.write(operation, (current) => stepStarted(current, name, this.now()))
        : undefined,
    ]);
    this.looks.set(name, node);
    const registered =
      name === "inspect"
        ? registeredView(
            node.properties,
            (await this.deps.ironic.listPorts({ node_uuid: ironicNodeUuid })).map((port) => port.address),
          )
        : undefined;
    const cleanSteps = operation.arguments?.clean_steps;
    // A step that prepares for the operation's own verb (`manage` before a register's or a `provide`'s provide)
    // is done when the node is past it already.
    const pastIt =
      name !== operation.kind && Boolean(LIFECYCLE_STEPS[name]?.pastIt?.includes(node.provision_state));
    return {
      go: true,
      ironicNodeUuid,
      look: {
        provision_updated_at: node.provision_updated_at ?? null,
        ...(pastIt ? { pastIt } : {}),
        ...(registered ? { registered } : {}),
      },
      ...(name === "clean" && cleanSteps ? { extra: { clean_steps: cleanSteps } } : {}),
    };
  }

  /**
   * Sends the verb unless the node is already in or moving to the target (so a replay after the side effect
   * does not send it twice). Ironic refusing the verb fails the step.
   */
  async send(
    name: string,
    spec: VerbSpec,
    ironicNodeUuid: string,
    look: Look,
    extra?: Record<string, unknown>,
  ): Promise<Observation> {
    // Nothing was sent since this invocation's look; a replay reads Ironic afresh.
    const before = this.looks.get(name) ?? (await this.deps.ironic.getNode(ironicNodeUuid));
    this.looks.delete(name);
    if (look.pastIt && spec.pastIt?.includes(before.provision_state))
      return { status: "done", progress: progressOf(before) };
    if (spec.status) {
      // Not a verb of its own: at most an abort, sent once (an aborted wait is no longer abortable).
      const status = spec.status(before);
      if (status !== "idle") return { status, progress: progressOf(before) };
      await this.deps.ironic.setProvisionState(ironicNodeUuid, spec.verb);
      this.lastSeen = undefined;
      return this.observe(name, spec, ironicNodeUuid, undefined);
    }
    // Its provision state changed since the step's look: the verb was taken, and this is a replay (a manage
    // that failed at once is back in `enroll`, which only this tells from a node never verified).
    const moved = (before.provision_updated_at ?? null) !== look.provision_updated_at;
    const status = verbStatus(spec, before, moved);
    if (status !== "idle" || moved) return { status, progress: progressOf(before) };
    if (before.maintenance) {
      // Ironic put the node in maintenance itself when a clean step failed; retrying is what clears it (as an
      // operator would by hand). Maintenance an operator set stays: Ironic would not act on the node.
      if (before.fault !== CLEAN_FAILURE_FAULT) {
        return {
          status: "failed",
          progress: {
            ...progressOf(before),
            last_error: `the node is in maintenance (${before.maintenance_reason ?? "no reason given"}); unset it first`,
          },
        };
      }
      await this.deps.ironic.clearMaintenance(ironicNodeUuid);
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await this.deps.ironic.setProvisionState(ironicNodeUuid, spec.verb, extra);
        this.lastSeen = undefined;
        return this.observe(name, spec, ironicNodeUuid, undefined);
      } catch (error) {
        const current = await this.deps.ironic.getNode(ironicNodeUuid);
        // Taken after all (its answer was lost, or a concurrent send won): carry on.
        if (verbStatus(spec, current, true) !== "idle")
          return { status: "moving", progress: progressOf(current) };
        // Ironic's own failure (a 5xx, e.g. its database busy) on a verb it did not take: sent again, a little later.
        if (error instanceof IronicServerError && attempt < VERB_SEND_ATTEMPTS) {
          await this.sleep(VERB_RESEND_DELAY_MS * attempt);
          continue;
        }
        return {
          status: "failed",
          progress: { ...progressOf(current), last_error: `${spec.verb}: ${(error as Error).message}` },
        };
      }
    }
  }

  /** Follows Ironic in-process with the poll backoff for the first seconds: fast transitions end here. */
  async follow(
    name: string,
    spec: VerbSpec,
    ironicNodeUuid: string,
    last: IronicProgress,
  ): Promise<Observation> {
    let seen: Observation = { status: "moving", progress: last };
    // Counted in nominal delays (Ironic's answer times come on top): bounded however slow Ironic is to answer.
    let waited = 0;
    for (let poll = 0; ; poll++) {
      const delay = pollDelay(poll, this.policy, Math.random);
      if (waited + delay > this.inProcessMs) return seen;
      await this.sleep(delay);
      waited += delay;
      seen = await this.observe(name, spec, ironicNodeUuid, seen.progress);
      if (seen.status !== "moving" && seen.status !== "idle") return seen;
    }
  }

  /**
   * One look: the operation (cancel, deadline) then Ironic; records Ironic's progress when it changed. A cancel
   * in an abortable state aborts in Ironic and ends the operation `cancelled`.
   */
  async observe(
    name: string,
    spec: VerbSpec,
    ironicNodeUuid: string,
    last: IronicProgress | undefined,
  ): Promise<Observation> {
    // The operation (a cancel, the deadline) and Ironic, read at once.
    const [operation, node] = await Promise.all([this.load(), this.deps.ironic.getNode(ironicNodeUuid)]);
    this.lastSeen = node;
    const progress = progressOf(node);
    if (isFinalState(operation.state)) return { status: "ended", progress };
    if (operation.state === "cancelling" && ABORTABLE.has(node.provision_state)) {
      await this.deps.ironic.setProvisionState(ironicNodeUuid, "abort");
      this.lastSeen = undefined;
      const aborted = progressOf(await this.deps.ironic.getNode(ironicNodeUuid));
      await this.end(operation, (current) => {
        const withProgress = stepFinishedSafely(current, name, aborted, this.now());
        return cancelled(withProgress, this.now(), `aborted in Ironic (${node.provision_state})`);
      });
      return { status: "cancelled", progress: aborted };
    }
    const status = spec.status ? spec.status(node) : verbStatus(spec, node, true);
    if ((status === "moving" || status === "idle") && isPastDeadline(operation, this.now())) {
      await this.fail(
        operation,
        LIFECYCLE_FAILURES.timeout,
        `deadline ${operation.deadline} passed; Ironic is ${node.provision_state}`,
      );
      return { status: "timeout", progress };
    }
    if (!sameProgress(last, progress)) {
      await this.write(operation, (current) => stepProgress(current, name, progress));
    }
    return { status, progress };
  }

  /** Ends step `name` as Ironic left it: whether the operation carries on, stops, or rolls a register back. */
  async finishStep(name: string, seen: Observation, start?: StepStartGo): Promise<StepEnd> {
    const operation = await this.load();
    if (isFinalState(operation.state)) return "stop";
    const step = operation.steps.find((each) => each.name === name);
    if (step?.state !== "running") return step?.state === "succeeded" ? "next" : "stop";
    if (seen.status === "done") {
      const report = start?.look.registered
        ? await this.inspected(start.ironicNodeUuid, start.look.registered)
        : undefined;
      await this.write(operation, (current) =>
        stepFinished(
          current,
          name,
          {
            state: "succeeded",
            ironic: seen.progress,
            ...(report ? { report, detail: describeInspection(report) } : {}),
          },
          this.now(),
        ),
      );
      return "next";
    }
    const detail = seen.progress.last_error ?? `Ironic left the node ${seen.progress.provision_state}`;
    // A register whose verification failed is undone, as a synchronous register that failed would be; any
    // later failure (inspection, cleaning) leaves the node registered, as Ironic left it.
    if (
      operation.kind === "register" &&
      name === "manage" &&
      seen.status === "failed" &&
      this.deps.rollBackRegistration
    )
      return "roll back";
    await this.end(operation, (current) => {
      const withStep = apply(
        current,
        stepFinished(current, name, { state: "failed", detail, ironic: seen.progress }, this.now()),
      );
      return failed(withStep, { code: LIFECYCLE_FAILURES.stepFailed, detail }, this.now());
    });
    return "stop";
  }

  /** What Ironic's inspection found against the node as it was registered. */
  private async inspected(ironicNodeUuid: string, registered: RegisteredView) {
    const [node, ports] = await Promise.all([
      this.deps.ironic.getNode(ironicNodeUuid),
      this.deps.ironic.listPorts({ node_uuid: ironicNodeUuid }),
    ]);
    return inspectionReport(
      registered,
      registeredView(
        node.properties,
        ports.map((port) => port.address),
      ),
    );
  }

  /** Runs a step that is no Ironic verb (`unregister`), ends it, and starts the next one. */
  async runOwnStep(name: string, steps: string[], index: number): Promise<Next> {
    return (await this.ownStep(name)) ? this.startFrom(steps, index + 1) : { go: false };
  }

  /** Runs a step that is no Ironic verb and ends it; false when the operation does not carry on. */
  private async ownStep(name: string): Promise<boolean> {
    const operation = await this.load();
    if (isFinalState(operation.state)) return false;
    const step = operation.steps.find((each) => each.name === name);
    if (step?.state === "succeeded") return true;
    const run = name === "hardware_sync" ? this.deps.syncHardware : this.deps.unregisterNode;
    const result = run
      ? await run(operation)
      : { ok: false as const, detail: `this workflow cannot run ${name}` };
    const ironic = { provision_state: null, target_provision_state: null, last_error: null };
    if (result.ok) {
      await this.write(await this.load(), (current) =>
        stepFinished(current, name, { state: "succeeded", detail: result.detail, ironic }, this.now()),
      );
      return true;
    }
    await this.end(await this.load(), (current) => {
      const withStep = apply(
        current,
        stepFinished(current, name, { state: "failed", detail: result.detail, ironic }, this.now()),
      );
      return failed(withStep, { code: LIFECYCLE_FAILURES.stepFailed, detail: result.detail }, this.now());
    });
    return false;
  }

  /** Rolls back a register whose `manage` failed, then fails the operation saying so. */
  async rollBack(name: string, seen: Observation): Promise<void> {
    const operation = await this.load();
    if (isFinalState(operation.state)) return;
    const reason = seen.progress.last_error ?? `Ironic left the node ${seen.progress.provision_state}`;
    const summary = await (
      this.deps.rollBackRegistration as NonNullable<LifecycleDeps["rollBackRegistration"]>
    )(operation, reason);
    const detail = `${reason}; ${summary}`;
    await this.end(operation, (current) => {
      const withStep = current.steps.some((step) => step.name === name && step.state === "running")
        ? apply(
            current,
            stepFinished(
              current,
              name,
              { state: "failed", detail: reason, ironic: seen.progress },
              this.now(),
            ),
          )
        : current;
      return failed(withStep, { code: LIFECYCLE_FAILURES.verificationFailed, detail }, this.now());
    });
  }

  /** Ends the operation `succeeded` if every step did; returns how it ended. */
  async finish(): Promise<LifecycleResult> {
    let operation = await this.load();
    if (!isFinalState(operation.state)) {
      const unfinished = operation.steps.some(
        (step) => step.state !== "succeeded" && step.state !== "skipped",
      );
      operation = unfinished
        ? operation.state === "cancelling"
          ? await this.end(operation, (current) => cancelled(current, this.now()))
          : await this.fail(operation, LIFECYCLE_FAILURES.stepFailed, "a step did not finish")
        : await this.end(operation, (current) => succeeded(current));
    }
    await this.deps.release?.(operation);
    return { operation_id: operation.id, state: operation.state, outcome: operation.outcome };
  }

  /** Fails the operation (if it has not ended) after an error no step could get past. */
  async failOnError(detail: string): Promise<LifecycleResult> {
    let operation = await this.load();
    if (!isFinalState(operation.state)) {
      operation = await this.fail(operation, LIFECYCLE_FAILURES.ironicError, eventMessage(detail));
    }
    await this.deps.release?.(operation);
    return { operation_id: operation.id, state: operation.state, outcome: operation.outcome };
  }

  private async load(): Promise<Operation> {
    const operation = await this.deps.operations.get(this.operationId);
    if (!operation) throw new Error(`operation ${this.operationId} not found`);
    return operation;
  }

  private fail(operation: Operation, code: string, detail: string): Promise<Operation> {
    return this.end(operation, (current) => failed(current, { code, detail }, this.now()));
  }

  /** Writes a transition that ends the operation, and publishes Operation Finished once it is written. */
  private async end(
    operation: Operation,
    transition: (current: Operation) => OperationTransition | undefined,
  ): Promise<Operation> {
    // The node is freed first: whoever sees the operation ended finds its node free for the next one (a crash
    // in between leaves the operation to end on replay, its work done).
    await this.deps.release?.(operation);
    // Ironic's state and error at the end: those of the last step that ran in Ironic.
    return writeEnd(
      (onWritten) => this.write(operation, transition, onWritten),
      this.deps.events,
      this.now(),
      (ended) => {
        const running = ended.steps.filter((step) => step.provision_state !== null).at(-1);
        return { provisionState: running?.provision_state ?? null, lastError: running?.last_error ?? null };
      },
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

/** The operation with `changes` applied, to chain two transitions into one write. */
function apply(operation: Operation, changes: OperationTransition): Operation {
  return { ...operation, ...changes };
}

/** The running step records Ironic's state at the abort (cancelled then marks it cancelled). */
function stepFinishedSafely(
  operation: Operation,
  name: string,
  ironic: IronicProgress,
  _at: Date,
): Operation {
  const change = operation.steps.some((step) => step.name === name && step.state === "running")
    ? stepProgress(operation, name, ironic)
    : undefined;
  return change ? apply(operation, change) : operation;
}

function progressOf(node: Pick<IronicNode, "provision_state" | "target_provision_state" | "last_error">) {
  return {
    provision_state: node.provision_state,
    target_provision_state: node.target_provision_state,
    last_error: node.last_error,
  };
}

function sameProgress(a: IronicProgress | undefined, b: IronicProgress): boolean {
  return (
    a !== undefined &&
    a.provision_state === b.provision_state &&
    a.target_provision_state === b.target_provision_state &&
    a.last_error === b.last_error
  );
}
