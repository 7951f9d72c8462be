import { OperationStateError } from "../errors.ts";
import {
  type EnrollNode,
  type EnrollNodeState,
  type InspectionReport,
  type IronicProgress,
  isActiveState,
  isFinalStepState,
  type Operation,
  type OperationChanges,
  type OperationOutcome,
  type OperationState,
  type OperationStep,
  type ResyncResult,
} from "./model.ts";

declare const transition: unique symbol;

/**
 * The complete change of one operation transition, as the repository writes it in one conditional update. Only
 * this module makes them, and each checks the move against the operation it was read from: an illegal move (a
 * step finished after the operation ended, a cancel of a finished operation) throws `OperationStateError` before
 * anything is written. The repository alone bumps `version` and `updated_at`, and its version guard makes the
 * check hold at write time.
 */
export type OperationTransition = Readonly<OperationChanges> & { readonly [transition]: true };

const make = (changes: OperationChanges) => changes as OperationTransition;

function refuse(operation: Operation, move: string, why: string): never {
  throw new OperationStateError(operation.id, `cannot ${move}: ${why}`);
}

function requireState(operation: Operation, move: string, allowed: readonly OperationState[]): void {
  if (!allowed.includes(operation.state)) {
    refuse(operation, move, `the operation is ${operation.state} (allowed: ${allowed.join(", ")})`);
  }
}

function stepIndex(operation: Operation, name: string, move: string): number {
  const index = operation.steps.findIndex((step) => step.name === name);
  if (index < 0) refuse(operation, move, `it has no step ${name}`);
  return index;
}

function withStep(operation: Operation, index: number, step: OperationStep): OperationStep[] {
  return operation.steps.map((current, i) => (i === index ? step : current));
}

/** The steps with step `index` ended now as `state`, saying `detail` (started now too, if it never started). */
function withStepEnded(
  operation: Operation,
  index: number,
  step: OperationStep,
  end: { state: OperationStep["state"]; detail: OperationStep["detail"] },
  at: Date,
): OperationStep[] {
  const finishedAt = at.toISOString();
  return withStep(operation, index, {
    ...step,
    state: end.state,
    started_at: step.started_at ?? finishedAt,
    finished_at: finishedAt,
    detail: end.detail,
  });
}

/** The workflow picked the operation up: `pending` → `running`. */
export function started(operation: Operation): OperationTransition {
  requireState(operation, "start", ["pending"]);
  return make({ state: "running" });
}

/**
 * A step begins. Steps run one at a time and in order: every earlier step has succeeded or was skipped. No step
 * starts once a cancel was asked for.
 */
export function stepStarted(operation: Operation, name: string, at: Date): OperationTransition {
  const move = `start step ${name}`;
  requireState(operation, move, ["running"]);
  const index = stepIndex(operation, name, move);
  const step = operation.steps[index] as OperationStep;
  if (step.state !== "pending") refuse(operation, move, `the step is ${step.state}`);
  const blocking = operation.steps
    .slice(0, index)
    .find((earlier) => earlier.state !== "succeeded" && earlier.state !== "skipped");
  if (blocking) refuse(operation, move, `step ${blocking.name} before it is ${blocking.state}`);
  return make({
    steps: withStep(operation, index, { ...step, state: "running", started_at: at.toISOString() }),
  });
}

/**
 * Ironic's state as a running step just saw it. Undefined when the step already records exactly that, so an
 * unchanged poll is not written (and the operation's `version` stays).
 */
export function stepProgress(
  operation: Operation,
  name: string,
  ironic: IronicProgress,
): OperationTransition | undefined {
  const move = `record progress of step ${name}`;
  requireState(operation, move, ["running", "cancelling"]);
  const index = stepIndex(operation, name, move);
  const step = operation.steps[index] as OperationStep;
  if (step.state !== "running") refuse(operation, move, `the step is ${step.state}`);
  if (
    step.provision_state === ironic.provision_state &&
    step.target_provision_state === ironic.target_provision_state &&
    step.last_error === ironic.last_error
  ) {
    return undefined;
  }
  return make({ steps: withStep(operation, index, { ...step, ...progressOf(ironic) }) });
}

export interface StepResult {
  /** `skipped`: the step was not needed (e.g. the node was already `manageable`); only a pending step is skipped. */
  state: "succeeded" | "failed" | "skipped";
  detail?: string | undefined;
  /** Ironic's state when the step ended (its `last_error` for a failure). */
  ironic?: IronicProgress | undefined;
  report?: InspectionReport | undefined;
}

/**
 * A step ended. A running step succeeds or fails; a pending one may be skipped. A step may still end while a
 * cancel is being carried out (Ironic finished before the abort reached it).
 */
