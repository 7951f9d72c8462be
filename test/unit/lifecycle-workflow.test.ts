import { randomUUID } from "node:crypto";
import { beforeEach, describe, expect, it } from "vitest";
import type { ValenceEvent } from "../../lib/events/schemas.ts";
import { IronicServerError } from "../../lib/ironic/errors.ts";
import { durableWaitDelayMs } from "../../lib/operations/durable.ts";
import {
  LIFECYCLE_STEPS,
  type LifecycleDeps,
  runLifecycle,
  verbStatus,
} from "../../lib/operations/lifecycle.ts";
import type { Operation } from "../../lib/operations/model.ts";
import { cancelRequested, failed } from "../../lib/operations/transitions.ts";
import { MemoryIronic } from "../support/memory-ironic.ts";
import { MemoryOperationRepository } from "../support/memory-operations.ts";
import { CleaningIronic, FakeWorkflowContext } from "../support/workflow.ts";

describe("the lifecycle workflow", () => {
  let ironic: CleaningIronic;
  let operations: MemoryOperationRepository;
  let ctx: FakeWorkflowContext;
  let events: ValenceEvent[];
  let clock: number;
  const valenceNode = randomUUID();
  let ironicNode: string;
  let deps: LifecycleDeps;

  beforeEach(async () => {
    ironic = new CleaningIronic();
    clock = Date.parse("2026-03-01T00:00:00.000Z");
    const now = () => new Date(clock);
    operations = new MemoryOperationRepository(now);
    ctx = new FakeWorkflowContext();
    events = [];
    ironicNode = (await ironic.createNode({ name: "test-node", driver: "redfish" })).uuid;
    deps = {
      operations,
      ironicNodeOf: async (uuid) => (uuid === valenceNode ? ironicNode : undefined),
      ironic,
      events: { publish: async (published) => void events.push(...published) },
      now,
      sleep: async (ms) => {
        clock += ms;
      },
    };
  });

  async function operationWith(steps: string[], deadline?: string): Promise<Operation> {
    return operations.create({
      id: randomUUID(),
      node_uuid: valenceNode,
      node_name: "test-node",
      kind: "register",
      steps,
      request_id: "req-1",
      principal: "arn:aws:iam::123456789012:user/ops",
      deadline,
    });
  }

  const verbs = () => ironic.callsOf("setProvisionState").map((args) => args[1]);
  const finished = () => events.filter((event) => event.detailType === "Operation Finished");

  it("manages and provides a node that cleans: both steps succeed with Ironic's states, events at both ends", async () => {
    const operation = await operationWith(["manage", "provide"]);
    ctx.onWait = (check) => {
      if (check === 3) ironic.finishCleaning(ironicNode);
    };

    const result = await runLifecycle({ operation_id: operation.id }, ctx, deps);

    const stored = await operations.get(operation.id);
    expect(result).toMatchObject({ state: "succeeded", outcome: { code: "Succeeded" } });
    expect(stored?.steps.map((step) => [step.name, step.state, step.provision_state])).toEqual([
      ["manage", "succeeded", "manageable"],
      ["provide", "succeeded", "available"],
    ]);
    expect(verbs()).toEqual(["manage", "provide"]);
    // clean wait was seen and recorded while it lasted.
    expect(
      operations.writes.some((write) => write.changes.steps?.[1]?.provision_state === "clean wait"),
    ).toBe(true);
    expect(ctx.waits).toEqual(["provide: wait"]);
    expect(events.map((event) => event.detailType)).toEqual(["Operation Started", "Operation Finished"]);
    expect(finished()[0]?.detail).toMatchObject({ outcome: "succeeded" });
  });

  it("sends a verb again when Ironic failed it with a server error without taking it; three refusals fail the step", async () => {
    const busy = () =>
      new IronicServerError("Ironic failed on PUT (500): (sqlite3.OperationalError) database is locked");
    ironic.fail({ method: "setProvisionState", nth: 1, at: "before", error: busy() });
    const once = await operationWith(["manage"]);

    expect(await runLifecycle({ operation_id: once.id }, ctx, deps)).toMatchObject({ state: "succeeded" });
    expect(verbs()).toEqual(["manage", "manage"]);

    // Refused three times in a row: the step fails with Ironic's error, as before.
    const again = (await ironic.createNode({ name: "busy-node", driver: "redfish" })).uuid;
    ironicNode = again;
    // Each fault fails the first call no earlier fault took: three faults fail the next three calls.
    for (let i = 0; i < 3; i++)
      ironic.fail({ method: "setProvisionState", nth: 1, at: "before", error: busy() });
    const thrice = await operationWith(["manage"]);
    const result = await runLifecycle({ operation_id: thrice.id }, new FakeWorkflowContext(), deps);

    expect(result).toMatchObject({ state: "failed" });
    expect(result.outcome?.detail).toContain("database is locked");
    expect(verbs()).toEqual(["manage", "manage", "manage", "manage", "manage"]);
  });

  it("fails the operation with Ironic's last_error when manage falls back to enroll", async () => {
    ironic.failVerification.add(ironicNode);
    const operation = await operationWith(["manage", "provide"]);

    const result = await runLifecycle({ operation_id: operation.id }, ctx, deps);

    const stored = await operations.get(operation.id);
    expect(result.state).toBe("failed");
    expect(result.outcome).toEqual({
      code: "IronicStepFailed",
      detail: "Failed to get power state for node: wrong BMC credentials",
    });
    expect(stored?.steps.map((step) => [step.name, step.state])).toEqual([
      ["manage", "failed"],
      ["provide", "skipped"],
    ]);
    expect(stored?.steps[0]).toMatchObject({ provision_state: "enroll", last_error: expect.any(String) });
    expect(verbs()).toEqual(["manage"]);
    expect(ironic.nodes.has(ironicNode)).toBe(true);
  });

  it("does not verify again when a manage that failed at once is replayed (the node back in enroll)", async () => {
    ironic.failVerification.add(ironicNode);
    // A failure left by an earlier attempt: the same last_error as the one this manage will end with.
    ironic.nodes.set(ironicNode, {
      ...(ironic.nodes.get(ironicNode) as NonNullable<ReturnType<typeof ironic.nodes.get>>),
      last_error: "Failed to get power state for node: wrong BMC credentials",
      provision_updated_at: "2026-02-01T00:00:00.000Z",
    });
    const operation = await operationWith(["manage", "provide"]);
    ctx.replay.add("manage: send");

    const result = await runLifecycle({ operation_id: operation.id }, ctx, deps);

    expect(ctx.ran.filter((name) => name === "manage: send")).toHaveLength(2);
    expect(verbs()).toEqual(["manage"]);
    expect(result).toMatchObject({ state: "failed", outcome: { code: "IronicStepFailed" } });
  });

  it("fails on clean failed with Ironic's last_error and leaves the node clean failed", async () => {
    const operation = await operationWith(["manage", "provide"]);
    ctx.onWait = () => ironic.finishCleaning(ironicNode, "disk /dev/sdb did not answer");

    const result = await runLifecycle({ operation_id: operation.id }, ctx, deps);

    expect(result).toMatchObject({
      state: "failed",
      outcome: { code: "IronicStepFailed", detail: "disk /dev/sdb did not answer" },
    });
    expect(ironic.nodes.get(ironicNode)).toMatchObject({ provision_state: "clean failed" });
    expect(ironic.callsOf("deleteNode")).toEqual([]);
    expect(finished()).toHaveLength(1);
    expect(finished()[0]?.detail).toMatchObject({
      outcome: "failed",
      provision_state: "clean failed",
      last_error: "disk /dev/sdb did not answer",
    });
  });

  it("aborts in clean wait when cancelled and ends the operation cancelled", async () => {
    const operation = await operationWith(["manage", "provide"]);
    ctx.onWait = async () => {
      const current = (await operations.get(operation.id)) as Operation;
      if (current.state === "running")
        await operations.update(current.id, current, cancelRequested(current, new Date(clock)));
    };

    const result = await runLifecycle({ operation_id: operation.id }, ctx, deps);

    const stored = await operations.get(operation.id);
    expect(result).toMatchObject({ state: "cancelled", outcome: { code: "Cancelled" } });
    expect(verbs()).toEqual(["manage", "provide", "abort"]);
    expect(stored?.steps.map((step) => [step.name, step.state])).toEqual([
      ["manage", "succeeded"],
      ["provide", "cancelled"],
    ]);
    expect(ironic.nodes.get(ironicNode)?.provision_state).toBe("clean failed");
    expect(finished()).toHaveLength(1);
  });

  it("cancels at the next step boundary when Ironic is not abortable", async () => {
    const operation = await operationWith(["manage", "provide"]);
    // Cancelled while manage runs (it ends at once here): provide never starts.
    const original = ironic.setProvisionState.bind(ironic);
    ironic.setProvisionState = async (ident, target) => {
      await original(ident, target);
      const current = (await operations.get(operation.id)) as Operation;
      if (current.state === "running")
        await operations.update(current.id, current, cancelRequested(current, new Date(clock)));
    };

    const result = await runLifecycle({ operation_id: operation.id }, ctx, deps);

    const stored = await operations.get(operation.id);
    expect(result.state).toBe("cancelled");
    expect(verbs()).toEqual(["manage"]);
    expect(stored?.steps.map((step) => [step.name, step.state])).toEqual([
      ["manage", "succeeded"],
      ["provide", "cancelled"],
    ]);
  });

  it("fails the operation with a timeout code once its deadline passes, leaving Ironic cleaning", async () => {
    const operation = await operationWith(
      ["manage", "provide"],
      new Date(clock + 10 * 60 * 1000).toISOString(),
    );
    ctx.onWait = () => {
      clock += 5 * 60 * 1000;
    };

    const result = await runLifecycle({ operation_id: operation.id }, ctx, deps);

    const stored = await operations.get(operation.id);
    expect(result).toMatchObject({ state: "failed", outcome: { code: "OperationTimeout" } });
    expect(stored?.steps[1]).toMatchObject({ state: "failed", provision_state: "clean wait" });
    expect(ironic.nodes.get(ironicNode)?.provision_state).toBe("clean wait");
    expect(verbs()).toEqual(["manage", "provide"]);
  });

  it("fails a node without an Ironic node without calling Ironic", async () => {
    deps.ironicNodeOf = async () => null;
    const operation = await operationWith(["provide"]);

    const result = await runLifecycle({ operation_id: operation.id }, ctx, deps);

    expect(result).toMatchObject({ state: "failed", outcome: { code: "NodeNotRegistered" } });
    expect(ironic.calls).toEqual([{ method: "createNode", args: expect.any(Array) }]);
  });

  it("fails the operation when a step keeps failing past the engine's retries, instead of leaving it running", async () => {
    const operation = await operationWith(["manage", "provide"]);
    ironic.getNode = async () => {
      throw new Error("connect ECONNREFUSED 127.0.0.1:6385");
    };

    const result = await runLifecycle({ operation_id: operation.id }, ctx, deps);

    expect(result).toMatchObject({
      state: "failed",
      outcome: { code: "IronicError", detail: "connect ECONNREFUSED 127.0.0.1:6385" },
    });
    expect((await operations.get(operation.id))?.steps.map((step) => step.state)).toEqual([
      "failed",
      "skipped",
    ]);
    expect(finished()).toHaveLength(1);
  });

  it("keeps waiting through a failed look at Ironic during a durable wait", async () => {
    const operation = await operationWith(["manage", "provide"]);
    const getNode = ironic.getNode.bind(ironic);
    let failNext = false;
    ctx.onWait = (check) => {
      failNext = check === 1;
      if (check === 3) ironic.finishCleaning(ironicNode);
    };
    ironic.getNode = (async (ident: string) => {
      if (failNext) {
        failNext = false;
        throw new Error("Ironic answered 503");
      }
      return getNode(ident);
    }) as typeof ironic.getNode;

    const result = await runLifecycle({ operation_id: operation.id }, ctx, deps);

    expect(result.state).toBe("succeeded");
  });

  it("publishes no end it did not write: another writer ended the operation first", async () => {
    const operation = await operationWith(["manage"]);
    const update = operations.update.bind(operations);
    operations.update = async (id, guard, changes) => {
      if (changes.state === "succeeded") {
        // A recovery failed it just before: the workflow's write meets a newer version.
        const current = (await operations.get(id)) as Operation;
        await update(id, current, failed(current, { code: "Interrupted", detail: "x" }, new Date(clock)));
      }
      return update(id, guard, changes);
    };

    const result = await runLifecycle({ operation_id: operation.id }, ctx, deps);

    expect(result).toMatchObject({ state: "failed", outcome: { code: "Interrupted" } });
    expect(finished()).toEqual([]);
  });

  it("reads Ironic once per look: a step's first look is the previous step's last, and its send trusts it", async () => {
    Object.assign(ironic.nodes.get(ironicNode) as object, { provision_state: "enroll" });
    const plain = new MemoryIronic();
    plain.nodes.set(ironicNode, ironic.nodes.get(ironicNode) as never);
    const operation = await operationWith(["manage", "provide"]);

    const result = await runLifecycle({ operation_id: operation.id }, ctx, { ...deps, ironic: plain });

    expect(result.state).toBe("succeeded");
    // One look before manage, one look after each verb; nothing read twice within an invocation.
    expect(plain.callsOf("getNode")).toHaveLength(3);
    expect(plain.callsOf("setProvisionState").map((args) => args[1])).toEqual(["manage", "provide"]);
  });

  it("clears the maintenance Ironic set after a failed clean step before sending the verb", async () => {
    const node = ironic.nodes.get(ironicNode) as NonNullable<ReturnType<typeof ironic.nodes.get>>;
    Object.assign(node, {
      provision_state: "clean failed",
      maintenance: true,
      maintenance_reason: "Clean step failed",
      fault: "clean failure",
      last_error: "disk would not wipe",
    });
    const operation = await operationWith(["manage"]);

    const result = await runLifecycle({ operation_id: operation.id }, ctx, deps);

    expect(result.state).toBe("succeeded");
    const acts = ironic.calls.map((call) => call.method);
    expect(acts.filter((m) => m === "clearMaintenance" || m === "setProvisionState")).toEqual([
      "clearMaintenance",
      "setProvisionState",
    ]);
    expect(ironic.nodes.get(ironicNode)).toMatchObject({ maintenance: false, provision_state: "manageable" });
  });

  it("fails the step, sending nothing, on a node an operator put in maintenance", async () => {
    Object.assign(ironic.nodes.get(ironicNode) as object, {
      maintenance: true,
      maintenance_reason: "replacing a DIMM",
      fault: null,
    });
    const operation = await operationWith(["manage"]);

    const result = await runLifecycle({ operation_id: operation.id }, ctx, deps);

    expect(result).toMatchObject({
      state: "failed",
      outcome: {
        code: "IronicStepFailed",
        detail: "the node is in maintenance (replacing a DIMM); unset it first",
      },
    });
    expect(ironic.callsOf("setProvisionState")).toEqual([]);
    expect(ironic.callsOf("clearMaintenance")).toEqual([]);
  });

  it("sends manage from another verb's failed state even with its target still set", async () => {
    Object.assign(ironic.nodes.get(ironicNode) as object, {
      provision_state: "inspect failed",
      target_provision_state: "manageable",
      last_error: "inspection timed out",
    });
    const operation = await operationWith(["manage"]);

    const result = await runLifecycle({ operation_id: operation.id }, ctx, deps);

    expect(result.state).toBe("succeeded");
    expect(verbs()).toEqual(["manage"]);
  });

  it("runs inspect and clean from manageable back to manageable, cleaning with the operation's steps", async () => {
    Object.assign(ironic.nodes.get(ironicNode) as object, { provision_state: "manageable" });
    const cleanSteps = [{ interface: "deploy" as const, step: "erase_devices_metadata" }];
    const inspect = await operationWith(["inspect"]);
    expect((await runLifecycle({ operation_id: inspect.id }, ctx, deps)).state).toBe("succeeded");
    const clean = await operations.create({
      id: randomUUID(),
      node_uuid: valenceNode,
      node_name: "test-node",
      kind: "clean",
      steps: ["clean"],
      request_id: "req-2",
      principal: "ops",
      arguments: { clean_steps: cleanSteps },
    });

    const result = await runLifecycle({ operation_id: clean.id }, new FakeWorkflowContext(), deps);

    expect(result.state).toBe("succeeded");
    expect(ironic.callsOf("setProvisionState")).toEqual([
      [ironicNode, "inspect"],
      [ironicNode, "clean", { clean_steps: cleanSteps }],
    ]);
  });

  it("counts a provide's preparing manage done on a node past it, and provide done on an available one", async () => {
    Object.assign(ironic.nodes.get(ironicNode) as object, { provision_state: "available" });
    const operation = await operations.create({
      id: randomUUID(),
      node_uuid: valenceNode,
      node_name: "test-node",
      kind: "provide",
      steps: ["manage", "provide"],
      request_id: "req-3",
      principal: "ops",
    });

    const result = await runLifecycle({ operation_id: operation.id }, ctx, deps);

    expect(result.state).toBe("succeeded");
    expect(verbs()).toEqual([]);
  });

  it("resumed from the start after its engine lost everything, skips the steps that ended", async () => {
    const operation = await operationWith(["manage", "provide"]);
    ctx.onWait = (check) => {
      if (check === 1) ironic.finishCleaning(ironicNode);
    };
    await runLifecycle({ operation_id: operation.id }, ctx, deps);
    const stored = (await operations.get(operation.id)) as Operation;
    // As if the engine died after manage ended: provide still running, its checkpoints gone.
    await operations.update(operation.id, { version: stored.version }, {
      state: "running",
      outcome: null,
      steps: stored.steps.map((step) =>
        step.name === "provide" ? { ...step, state: "running", finished_at: null } : step,
      ),
    } as never);
    const sent = verbs().length;

    const resumed = await runLifecycle({ operation_id: operation.id }, new FakeWorkflowContext(), deps);

    expect(resumed.state).toBe("succeeded");
    // manage was not sent again (the node is available, which manage would have moved back to manageable).
    expect(verbs().length).toBe(sent);
  });

  it("runs an operation that already ended no further", async () => {
    const operation = await operationWith(["manage"]);
    await runLifecycle({ operation_id: operation.id }, ctx, deps);
    const before = ironic.calls.length;

    const again = await runLifecycle({ operation_id: operation.id }, new FakeWorkflowContext(), deps);

    expect(again.state).toBe("succeeded");
    expect(ironic.calls.length).toBe(before);
    expect(finished()).toHaveLength(1);
  });

  describe("replays each step after its side effect, before its checkpoint", () => {
    // Each step's checkpoint also starts the next step (the last one ends the operation): these are all of them.
    const STEPS = ["start", "manage: send", "manage: finish", "provide: send", "provide: finish"];
    for (const lost of STEPS) {
      it(`${lost}: the verbs are sent once and the operation ends once, succeeded`, async () => {
        const operation = await operationWith(["manage", "provide"]);
        ctx.replay.add(lost);
        ctx.onWait = (check) => {
          if (check === 2) ironic.finishCleaning(ironicNode);
        };

        const result = await runLifecycle({ operation_id: operation.id }, ctx, deps);

        expect(ctx.ran.filter((name) => name === lost)).toHaveLength(2);
        expect(result.state).toBe("succeeded");
        expect(verbs()).toEqual(["manage", "provide"]);
        expect(events.map((event) => event.detailType)).toEqual(["Operation Started", "Operation Finished"]);
        expect((await operations.get(operation.id))?.steps.map((step) => step.state)).toEqual([
          "succeeded",
          "succeeded",
        ]);
      });
    }
  });
});

