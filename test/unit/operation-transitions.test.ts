import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { OperationStateError, ValidationError } from "../../lib/errors.ts";
import {
  DEFAULT_OPERATION_DEADLINE_MS,
  initialOperation,
  isFinalState,
  type NewOperation,
  type Operation,
  toOperationView,
} from "../../lib/operations/model.ts";
import {
  cancelled,
  cancelRequested,
  failed,
  isPastDeadline,
  nextStep,
  type OperationTransition,
  runningStep,
  started,
  stepFinished,
  stepProgress,
  stepStarted,
  succeeded,
} from "../../lib/operations/transitions.ts";

const AT = new Date("2026-01-02T03:04:05.000Z");
const LATER = new Date("2026-01-02T03:05:00.000Z");
const CLEAN_WAIT = { provision_state: "clean wait", target_provision_state: "available", last_error: null };

function newOperation(overrides: Partial<NewOperation> = {}): NewOperation {
  return {
    id: "6f1d3c2a-0000-4000-8000-000000000001",
    node_uuid: "6f1d3c2a-0000-4000-8000-0000000000aa",
    node_name: "test-node",
    kind: "register",
    steps: ["create", "manage", "provide"],
    request_id: "req-1",
    principal: "arn:aws:iam::123456789012:user/ops",
    ...overrides,
  };
}

const fresh = (overrides: Partial<NewOperation> = {}) =>
  initialOperation(newOperation(overrides), AT, DEFAULT_OPERATION_DEADLINE_MS);

/** What the repository writes: every defined field of the transition, and the next `version`. */
function apply(operation: Operation, transition: OperationTransition | undefined): Operation {
  if (!transition) return operation;
  const written = Object.fromEntries(Object.entries(transition).filter(([, value]) => value !== undefined));
  return { ...operation, ...written, version: operation.version + 1 };
}

/** An operation running its first step. */
function runningFirstStep(): Operation {
  const running = apply(fresh(), started(fresh()));
  return apply(running, stepStarted(running, "create", AT));
}

describe("a new operation", () => {
  it("is pending, every step pending, with no outcome and a deadline two hours after its creation", () => {
    const operation = fresh();

    expect(operation).toMatchObject({
      state: "pending",
      outcome: null,
      cancel_requested_at: null,
      created_at: AT.toISOString(),
      deadline: "2026-01-02T05:04:05.000Z",
      version: 1,
    });
    expect(operation.steps.map((step) => [step.name, step.state])).toEqual([
      ["create", "pending"],
      ["manage", "pending"],
      ["provide", "pending"],
    ]);
  });

  it("keeps a deadline the caller chose", () => {
    expect(fresh({ deadline: "2026-01-03T00:00:00.000Z" }).deadline).toBe("2026-01-03T00:00:00.000Z");
    expect(initialOperation(newOperation(), AT, 60_000).deadline).toBe("2026-01-02T03:05:05.000Z");
  });

  it("refuses two steps of one name, since steps are addressed by name", () => {
    expect(() => fresh({ steps: ["manage", "manage"] })).toThrow(ValidationError);
  });

  it("shows no version through the API", () => {
    const view = toOperationView(fresh());
    expect(view).not.toHaveProperty("version");
    expect(view).toMatchObject({ id: newOperation().id, state: "pending" });
  });
});

