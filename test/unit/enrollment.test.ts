import { randomUUID } from "node:crypto";
import { beforeEach, describe, expect, it } from "vitest";
import { NodeAlreadyRegisteredError, ValidationError } from "../../lib/errors.ts";
import type { Node } from "../../lib/nodes/model.ts";
import type { RegisterNodeInput } from "../../lib/nodes/schemas.ts";
import {
  ENROLL_FAILURES,
  type EnrollmentDeps,
  EnrollmentService,
  runEnrollment,
} from "../../lib/operations/enrollment.ts";
import type { LifecycleResult } from "../../lib/operations/lifecycle.ts";
import { type Operation, toOperationView } from "../../lib/operations/model.ts";
import { EnrollNodesBody, MAX_ENROLL_NODES } from "../../lib/operations/schemas.ts";
import { OperationService } from "../../lib/operations/service.ts";
import { cancelRequested } from "../../lib/operations/transitions.ts";
import { newNode } from "../support/fixtures.ts";
import { MemoryOperationRepository } from "../support/memory-operations.ts";
import { finderOf, MemoryNodeRepository } from "../support/memory-registration.ts";
import { FakeWorkflowContext } from "../support/workflow.ts";

const caller = { requestId: "req-enroll", principal: "arn:aws:iam::1:user/ops" };

/** A gate the test opens: what a node's operation waits on, to hold nodes in flight. */
function gate() {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

describe("EnrollNodesBody", () => {
  it("takes a list of names and items with their own register fields, defaulting the concurrency to 10", () => {
    const body = EnrollNodesBody.parse({
      nodes: ["a", { node: "b", resource_class: "gold" }],
      manage: true,
      provide: true,
    });
    expect(body).toMatchObject({ concurrency: 10, manage: true, provide: true, ports: "all" });
    // An item's own fields carry no register defaults: a field it leaves out keeps the enrollment's value.
    expect(body.nodes?.[1]).toEqual({ node: "b", resource_class: "gold" });
  });

  it.each([
    [{ nodes: [] }, "the list of nodes is empty"],
    [{}, "exactly one of nodes"],
    [{ nodes: ["a"], selector: { podm_id: randomUUID(), managed_by: "valence" } }, "exactly one of nodes"],
    [{ nodes: ["a", { node: "a" }] }, "a is listed twice"],
    [
      { nodes: Array.from({ length: MAX_ENROLL_NODES + 1 }, (_, i) => `n${i}`) },
      `at most ${MAX_ENROLL_NODES}`,
    ],
    [{ nodes: ["a"], concurrency: 0 }, ""],
    [{ nodes: ["a"], concurrency: 65 }, ""],
    [{ selector: { podm_id: randomUUID(), managed_by: "ironic" } }, ""],
    [{ nodes: [{ node: "a", manage: "yes" }] }, ""],
  ])("refuses %j", (input, message) => {
    const parsed = EnrollNodesBody.safeParse(input);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((issue) => issue.message).join("; ")).toContain(message);
  });
});

