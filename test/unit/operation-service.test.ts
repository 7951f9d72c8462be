import { beforeEach, describe, expect, it } from "vitest";
import { toErrorBody } from "../../lib/http/errors.ts";
import type { Node } from "../../lib/nodes/model.ts";
import { withIntent } from "../../lib/nodes/transitions.ts";
import { executionNameOf, OperationService } from "../../lib/operations/service.ts";
import { failed } from "../../lib/operations/transitions.ts";
import { newNode } from "../support/fixtures.ts";
import { MemoryOperationRepository } from "../support/memory-operations.ts";
import { finderOf, MemoryNodeRepository } from "../support/memory-registration.ts";

const CALLER = { requestId: "req-1", principal: "arn:aws:iam::123456789012:user/ops" };

describe("OperationService", () => {
  let nodes: MemoryNodeRepository;
  let operations: MemoryOperationRepository;
  let started: string[];
  let startFails: Error | undefined;
  let service: OperationService;
  let node: Node;

  beforeEach(async () => {
    nodes = new MemoryNodeRepository();
    operations = new MemoryOperationRepository();
    started = [];
    startFails = undefined;
    service = new OperationService({
      operations,
      nodes,
      finder: finderOf(nodes),
      starter: {
        start: async (id) => {
          if (startFails) throw startFails;
          started.push(id);
        },
      },
    });
    const created = await nodes.create(newNode({ name: "node-a" }));
    node = await nodes.update(created.uuid, { version: created.version }, {
      managed_by: "ironic",
      ironic_node_uuid: "ironic-1",
    } as never);
  });

  it("starts an action as a pending operation holding the node, and its workflow", async () => {
    const operation = await service.act("node-a", "inspect", {}, CALLER);

    expect(operation).toMatchObject({
      kind: "inspect",
      state: "pending",
      node_uuid: node.uuid,
      request_id: "req-1",
    });
    expect(operation.steps.map((step) => step.name)).toEqual(["inspect"]);
    expect(started).toEqual([operation.id]);
    expect((await nodes.get(node.uuid))?.operation).toMatchObject({ id: operation.id, kind: "inspect" });
  });

  it("plans provide as manage then provide, so it leaves clean failed or enroll as Ironic needs", async () => {
    const operation = await service.act("node-a", "provide", {}, CALLER);
    expect(operation.steps.map((step) => step.name)).toEqual(["manage", "provide"]);
  });

  it("takes clean steps for clean only, and gives a deadline from wait_timeout", async () => {
    const steps = [{ interface: "deploy" as const, step: "erase_devices_metadata" }];
    await expect(service.act("node-a", "clean", {}, CALLER)).rejects.toMatchObject({
      code: "ValidationError",
    });
    await expect(service.act("node-a", "manage", { clean_steps: steps }, CALLER)).rejects.toMatchObject({
      code: "ValidationError",
    });
    const before = Date.now();
    const operation = await service.act("node-a", "clean", { clean_steps: steps, wait_timeout: 600 }, CALLER);
    expect(operation.arguments).toEqual({ clean_steps: steps });
    expect(Date.parse(operation.deadline) - before).toBeGreaterThanOrEqual(599_000);
    expect(Date.parse(operation.deadline) - before).toBeLessThan(700_000);
  });

  it("refuses a second operation on the node with 409 naming the first, until the first ended", async () => {
    const first = await service.act("node-a", "manage", {}, CALLER);

    const refused = await service.act("node-a", "provide", {}, CALLER).catch((error: unknown) => error);
    expect(toErrorBody(refused, "req-2")).toMatchObject({ status: 409, code: "OperationInProgress" });
    expect((refused as Error).message).toContain(first.id);

    const stored = await operations.get(first.id);
    await operations.update(
      first.id,
      { version: stored?.version as number },
      failed(
        stored as never,
        {
          code: "IronicStepFailed",
          detail: "x",
        },
        new Date(),
      ),
    );
    // Ended but not yet released: it holds the node no longer.
    const next = await service.act("node-a", "provide", {}, CALLER);
    expect((await nodes.get(node.uuid))?.operation?.id).toBe(next.id);
  });

  it("refuses an action on a node Valence has not registered, or one a register is running on", async () => {
    const other = await nodes.create(newNode({ name: "node-b" }));
    expect(
      toErrorBody(await service.act("node-b", "manage", {}, CALLER).catch((e: unknown) => e), "r"),
    ).toMatchObject({
      status: 409,
      code: "NodeNotRegistered",
    });
    await nodes.update(
      node.uuid,
      { version: node.version },
      withIntent("unregistering", "req-0", new Date()),
    );
    expect(
      toErrorBody(await service.act("node-a", "manage", {}, CALLER).catch((e: unknown) => e), "r"),
    ).toMatchObject({
      status: 409,
      code: "NodeBusy",
    });
    expect(other.managed_by).toBe("valence");
  });

  it("fails an operation whose workflow cannot start, frees the node, and answers 503", async () => {
    startFails = new Error("Lambda said no");

    const error = await service.act("node-a", "manage", {}, CALLER).catch((e: unknown) => e);

    expect(toErrorBody(error, "r")).toMatchObject({ status: 503, code: "OperationNotStarted" });
    const [operation] = (await operations.listByNode(node.uuid, { limit: 10 })).items;
    expect(operation).toMatchObject({ state: "failed", outcome: { code: "OperationNotStarted" } });
    expect(operation?.outcome?.detail).toContain("Lambda said no");
    expect((await nodes.get(node.uuid))?.operation).toBeNull();
  });

  it("cancels a running operation once, and refuses to cancel one that ended", async () => {
    const operation = await service.act("node-a", "manage", {}, CALLER);

    const cancelling = await service.cancel(operation.id);
    expect(cancelling).toMatchObject({ state: "cancelling", cancel_requested_at: expect.any(String) });
    expect((await service.cancel(operation.id)).version).toBe(cancelling.version);

    const stored = await operations.get(operation.id);
    await operations.update(
      operation.id,
      { version: stored?.version as number },
      failed(
        stored as never,
        {
          code: "X",
          detail: "x",
        },
        new Date(),
      ),
    );
    expect(toErrorBody(await service.cancel(operation.id).catch((e: unknown) => e), "r")).toMatchObject({
      status: 409,
      code: "OperationState",
    });
    expect(toErrorBody(await service.get("no-such").catch((e: unknown) => e), "r")).toMatchObject({
      status: 404,
    });
  });

  it("releases the node only from the operation that holds it", async () => {
    const operation = await service.act("node-a", "manage", {}, CALLER);
    await service.release(node.uuid, "another-operation");
    expect((await nodes.get(node.uuid))?.operation?.id).toBe(operation.id);
    await service.release(node.uuid, operation.id);
    expect((await nodes.get(node.uuid))?.operation).toBeNull();
  });

  it("names durable executions after the operation, so a retried start finds the same one", () => {
    expect(executionNameOf("0d6c7d0e-1f0a-4b7e-9c57-3a1e6a2b9f10")).toBe(
      "operation-0d6c7d0e-1f0a-4b7e-9c57-3a1e6a2b9f10",
    );
  });
});