export function stepFinished(
  operation: Operation,
  name: string,
  result: StepResult,
  at: Date,
): OperationTransition {
  const move = `finish step ${name} as ${result.state}`;
  requireState(operation, move, ["running", "cancelling"]);
  const index = stepIndex(operation, name, move);
  const step = operation.steps[index] as OperationStep;
  const from = result.state === "skipped" ? "pending" : "running";
  if (step.state !== from) refuse(operation, move, `the step is ${step.state}, not ${from}`);
  const finished: OperationStep = {
    ...step,
    ...(result.ironic ? progressOf(result.ironic) : {}),
    state: result.state,
    finished_at: at.toISOString(),
    ...(result.detail !== undefined ? { detail: result.detail } : {}),
    ...(result.report !== undefined ? { report: result.report } : {}),
  };
  return make({ steps: withStep(operation, index, finished) });
}

/**
 * One node of a `resync` ended: its step (one per node, the same index as its result) and its result, in one
 * write. The step goes straight from pending (a re-sync writes once per node) or from running.
 */
export function resyncNodeFinished(
  operation: Operation,
  index: number,
  result: { state: Exclude<ResyncResult["state"], "pending">; detail: string },
  at: Date,
): OperationTransition {
  const step = operation.steps[index];
  const target = operation.results?.[index];
  const move = `finish node ${target?.name ?? index} as ${result.state}`;
  requireState(operation, move, ["running", "cancelling"]);
  if (operation.kind !== "resync" || !step || !target)
    refuse(operation, move, "it has no such node to re-sync");
  if (isFinalStepState(step.state)) refuse(operation, move, `its step is ${step.state} already`);
  return make({
    steps: withStepEnded(operation, index, step, result, at),
    results: (operation.results ?? []).map((each, i) =>
      i === index ? { ...each, state: result.state, detail: result.detail } : each,
    ),
  });
}

/**
 * One node of a `resync` waits for Ironic to end a transition (Ironic takes no driver_info change while it
 * cleans or deploys): its step runs, showing where Ironic stands. Nothing to write when that is shown already.
 */
export function resyncNodeWaiting(
  operation: Operation,
  index: number,
  ironic: IronicProgress,
  detail: string,
  at: Date,
): OperationTransition | undefined {
  const step = operation.steps[index];
  const move = `record node ${step?.name ?? index} waiting`;
  requireState(operation, move, ["running", "cancelling"]);
  if (operation.kind !== "resync" || !step) refuse(operation, move, "it has no such node to re-sync");
  if (isFinalStepState(step.state)) refuse(operation, move, `its step is ${step.state} already`);
  if (
    step.state === "running" &&
    step.detail === detail &&
    step.provision_state === ironic.provision_state &&
    step.target_provision_state === ironic.target_provision_state
  )
    return undefined;
  return make({
    steps: withStep(operation, index, {
      ...step,
      ...progressOf(ironic),
      state: "running",
      started_at: step.started_at ?? at.toISOString(),
      detail,
    }),
  });
}

/** The step and the `nodes` entry of node `index` of an `enroll`, refusing any other operation or node. */
function enrollTarget(operation: Operation, index: number, move: string) {
  const step = operation.steps[index];
  const node = operation.nodes?.[index];
  if (operation.kind !== "enroll" || !step || !node) refuse(operation, move, "it has no such node to enroll");
  return { step, node };
}

/** Node `index` of an `enroll` begins (its register). Nodes run side by side, so no order is checked. */
export function enrollNodeStarted(operation: Operation, index: number, at: Date): OperationTransition {
  const move = `start enrolling node ${operation.nodes?.[index]?.name ?? index}`;
  requireState(operation, move, ["running"]);
  const { step, node } = enrollTarget(operation, index, move);
  if (node.state !== "pending") refuse(operation, move, `the node is ${node.state}`);
  return make({
    steps: withStep(operation, index, { ...step, state: "running", started_at: at.toISOString() }),
    nodes: withNode(operation, index, { ...node, state: "running" }),
  });
}

/** Node `index` of an `enroll` is registered: its own operation (`operationId`) runs its lifecycle steps. */
export function enrollNodeRegistered(
  operation: Operation,
  index: number,
  registered: { operationId: string; ironicNodeUuid: string | null; detail: string },
): OperationTransition {
  const move = `record node ${operation.nodes?.[index]?.name ?? index} registered`;
  requireState(operation, move, ["running", "cancelling"]);
  const { step, node } = enrollTarget(operation, index, move);
  if (node.state !== "running") refuse(operation, move, `the node is ${node.state}`);
  return make({
    steps: withStep(operation, index, { ...step, detail: registered.detail }),
    nodes: withNode(operation, index, {
      ...node,
      operation_id: registered.operationId,
      ironic_node_uuid: registered.ironicNodeUuid,
    }),
  });
}