describe("operation transitions", () => {
  it("runs steps in order and records Ironic's state as the step sees it", () => {
    let operation = runningFirstStep();
    expect(runningStep(operation)).toMatchObject({
      name: "create",
      state: "running",
      started_at: AT.toISOString(),
    });

    operation = apply(operation, stepFinished(operation, "create", { state: "succeeded" }, AT));
    operation = apply(operation, stepStarted(operation, "manage", AT));
    operation = apply(operation, stepProgress(operation, "manage", CLEAN_WAIT));

    expect(operation.steps[1]).toMatchObject({ state: "running", ...CLEAN_WAIT });
    expect(nextStep(operation)?.name).toBe("manage");
  });

  it("writes nothing for a poll that saw what the step already records", () => {
    let operation = runningFirstStep();
    operation = apply(operation, stepProgress(operation, "create", CLEAN_WAIT));

    expect(stepProgress(operation, "create", { ...CLEAN_WAIT })).toBeUndefined();
    expect(stepProgress(operation, "create", { ...CLEAN_WAIT, provision_state: "cleaning" })).toBeDefined();
  });

  it("succeeds once every step succeeded or was skipped, with a Succeeded outcome", () => {
    let operation = runningFirstStep();
    operation = apply(operation, stepFinished(operation, "create", { state: "succeeded" }, AT));
    operation = apply(
      operation,
      stepFinished(operation, "manage", { state: "skipped", detail: "manageable" }, AT),
    );
    operation = apply(operation, stepStarted(operation, "provide", AT));
    expect(() => succeeded(operation)).toThrow(/step provide is running/);

    operation = apply(operation, stepFinished(operation, "provide", { state: "succeeded" }, LATER));
    operation = apply(operation, succeeded(operation));

    expect(operation.state).toBe("succeeded");
    expect(operation.outcome).toEqual({ code: "Succeeded", detail: "register of node test-node succeeded" });
    expect(operation.steps[1]).toMatchObject({ state: "skipped", detail: "manageable", started_at: null });
    expect(operation.steps[2]).toMatchObject({ state: "succeeded", finished_at: LATER.toISOString() });
  });

  it("fails with Ironic's last_error on the step, skipping the steps that never ran", () => {
    let operation = runningFirstStep();
    const ironic = {
      provision_state: "clean failed",
      target_provision_state: null,
      last_error: "disk wipe failed",
    };
    operation = apply(operation, stepFinished(operation, "create", { state: "failed", ironic }, LATER));
    operation = apply(
      operation,
      failed(operation, { code: "IronicProvisionFailed", detail: "cleaning failed" }, LATER),
    );

    expect(operation.state).toBe("failed");
    expect(operation.outcome).toEqual({ code: "IronicProvisionFailed", detail: "cleaning failed" });
    expect(operation.steps.map((step) => step.state)).toEqual(["failed", "skipped", "skipped"]);
    expect(operation.steps[0]).toMatchObject({ ...ironic, finished_at: LATER.toISOString() });
  });

  it("fails the running step with the operation when the deadline passes", () => {
    const operation = runningFirstStep();
    const deadlineOver = new Date(Date.parse(operation.deadline) + 1);
    expect(isPastDeadline(operation, AT)).toBe(false);
    expect(isPastDeadline(operation, deadlineOver)).toBe(true);

    const after = apply(
      operation,
      failed(operation, { code: "OperationTimeout", detail: "deadline passed" }, deadlineOver),
    );

    expect(after.steps[0]).toMatchObject({ state: "failed", detail: "deadline passed" });
    expect(isPastDeadline(after, deadlineOver)).toBe(false);
  });

  it("cancels in two moves: asked (no new step starts), then carried out", () => {
    let operation = runningFirstStep();
    operation = apply(operation, cancelRequested(operation, LATER));
    expect(operation).toMatchObject({ state: "cancelling", cancel_requested_at: LATER.toISOString() });
    expect(() => stepStarted(operation, "manage", LATER)).toThrow(OperationStateError);
    // Ironic's state is still watched while the abort is carried out.
    operation = apply(operation, stepProgress(operation, "create", CLEAN_WAIT));

    operation = apply(operation, cancelled(operation, LATER));

    expect(operation.state).toBe("cancelled");
    expect(operation.outcome?.code).toBe("Cancelled");
    expect(operation.steps.map((step) => step.state)).toEqual(["cancelled", "cancelled", "cancelled"]);
    expect(operation.steps[0]?.finished_at).toBe(LATER.toISOString());
  });

  it("refuses to finish a step of an operation that already ended, naming the operation and the move", () => {
    let operation = runningFirstStep();
    operation = apply(operation, failed(operation, { code: "X", detail: "x" }, AT));

    expect(() => stepFinished(operation, "create", { state: "succeeded" }, AT)).toThrow(OperationStateError);
    expect(() => stepFinished(operation, "create", { state: "succeeded" }, AT)).toThrow(
      `operation ${operation.id}: cannot finish step create as succeeded: the operation is failed`,
    );
    expect(() => cancelRequested(operation, AT)).toThrow(OperationStateError);
    expect(() => succeeded(operation)).toThrow(OperationStateError);
  });

  it("refuses steps out of order, unknown steps, and a start of a running operation", () => {
    const pending = fresh();
    expect(() => stepStarted(pending, "create", AT)).toThrow(/the operation is pending/);
    const running = apply(pending, started(pending));
    expect(() => started(running)).toThrow(OperationStateError);
    expect(() => stepStarted(running, "manage", AT)).toThrow(/step create before it is pending/);
    expect(() => stepStarted(running, "deploy", AT)).toThrow(/it has no step deploy/);
    expect(() => stepFinished(running, "create", { state: "succeeded" }, AT)).toThrow(
      /the step is pending, not running/,
    );
    expect(() => stepProgress(running, "create", CLEAN_WAIT)).toThrow(/the step is pending/);
    expect(() => cancelled(running, AT)).toThrow(/allowed: cancelling/);
  });

  it("never carries version, updated_at or identity: the repository alone writes those", () => {
    const operation = runningFirstStep();
    const cancelling = apply(operation, cancelRequested(operation, AT));
    const all = [
      started(fresh()),
      stepStarted(apply(fresh(), started(fresh())), "create", AT),
      stepProgress(operation, "create", CLEAN_WAIT),
      stepFinished(operation, "create", { state: "succeeded" }, AT),
      failed(operation, { code: "X", detail: "x" }, AT),
      cancelRequested(operation, AT),
      cancelled(cancelling, AT),
    ];
    for (const transition of all) {
      for (const field of [
        "version",
        "updated_at",
        "created_at",
        "id",
        "node_uuid",
        "request_id",
        "deadline",
      ]) {
        expect(transition).not.toHaveProperty(field);
      }
    }
  });

  it("keeps an operation consistent over any sequence of moves, and an ended one ended", () => {
    type Move =
      | "forward"
      | "start"
      | "stepStart"
      | "progress"
      | "succeed"
      | "fail"
      | "skip"
      | "end"
      | "failOp"
      | "cancel"
      | "cancelled";
    // Mostly moves on the step the workflow would touch next, so runs reach every end, not only refusals.
    const move = fc.record({
      move: fc.oneof(
        // The move a healthy workflow makes next.
        { weight: 6, arbitrary: fc.constant<Move>("forward") },
        { weight: 6, arbitrary: fc.constantFrom<Move>("start", "stepStart", "succeed", "progress", "end") },
        { weight: 2, arbitrary: fc.constantFrom<Move>("fail", "skip", "cancel") },
        { weight: 1, arbitrary: fc.constantFrom<Move>("failOp", "cancelled") },
      ),
      step: fc.oneof(
        { weight: 4, arbitrary: fc.constant("next") },
        { weight: 1, arbitrary: fc.constantFrom("create", "manage", "provide", "nope") },
      ),
      provisionState: fc.constantFrom("enroll", "manageable", "cleaning", "clean wait", "available"),
    });
    const ends = new Map<string, number>();
    fc.assert(
      fc.property(fc.array(move, { minLength: 5, maxLength: 50 }), (sequence) => {
        let operation = fresh();
        let endedAs: Operation | undefined;
        for (const { move, step: chosen, provisionState } of sequence) {
          const step = chosen === "next" ? (nextStep(operation)?.name ?? "create") : chosen;
          const ironic = { provision_state: provisionState, target_provision_state: null, last_error: null };
          const make: Record<Move, () => OperationTransition | undefined> = {
            forward: () => {
              if (operation.state === "pending") return started(operation);
              const running = runningStep(operation);
              if (running) return stepFinished(operation, running.name, { state: "succeeded" }, AT);
              const next = nextStep(operation);
              return next ? stepStarted(operation, next.name, AT) : succeeded(operation);
            },
            start: () => started(operation),
            stepStart: () => stepStarted(operation, step, AT),
            progress: () => stepProgress(operation, step, ironic),
            succeed: () => stepFinished(operation, step, { state: "succeeded", ironic }, AT),
            fail: () => stepFinished(operation, step, { state: "failed" }, AT),
            skip: () => stepFinished(operation, step, { state: "skipped" }, AT),
            end: () => succeeded(operation),
            failOp: () => failed(operation, { code: "Failed", detail: "failed" }, AT),
            cancel: () => cancelRequested(operation, AT),
            cancelled: () => cancelled(operation, AT),
          };
          try {
            operation = apply(operation, make[move]());
          } catch (error) {
            // A refused move is refused with the operation's own error, and writes nothing.
            expect(error).toBeInstanceOf(OperationStateError);
          }

          if (endedAs) expect(operation).toEqual(endedAs);
          const states = operation.steps.map((s) => s.state);
          expect(states.filter((s) => s === "running").length).toBeLessThanOrEqual(1);
          if (states.includes("running")) expect(["running", "cancelling"]).toContain(operation.state);
          // No step has run past one that has not finished successfully.
          const firstOpen = states.findIndex((s) => s !== "succeeded" && s !== "skipped");
          if (firstOpen >= 0) {
            for (const later of operation.steps.slice(firstOpen + 1)) expect(later.started_at).toBeNull();
          }
          if (isFinalState(operation.state)) {
            expect(operation.outcome).not.toBeNull();
            expect(states.filter((s) => s === "pending" || s === "running")).toEqual([]);
            if (!endedAs) ends.set(operation.state, (ends.get(operation.state) ?? 0) + 1);
            endedAs ??= operation;
          } else {
            expect(operation.outcome).toBeNull();
          }
          if (operation.state === "cancelling" || operation.state === "cancelled") {
            expect(operation.cancel_requested_at).not.toBeNull();
          }
          if (operation.state === "succeeded") {
            expect(states.every((s) => s === "succeeded" || s === "skipped")).toBe(true);
          }
        }
      }),
      { numRuns: 500 },
    );
    // The runs reached every end, so the checks above were made on ended operations of each kind.
    expect([...ends.keys()].sort()).toEqual(["cancelled", "failed", "succeeded"]);
  });
});
