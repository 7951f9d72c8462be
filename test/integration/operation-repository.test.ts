import { randomUUID } from "node:crypto";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TABLE } from "../../lib/db/table.ts";
import { OperationNotFoundError, ValidationError, VersionConflictError } from "../../lib/errors.ts";
import { DynamoOperationRepository } from "../../lib/operations/dynamo-repository.ts";
import { type NewOperation, type Operation, OperationSchema } from "../../lib/operations/model.ts";
import {
  cancelled,
  cancelRequested,
  failed,
  started,
  stepFinished,
  stepProgress,
  stepStarted,
  succeeded,
} from "../../lib/operations/transitions.ts";
import { startTestTable, type TestTable } from "../support/dynamo.ts";

function newOperation(overrides: Partial<NewOperation> = {}): NewOperation {
  return {
    id: randomUUID(),
    node_uuid: randomUUID(),
    node_name: "test-node",
    kind: "register",
    steps: ["create", "manage", "provide"],
    request_id: `req-${randomUUID().slice(0, 8)}`,
    principal: "arn:aws:iam::123456789012:user/ops",
    ...overrides,
  };
}

/** A clock that moves one second per reading, so creation order is the listing order. */
function steppingClock(start = Date.parse("2026-03-01T00:00:00.000Z")) {
  let now = start;
  return () => {
    now += 1000;
    return new Date(now);
  };
}

describe("DynamoOperationRepository (dynalite over HTTP)", () => {
  let table: TestTable;
  let repository: DynamoOperationRepository;

  beforeAll(async () => {
    table = await startTestTable();
    repository = new DynamoOperationRepository(table.db, table.tableName);
  });
  afterAll(() => table.close());

  it("creates a pending operation and finds it by id", async () => {
    const input = newOperation();
    const created = await repository.create(input);

    expect(created).toMatchObject({ id: input.id, state: "pending", version: 1, outcome: null });
    expect(Date.parse(created.deadline) - Date.parse(created.created_at)).toBe(2 * 60 * 60 * 1000);
    expect(await repository.get(input.id)).toEqual(created);
    expect(OperationSchema.parse(await repository.get(input.id))).toEqual(created);
    expect(await repository.get(randomUUID())).toBeUndefined();
  });

  it("keeps the index keys out of the operation it returns", async () => {
    const created = await repository.create(newOperation());
    const stored = await repository.get(created.id);
    for (const field of ["pk", "sk"]) expect(stored).not.toHaveProperty(field);
  });

  it("takes the deadline from the caller, or from the store's configured default", async () => {
    const own = await repository.create(newOperation({ deadline: "2030-01-01T00:00:00.000Z" }));
    expect(own.deadline).toBe("2030-01-01T00:00:00.000Z");

    const at = new Date("2026-05-01T00:00:00.000Z");
    const short = new DynamoOperationRepository(table.db, table.tableName, {
      now: () => at,
      defaultDeadlineMs: 10 * 60 * 1000,
    });
    expect((await short.create(newOperation())).deadline).toBe("2026-05-01T00:10:00.000Z");
  });

  it("refuses a second operation with the same id", async () => {
    const input = newOperation();
    await repository.create(input);
    await expect(repository.create({ ...input, request_id: "other" })).rejects.toBeInstanceOf(
      VersionConflictError,
    );
    expect((await repository.get(input.id))?.request_id).toBe(input.request_id);
  });

  it("writes each transition with the next version and keeps Ironic's state on the step", async () => {
    let operation = await repository.create(newOperation());
    operation = await repository.update(operation.id, { version: 1 }, started(operation));
    operation = await repository.update(
      operation.id,
      operation,
      stepStarted(operation, "create", new Date()),
    );
    const progress = stepProgress(operation, "create", {
      provision_state: "clean wait",
      target_provision_state: "available",
      last_error: null,
    });
    if (!progress) throw new Error("expected a change");
    operation = await repository.update(operation.id, operation, progress);

    expect(operation.version).toBe(4);
    expect(operation.state).toBe("running");
    expect(await repository.get(operation.id)).toEqual(operation);
    expect(operation.steps[0]).toMatchObject({ state: "running", provision_state: "clean wait" });
    // What the store returns is exactly the model: nothing of its keys or index items leaks in.
    expect(OperationSchema.parse(operation)).toEqual(operation);
  });

  it("lets exactly one of two concurrent updates win; the other gets VersionConflictError", async () => {
    const operation = await repository.create(newOperation());
    const results = await Promise.allSettled([
      repository.update(operation.id, { version: 1 }, started(operation)),
      repository.update(operation.id, { version: 1 }, cancelRequested(operation, new Date())),
    ]);

    const winners = results.filter((r) => r.status === "fulfilled");
    const losers = results.filter((r) => r.status === "rejected");
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(1);
    expect((losers[0] as PromiseRejectedResult).reason).toBeInstanceOf(VersionConflictError);
    const stored = await repository.get(operation.id);
    expect(stored?.version).toBe(2);
    expect(stored?.state).toBe((winners[0] as PromiseFulfilledResult<Operation>).value.state);
  });

  it("answers OperationNotFoundError for an update of an operation that does not exist", async () => {
    const ghost = await repository.create(newOperation());
    await expect(repository.update(randomUUID(), { version: 1 }, started(ghost))).rejects.toBeInstanceOf(
      OperationNotFoundError,
    );
  });
});