describe("OperationService.failAbandoned", () => {
  it("fails operations still in flight past their deadline and its grace, frees their nodes, leaves the rest", async () => {
    let clock = Date.parse("2026-03-01T00:00:00.000Z");
    const now = () => new Date(clock);
    const nodes = new MemoryNodeRepository();
    const operations = new MemoryOperationRepository(now);
    const service = new OperationService({
      operations,
      nodes,
      finder: finderOf(nodes),
      starter: { start: async () => {} },
      now,
    });
    const held: string[] = [];
    for (const name of ["old", "young"]) {
      const created = await nodes.create(newNode({ name }));
      await nodes.update(created.uuid, { version: created.version }, {
        managed_by: "ironic",
        ironic_node_uuid: `ironic-${name}`,
      } as never);
      const operation = await service.act(
        name,
        "manage",
        { wait_timeout: name === "old" ? 60 : 3600 },
        CALLER,
      );
      held.push(operation.id);
    }
    clock += 60_000 + 16 * 60_000;

    expect(await service.failAbandoned(15 * 60_000)).toBe(1);

    expect(await operations.get(held[0] as string)).toMatchObject({
      state: "failed",
      outcome: { code: "OperationAbandoned" },
    });
    expect((await operations.get(held[1] as string))?.state).toBe("pending");
    expect((await nodes.get((await service.get(held[0] as string)).node_uuid))?.operation).toBeNull();
    expect(await service.failAbandoned(15 * 60_000)).toBe(0);
  });
});