describe("EnrollmentService", () => {
  let nodes: MemoryNodeRepository;
  let operations: MemoryOperationRepository;
  let launched: string[];
  let service: EnrollmentService;
  const podm = { uuid: randomUUID(), name: "podm-a" };

  beforeEach(() => {
    nodes = new MemoryNodeRepository();
    operations = new MemoryOperationRepository();
    launched = [];
    service = new EnrollmentService({
      operations,
      finder: finderOf(nodes),
      nodes: {
        list: async (query) => ({
          items: [...nodes.items.values()].filter(
            (node) => node.podm_id === query.podm_id && node.managed_by === query.managed_by,
          ),
        }),
      },
      podManagers: { get: async (uuid) => (uuid === podm.uuid ? podm : undefined) },
      launch: async (operation) => {
        launched.push(operation.id);
        return operation;
      },
      defaultDeadlineSeconds: 7200,
    });
  });

  const body = (input: unknown) => EnrollNodesBody.parse(input);

  it("records one enroll operation with a step and a pending entry per node, and starts its workflow", async () => {
    const a = await nodes.create(newNode({ name: "rack-a" }));
    const b = await nodes.create(newNode({ name: "rack-b" }));

    const operation = await service.enroll(
      body({
        nodes: ["rack-a", { node: b.uuid, provide: false }],
        manage: true,
        provide: true,
        concurrency: 4,
      }),
      caller,
    );

    expect(launched).toEqual([operation.id]);
    expect(operation).toMatchObject({
      kind: "enroll",
      state: "pending",
      node_uuid: operation.id,
      arguments: { concurrency: 4, register: { manage: true, provide: true } },
      steps: [{ name: "rack-a" }, { name: "rack-b" }],
    });
    expect(operation.nodes).toEqual([
      expect.objectContaining({ node_uuid: a.uuid, name: "rack-a", state: "pending", operation_id: null }),
      expect.objectContaining({
        node_uuid: b.uuid,
        name: "rack-b",
        state: "pending",
        options: { provide: false },
      }),
    ]);
    // The view counts the nodes and keeps each node's own fields inside.
    const view = toOperationView(operation);
    expect(view.progress).toEqual({
      total: 2,
      pending: 2,
      running: 0,
      succeeded: 0,
      failed: 0,
      cancelled: 0,
    });
    expect(view.nodes?.[1]).not.toHaveProperty("options");
  });

  it("answers 400 naming every unknown node and a node named twice by name and uuid, starting nothing", async () => {
    const a = await nodes.create(newNode({ name: "rack-a" }));

    const refused = service.enroll(body({ nodes: ["rack-a", "ghost-1", a.uuid, "ghost-2"] }), caller);

    await expect(refused).rejects.toThrow(ValidationError);
    await expect(refused).rejects.toThrow(
      /nodes\[1\]: no node ghost-1.*nodes\[2\]: node rack-a is listed twice/,
    );
    await expect(refused).rejects.toThrow(/nodes\[3\]: no node ghost-2/);
    expect(launched).toEqual([]);
    expect(operations.operations.size).toBe(0);
  });

  it("selects the pod manager's nodes that Valence manages; 400 for an unknown pod manager or none to enroll", async () => {
    await nodes.create(newNode({ name: "ours-1", podm_id: podm.uuid }));
    await nodes.create(newNode({ name: "ours-2", podm_id: podm.uuid }));
    await nodes.create(newNode({ name: "registered", podm_id: podm.uuid, managed_by: "ironic" }));
    await nodes.create(newNode({ name: "elsewhere" }));

    const operation = await service.enroll(
      body({ selector: { podm_id: podm.uuid, managed_by: "valence" }, manage: true }),
      caller,
    );

    expect(operation.nodes?.map((node) => node.name)).toEqual(["ours-1", "ours-2"]);
    expect(operation.pod_manager_uuid).toBe(podm.uuid);
    await expect(
      service.enroll(body({ selector: { podm_id: randomUUID(), managed_by: "valence" } }), caller),
    ).rejects.toThrow(/selector.podm_id: no pod manager/);
    for (const node of nodes.items.values()) node.managed_by = "ironic";
    await expect(
      service.enroll(body({ selector: { podm_id: podm.uuid, managed_by: "valence" } }), caller),
    ).rejects.toThrow(/has no node that Valence manages/);
  });
});