/** How one node of an `enroll` ended. */
export interface EnrollNodeEnd {
  state: Exclude<EnrollNodeState, "pending" | "running">;
  code: string;
  detail: string;
  /** The node's Ironic node, when its register (without lifecycle steps) ended it. */
  ironicNodeUuid?: string | null;
}

/**
 * Node `index` of an `enroll` ended: its register was refused, its operation ended, or the enrollment was cancelled
 * before it started. Undefined when it had ended already (a replay).
 */
export function enrollNodeFinished(
  operation: Operation,
  index: number,
  end: EnrollNodeEnd,
  at: Date,
): OperationTransition | undefined {
  const move = `finish node ${operation.nodes?.[index]?.name ?? index} as ${end.state}`;
  requireState(operation, move, ["running", "cancelling"]);
  const { step, node } = enrollTarget(operation, index, move);
  if (node.state !== "pending" && node.state !== "running") return undefined;
  return make({
    steps: withStepEnded(operation, index, step, end, at),
    nodes: withNode(operation, index, {
      ...node,
      state: end.state,
      code: end.code,
      detail: end.detail,
      ...(end.ironicNodeUuid ? { ironic_node_uuid: end.ironicNodeUuid } : {}),
    }),
  });
}

function withNode(operation: Operation, index: number, node: EnrollNode): EnrollNode[] {
  return (operation.nodes ?? []).map((current, i) => (i === index ? node : current));
}

/** Every step succeeded or was skipped. */
export function succeeded(operation: Operation, detail?: string): OperationTransition {
  const move = "end the operation as succeeded";
  requireState(operation, move, ["running", "cancelling"]);
  const unfinished = operation.steps.find((step) => step.state !== "succeeded" && step.state !== "skipped");
  if (unfinished) refuse(operation, move, `step ${unfinished.name} is ${unfinished.state}`);
  return make({
    state: "succeeded",
    outcome: {
      code: "Succeeded",
      detail: detail ?? `${operation.kind} of node ${operation.node_name} succeeded`,
    },
  });
}

/**
 * The operation failed (a step failed, the deadline passed, a crash left it unfinishable). A step still running
 * fails with it, carrying the outcome's detail unless it has its own; steps that never ran are skipped.
 */
export function failed(operation: Operation, outcome: OperationOutcome, at: Date): OperationTransition {
  const move = "end the operation as failed";
  requireState(operation, move, ["pending", "running", "cancelling"]);
  const steps = operation.steps.map((step): OperationStep => {
    if (step.state === "running") {
      return {
        ...step,
        state: "failed",
        finished_at: at.toISOString(),
        detail: step.detail ?? outcome.detail,
      };
    }
    if (step.state === "pending") return { ...step, state: "skipped" };
    return step;
  });
  return make({ state: "failed", outcome: { code: outcome.code, detail: outcome.detail }, steps });
}

/** A caller asked to stop the operation; the workflow carries it out (Ironic `abort` where Ironic allows it). */
export function cancelRequested(operation: Operation, at: Date): OperationTransition {
  requireState(operation, "cancel", ["pending", "running"]);
  return make({ state: "cancelling", cancel_requested_at: at.toISOString() });
}

/** The cancel was carried out: the running step and those that never ran are cancelled. */
export function cancelled(operation: Operation, at: Date, detail?: string): OperationTransition {
  requireState(operation, "end the operation as cancelled", ["cancelling"]);
  const steps = operation.steps.map((step): OperationStep => {
    if (step.state === "running") return { ...step, state: "cancelled", finished_at: at.toISOString() };
    if (step.state === "pending") return { ...step, state: "cancelled" };
    return step;
  });
  return make({
    state: "cancelled",
    outcome: {
      code: "Cancelled",
      detail: detail ?? `${operation.kind} of node ${operation.node_name} cancelled`,
    },
    steps,
  });
}

/** The deadline has passed: the workflow stops waiting and fails the operation. */
export function isPastDeadline(operation: Operation, at: Date): boolean {
  return isActiveState(operation.state) && at.getTime() > Date.parse(operation.deadline);
}

/** The step running now, if any. */
export function runningStep(operation: Operation): OperationStep | undefined {
  return operation.steps.find((step) => step.state === "running");
}

/** The first step not yet ended, if any: the one the workflow runs (or resumes) next. */
export function nextStep(operation: Operation): OperationStep | undefined {
  return operation.steps.find((step) => !isFinalStepState(step.state));
}

function progressOf(ironic: IronicProgress): IronicProgress {
  return {
    provision_state: ironic.provision_state,
    target_provision_state: ironic.target_provision_state,
    last_error: ironic.last_error,
  };
}