describe("DynamoOperationRepository listing", () => {
  let table: TestTable;
  let repository: DynamoOperationRepository;
  const nodeUuid = randomUUID();
  const otherNode = randomUUID();
  /** ids of the node's operations, oldest first. */
  const created: string[] = [];

  beforeAll(async () => {
    table = await startTestTable();
    repository = new DynamoOperationRepository(table.db, table.tableName, { now: steppingClock() });
    for (let i = 0; i < 45; i++) {
      const operation = await repository.create(newOperation({ node_uuid: nodeUuid }));
      created.push(operation.id);
    }
    // Another node's operations must not show in this node's listing.
    for (let i = 0; i < 3; i++) await repository.create(newOperation({ node_uuid: otherNode }));
  });
  afterAll(() => table.close());

  async function collect(
    list: (marker: string | undefined) => Promise<{ items: Operation[]; next?: string }>,
  ) {
    const seen: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const page = await list(marker);
      expect(page.items.length).toBeLessThanOrEqual(7);
      seen.push(...page.items.map((operation) => operation.id));
      marker = page.next;
      pages++;
    } while (marker);
    return { seen, pages };
  }

  it("lists a node's operations newest first, in pages of 7, each exactly once", async () => {
    const { seen, pages } = await collect((marker) => repository.listByNode(nodeUuid, { limit: 7, marker }));

    expect(pages).toBe(7);
    expect(seen).toEqual([...created].reverse());
  });

  it("has no next page when the last page is exactly full, and nothing for a node without operations", async () => {
    const page = await repository.listByNode(otherNode, { limit: 3 });
    expect(page.items).toHaveLength(3);
    expect(page.next).toBeUndefined();
    expect(await repository.listByNode(randomUUID(), { limit: 5 })).toEqual({ items: [] });
  });

  it("refuses a marker that is no operation of the node", async () => {
    const ofOther = (await repository.listByNode(otherNode, { limit: 1 })).items[0]?.id;
    await expect(repository.listByNode(nodeUuid, { limit: 5, marker: ofOther })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(repository.listByNode(nodeUuid, { limit: 5, marker: randomUUID() })).rejects.toBeInstanceOf(
      ValidationError,
    );
  });

  it("lists operations still pending, running or cancelling, oldest first, and drops those that end", async () => {
    // End 12 of the node's operations (succeeded, failed, cancelled), move 3 others on without ending them.
    const ended = new Set<string>();
    for (const [i, id] of created.slice(0, 15).entries()) {
      let operation = (await repository.get(id)) as Operation;
      operation = await repository.update(id, operation, started(operation));
      if (i % 3 === 0) {
        operation = await repository.update(id, operation, stepStarted(operation, "create", new Date()));
        operation = await repository.update(
          id,
          operation,
          stepFinished(operation, "create", { state: "succeeded" }, new Date()),
        );
        for (const step of ["manage", "provide"]) {
          operation = await repository.update(
            id,
            operation,
            stepFinished(operation, step, { state: "skipped" }, new Date()),
          );
        }
        await repository.update(id, operation, succeeded(operation));
        ended.add(id);
      } else if (i % 3 === 1) {
        await repository.update(
          id,
          operation,
          failed(operation, { code: "Failed", detail: "x" }, new Date()),
        );
        ended.add(id);
      } else if (i < 8) {
        operation = await repository.update(id, operation, cancelRequested(operation, new Date()));
        await repository.update(id, operation, cancelled(operation, new Date()));
        ended.add(id);
      } else if (i < 12) {
        // Still in flight: cancelling.
        await repository.update(id, operation, cancelRequested(operation, new Date()));
      }
      // Otherwise still in flight: running.
    }

    const { seen } = await collect((marker) => repository.listActive({ limit: 7, marker }));

    const others = (await repository.listByNode(otherNode, { limit: 10 })).items.map((o) => o.id).reverse();
    expect(seen).toEqual([...created.filter((id) => !ended.has(id)), ...others]);
    expect(ended.size).toBe(12);
    const states = await Promise.all(seen.map(async (id) => (await repository.get(id))?.state));
    expect(new Set(states)).toEqual(new Set(["pending", "running", "cancelling"]));
  });

  it("pages the active list on from a marker that has ended since", async () => {
    const first = await repository.listActive({ limit: 2 });
    const marker = first.next as string;
    let operation = (await repository.get(marker)) as Operation;
    if (operation.state === "pending")
      operation = await repository.update(marker, operation, started(operation));
    await repository.update(
      marker,
      operation,
      failed(operation, { code: "Failed", detail: "x" }, new Date()),
    );

    const rest = await repository.listActive({ limit: 1000, marker });
    const all = await repository.listActive({ limit: 1000 });

    expect(rest.items.map((o) => o.id)).toEqual(all.items.slice(1).map((o) => o.id));
    expect(all.items.map((o) => o.id)).not.toContain(marker);
  });
});