describe("runEnrollment", () => {
  let nodes: MemoryNodeRepository;
  let operations: MemoryOperationRepository;
  let service: EnrollmentService;
  /** Register calls, by node name, with the options each got. */
  let registered: Map<string, RegisterNodeInput>;
  /** How a node's register or operation goes, by node name; absent: registered and succeeded. */
  let behaviour: Map<string, "refused" | "operation fails" | "branch throws">;
  let inFlight: number;
  let maxInFlight: number;
  let hold: ReturnType<typeof gate> | undefined;
  let onOperation: (name: string) => Promise<void>;

  beforeEach(() => {
    nodes = new MemoryNodeRepository();
    operations = new MemoryOperationRepository();
    registered = new Map();
    behaviour = new Map();
    inFlight = 0;
    maxInFlight = 0;
    hold = undefined;
    onOperation = async () => undefined;
    service = new EnrollmentService({
      operations,
      finder: finderOf(nodes),
      nodes,
      podManagers: { get: async () => undefined },
      launch: async (operation) => operation,
      defaultDeadlineSeconds: 7200,
    });
  });

  function deps(): EnrollmentDeps {
    return {
      operations,
      nodes,
      register: async (node, options, enrollment) => {
        registered.set(node.name, options);
        if (behaviour.get(node.name) === "refused") throw new NodeAlreadyRegisteredError(node.name, "ir-x");
        if (!options.manage && !options.provide)
          return { operationId: null, ironicNodeUuid: `ir-${node.name}` };
        const child = await operations.create({
          id: randomUUID(),
          node_uuid: node.node_uuid,
          node_name: node.name,
          kind: "register",
          steps: ["manage", "provide"],
          request_id: enrollment.request_id,
          principal: enrollment.principal,
          parent_id: enrollment.id,
        });
        return { operationId: child.id, ironicNodeUuid: `ir-${node.name}` };
      },
      runNodeOperation: async (input, ctx): Promise<LifecycleResult> => {
        const child = (await operations.get(input.operation_id)) as Operation;
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        try {
          await ctx.step("manage: send", async () => undefined);
          await onOperation(child.node_name);
          await hold?.opened;
          if (behaviour.get(child.node_name) === "branch throws")
            throw new Error("injected: store unreachable");
          const fails = behaviour.get(child.node_name) === "operation fails";
          return {
            operation_id: child.id,
            state: fails ? "failed" : "succeeded",
            outcome: fails
              ? { code: "IronicStepFailed", detail: "clean failed: disk erase failed" }
              : { code: "Succeeded", detail: "register succeeded" },
          };
        } finally {
          inFlight--;
        }
      },
    };
  }

  async function enrollment(names: string[], extra: Record<string, unknown> = {}): Promise<Operation> {
    for (const name of names) await nodes.create(newNode({ name }));
    return service.enroll(
      EnrollNodesBody.parse({ nodes: names, manage: true, provide: true, ...extra }),
      caller,
    );
  }

  const run = (operation: Operation, ctx = new FakeWorkflowContext()) =>
    runEnrollment({ operation_id: operation.id }, ctx, deps());

  it("never runs more nodes at once than the concurrency limit, and succeeds once every node did", async () => {
    const names = Array.from({ length: 7 }, (_, i) => `rack-${i}`);
    const operation = await enrollment(names, { concurrency: 3 });
    hold = gate();
    const result = run(operation);
    // Let the first wave pile up against the gate, then let everything through.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(inFlight).toBe(3);
    hold.open();

    expect(await result).toMatchObject({ state: "succeeded", outcome: { code: "Succeeded" } });
    expect(maxInFlight).toBe(3);
    const ended = (await operations.get(operation.id)) as Operation;
    expect(ended.nodes?.every((node) => node.state === "succeeded" && node.operation_id)).toBe(true);
    expect(toOperationView(ended).progress).toMatchObject({ total: 7, succeeded: 7 });
    expect(ended.outcome?.detail).toBe("7 of 7 nodes enrolled");
    expect(ended.steps.every((step) => step.state === "succeeded")).toBe(true);
  });

  it("fails only the nodes that failed, each with its own code, and ends EnrollmentIncomplete naming them", async () => {
    const operation = await enrollment(["ok-1", "taken", "bad-clean", "crashing", "ok-2"], {
      concurrency: 2,
    });
    behaviour.set("taken", "refused");
    behaviour.set("bad-clean", "operation fails");
    behaviour.set("crashing", "branch throws");

    const result = await run(operation);

    expect(result).toMatchObject({ state: "failed", outcome: { code: ENROLL_FAILURES.incomplete } });
    const ended = (await operations.get(operation.id)) as Operation;
    expect(ended.nodes?.map(({ name, state, code }) => [name, state, code])).toEqual([
      ["ok-1", "succeeded", "Succeeded"],
      ["taken", "failed", "NodeAlreadyRegistered"],
      ["bad-clean", "failed", "IronicStepFailed"],
      ["crashing", "failed", ENROLL_FAILURES.error],
      ["ok-2", "succeeded", "Succeeded"],
    ]);
    expect(ended.nodes?.[1]?.operation_id).toBeNull();
    expect(ended.nodes?.[2]?.detail).toBe("clean failed: disk erase failed");
    expect(ended.outcome?.detail).toContain("2 of 5 nodes enrolled");
    expect(ended.outcome?.detail).toContain("taken: NodeAlreadyRegistered");
    expect(toOperationView(ended).progress).toMatchObject({
      succeeded: 2,
      failed: 3,
      pending: 0,
      running: 0,
    });
  });

  it("gives each node its own fields over the enrollment's, and ends a node without lifecycle steps at its register", async () => {
    await nodes.create(newNode({ name: "gold" }));
    await nodes.create(newNode({ name: "plain" }));
    const operation = await service.enroll(
      EnrollNodesBody.parse({
        nodes: [{ node: "gold", resource_class: "gold" }, "plain"],
        manage: false,
        resource_class: "silver",
      }),
      caller,
    );

    expect(await run(operation)).toMatchObject({ state: "succeeded" });
    expect(registered.get("gold")).toMatchObject({ resource_class: "gold", manage: false, ports: "all" });
    expect(registered.get("plain")).toMatchObject({ resource_class: "silver" });
    const ended = (await operations.get(operation.id)) as Operation;
    expect(ended.nodes?.[1]).toMatchObject({
      state: "succeeded",
      operation_id: null,
      ironic_node_uuid: "ir-plain",
    });
  });

  it("on cancel, cancels the nodes not started and lets those under way finish", async () => {
    const operation = await enrollment(["first", "second", "third"], { concurrency: 1 });
    onOperation = async (name) => {
      if (name !== "first") return;
      const current = (await operations.get(operation.id)) as Operation;
      await operations.update(
        operation.id,
        { version: current.version },
        cancelRequested(current, new Date()),
      );
    };

    const result = await run(operation);

    expect(result).toMatchObject({ state: "cancelled", outcome: { code: "Cancelled" } });
    const ended = (await operations.get(operation.id)) as Operation;
    expect(ended.nodes?.map(({ name, state }) => [name, state])).toEqual([
      ["first", "succeeded"],
      ["second", "cancelled"],
      ["third", "cancelled"],
    ]);
    expect([...registered.keys()]).toEqual(["first"]);
    expect(ended.outcome?.detail).toContain("1 of 3 nodes enrolled");
  });

  it("a cancel through the operations service also asks the node operations under way to stop", async () => {
    const operation = await enrollment(["first", "second"], { concurrency: 1 });
    const operationService = new OperationService({
      operations,
      nodes,
      finder: finderOf(nodes),
      starter: { start: async () => undefined },
    });
    let childState: string | undefined;
    onOperation = async (name) => {
      if (name !== "first") return;
      const cancelled = await operationService.cancel(operation.id);
      expect(cancelled.state).toBe("cancelling");
      const child = (await operations.get(operation.id))?.nodes?.[0]?.operation_id as string;
      childState = (await operations.get(child))?.state;
    };

    const result = await run(operation);

    expect(childState).toBe("cancelling");
    expect(result).toMatchObject({ state: "cancelled" });
    const ended = (await operations.get(operation.id)) as Operation;
    expect(ended.nodes?.map(({ name, state }) => [name, state])).toEqual([
      ["first", "succeeded"],
      ["second", "cancelled"],
    ]);
    // Cancelling the enrollment again, or after a node's operation ended, is no error.
    await expect(operationService.cancel(operation.id)).rejects.toThrow(/already ended cancelled/);
  });

  it("a node whose register ends while the enrollment is being cancelled gets its operation cancelled", async () => {
    const operation = await enrollment(["only"]);
    const register = deps().register;
    const workflowDeps: EnrollmentDeps = {
      ...deps(),
      register: async (node, options, enrollmentOperation) => {
        const registeredNode = await register(node, options, enrollmentOperation);
        // The cancel lands after the register, before the enrollment records the node's operation.
        const current = (await operations.get(operation.id)) as Operation;
        await operations.update(
          operation.id,
          { version: current.version },
          cancelRequested(current, new Date()),
        );
        return registeredNode;
      },
    };

    await runEnrollment({ operation_id: operation.id }, new FakeWorkflowContext(), workflowDeps);

    const child = (await operations.get(operation.id))?.nodes?.[0]?.operation_id as string;
    expect(child).toEqual(expect.any(String));
    expect((await operations.get(child))?.state).toBe("cancelling");
  });

  it("run again after it ended changes nothing; run again mid-way picks up each node's own operation", async () => {
    const operation = await enrollment(["a", "b"]);
    await run(operation);
    const writes = operations.writes.length;

    expect(await run(operation)).toMatchObject({ state: "succeeded" });
    expect(operations.writes.length).toBe(writes);
    expect(registered.size).toBe(2);

    // A second enrollment whose first try died after node c's register was recorded.
    const again = await enrollment(["c"]);
    const ctx = new FakeWorkflowContext();
    hold = gate();
    const first = run(again, ctx);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const registeredOnce = (await operations.get(again.id))?.nodes?.[0]?.operation_id;
    expect(registeredOnce).toEqual(expect.any(String));
    hold.open();
    await first;
    registered.clear();
    const replayed = await runEnrollment({ operation_id: again.id }, new FakeWorkflowContext(), deps());
    expect(replayed.state).toBe("succeeded");
    expect(registered.size).toBe(0);
  });

  it("a node an earlier try registered without recording it is picked up by its operation, not registered twice", async () => {
    const operation = await enrollment(["lost"]);
    const node = (await nodes.findByName("lost")) as Node;
    // The earlier try: the node started and registered (its operation on the node), the record of it lost.
    const current = (await operations.get(operation.id)) as Operation;
    await operations.update(operation.id, { version: current.version }, { state: "running" } as never);
    const started = (await operations.get(operation.id)) as Operation;
    const { enrollNodeStarted } = await import("../../lib/operations/transitions.ts");
    await operations.update(
      operation.id,
      { version: started.version },
      enrollNodeStarted(started, 0, new Date()),
    );
    const child = await operations.create({
      id: randomUUID(),
      node_uuid: node.uuid,
      node_name: node.name,
      kind: "register",
      steps: ["manage"],
      request_id: caller.requestId,
      principal: caller.principal,
      parent_id: operation.id,
    });
    nodes.items.set(node.uuid, {
      ...node,
      managed_by: "ironic",
      ironic_node_uuid: "ir-lost",
      operation: { id: child.id, kind: "register", started_at: new Date().toISOString() },
    });

    expect(await run(operation)).toMatchObject({ state: "succeeded" });
    expect(registered.size).toBe(0);
    expect((await operations.get(operation.id))?.nodes?.[0]).toMatchObject({
      operation_id: child.id,
      ironic_node_uuid: "ir-lost",
      state: "succeeded",
    });
  });
});