describe("verbStatus", () => {
  const provide = LIFECYCLE_STEPS.provide as NonNullable<(typeof LIFECYCLE_STEPS)["provide"]>;
  const manage = LIFECYCLE_STEPS.manage as NonNullable<(typeof LIFECYCLE_STEPS)["manage"]>;
  const node = (
    provision_state: string,
    target_provision_state: string | null,
    last_error: string | null,
  ) => ({
    provision_state,
    target_provision_state,
    last_error,
  });

  it("tells done, moving, failed and idle apart", () => {
    expect(verbStatus(provide, node("available", null, null), false)).toBe("done");
    expect(verbStatus(provide, node("clean wait", "available", null), false)).toBe("moving");
    expect(verbStatus(provide, node("clean failed", null, "x"), false)).toBe("failed");
    expect(verbStatus(provide, node("clean failed", "available", "x"), true)).toBe("failed");
    expect(verbStatus(provide, node("manageable", null, null), false)).toBe("idle");
    expect(verbStatus(manage, node("verifying", "manageable", null), false)).toBe("moving");
    // A stale last_error before the verb is sent is no failure of this step.
    expect(verbStatus(manage, node("enroll", null, "old"), false)).toBe("idle");
    expect(verbStatus(manage, node("enroll", null, "bad password"), true)).toBe("failed");
    expect(verbStatus(manage, node("inspect failed", "manageable", "x"), false)).toBe("idle");
    const inspect = LIFECYCLE_STEPS.inspect as Parameters<typeof verbStatus>[0];
    // A verb that starts from its target: resting there is its end only once it was taken.
    expect(verbStatus(inspect, node("manageable", null, null), false)).toBe("idle");
    expect(verbStatus(inspect, node("manageable", null, null), true)).toBe("done");
    expect(verbStatus(inspect, node("inspect wait", "manageable", null), false)).toBe("moving");
    expect(verbStatus(inspect, node("inspect failed", "manageable", "x"), true)).toBe("failed");
  });

  it("settles once Ironic rests, a failed state with its target still set included; aborts only a wait", () => {
    const settle = LIFECYCLE_STEPS.settle as Required<Pick<Parameters<typeof verbStatus>[0], "status">>;
    expect(settle.status(node("clean wait", "available", null))).toBe("idle");
    expect(settle.status(node("inspect wait", "manageable", null))).toBe("idle");
    expect(settle.status(node("cleaning", "available", null))).toBe("moving");
    expect(settle.status(node("verifying", "manageable", null))).toBe("moving");
    expect(settle.status(node("clean failed", "available", "aborted"))).toBe("done");
    expect(settle.status(node("manageable", null, null))).toBe("done");
  });
});

describe("durableWaitDelayMs", () => {
  it("doubles from the first delay up to the cap", () => {
    const options = { firstDelayMs: 2_000, maxDelayMs: 60_000 };
    expect([1, 2, 3, 4, 5, 6, 10].map((attempt) => durableWaitDelayMs(attempt, options))).toEqual([
      2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000,
    ]);
  });
});