describe("DynamoOperationRepository index items (no transactions: written before the operation)", () => {
  let table: TestTable;
  let clock: Date;
  let repository: DynamoOperationRepository;

  beforeAll(async () => {
    table = await startTestTable();
    clock = new Date("2026-04-01T00:00:00.000Z");
    repository = new DynamoOperationRepository(table.db, table.tableName, { now: () => clock });
  });
  afterAll(() => table.close());

  const tick = (ms: number) => {
    clock = new Date(clock.getTime() + ms);
  };
  const indexItems = async (pk: string) =>
    (await table.scan()).filter((item) => item[TABLE.partitionKey] === pk && item.operation_id !== undefined);

  it("leaves no index item behind for a create refused because the id is taken", async () => {
    const input = newOperation();
    await repository.create(input);
    tick(1000);
    await expect(repository.create(input)).rejects.toBeInstanceOf(VersionConflictError);

    expect(await indexItems(`NODE#${input.node_uuid}`)).toHaveLength(1);
    expect((await repository.listByNode(input.node_uuid, { limit: 10 })).items.map((o) => o.id)).toEqual([
      input.id,
    ]);
    expect((await repository.listActive({ limit: 100 })).items.filter((o) => o.id === input.id)).toHaveLength(
      1,
    );
  });

  it("skips index items of an operation whose write never landed, and deletes them once they are old", async () => {
    // What a crash between the index items and the operation leaves behind.
    const nodeUuid = randomUUID();
    const order = `${clock.toISOString()}#${randomUUID()}`;
    const lost = order.slice(order.indexOf("#") + 1);
    for (const key of [
      { [TABLE.partitionKey]: `NODE#${nodeUuid}`, [TABLE.sortKey]: `OP#${order}` },
      { [TABLE.partitionKey]: "OPERATIONS#ACTIVE", [TABLE.sortKey]: order },
    ]) {
      await table.db.send(
        new PutCommand({ TableName: table.tableName, Item: { ...key, operation_id: lost } }),
      );
    }
    tick(1000);
    const real = await repository.create(newOperation({ node_uuid: nodeUuid }));

    expect((await repository.listByNode(nodeUuid, { limit: 1 })).items.map((o) => o.id)).toEqual([real.id]);
    expect((await repository.listByNode(nodeUuid, { limit: 1 })).next).toBeUndefined();
    expect((await repository.listActive({ limit: 100 })).items.map((o) => o.id)).not.toContain(lost);
    // Within the grace period the operation may still be being written: its items stay.
    expect(await indexItems(`NODE#${nodeUuid}`)).toHaveLength(2);

    tick(10 * 60 * 1000);
    await repository.listByNode(nodeUuid, { limit: 10 });
    await repository.listActive({ limit: 100 });

    expect((await indexItems(`NODE#${nodeUuid}`)).map((item) => item.operation_id)).toEqual([real.id]);
    expect((await indexItems("OPERATIONS#ACTIVE")).map((item) => item.operation_id)).not.toContain(lost);
  });

  it("deletes the in-flight index item when the operation ends, and skips one whose delete was lost", async () => {
    let operation = await repository.create(newOperation());
    const activeItem = (await indexItems("OPERATIONS#ACTIVE")).find(
      (item) => item.operation_id === operation.id,
    );
    expect(activeItem).toBeDefined();

    operation = await repository.update(
      operation.id,
      operation,
      failed(operation, { code: "Failed", detail: "x" }, clock),
    );
    expect((await indexItems("OPERATIONS#ACTIVE")).map((item) => item.operation_id)).not.toContain(
      operation.id,
    );

    // The delete after the ending update was lost: the listing skips the item and deletes it.
    await table.db.send(new PutCommand({ TableName: table.tableName, Item: activeItem }));
    expect((await repository.listActive({ limit: 100 })).items.map((o) => o.id)).not.toContain(operation.id);
    expect((await indexItems("OPERATIONS#ACTIVE")).map((item) => item.operation_id)).not.toContain(
      operation.id,
    );
    // The node's listing keeps ended operations.
    expect((await repository.listByNode(operation.node_uuid, { limit: 5 })).items[0]?.state).toBe("failed");
  });
});
