import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IronicDriver } from "../../lib/ironic/index.ts";
import { DynamoNodeRepository } from "../../lib/nodes/dynamo-repository.ts";
import { DynamoReconcileCursor } from "../../lib/nodes/reconcile-cursor.ts";
import { Reconciler } from "../../lib/nodes/reconciler.ts";
import type { PodManagerSessions } from "../../lib/podmanagers/sessions.ts";
import { startTestTable, type TestTable } from "../support/dynamo.ts";
import { newNode } from "../support/fixtures.ts";

/** An Ironic with no nodes: every pass only walks the store. */
const emptyIronic = {
  withContext: () => emptyIronic,
  async *listNodes() {},
} as unknown as IronicDriver;

describe("Reconciler over a store larger than one pass (dynalite)", () => {
  let table: TestTable;
  let nodes: DynamoNodeRepository;

  beforeAll(async () => {
    table = await startTestTable();
    nodes = new DynamoNodeRepository(table.db, table.tableName);
    for (let i = 0; i < 7; i++) await nodes.create(newNode({ name: `cursor-${i}` }));
  });
  afterAll(() => table?.close());

  it("stops before its time runs out and goes on from there next time", async () => {
    const reconciler = new Reconciler({
      nodes,
      podManagers: { list: async () => [] } as never,
      sessions: {} as PodManagerSessions,
      ironic: async () => emptyIronic,
      deployment: { id: async () => "cursor-test" },
      cursor: new DynamoReconcileCursor(table.db, table.tableName),
      staleIntentMs: 60_000,
      concurrency: 1,
    });
    // Each node checked costs "4 seconds" of a 30-second budget that keeps 10 seconds back.
    const budget = () => {
      let left = 30_000;
      return () => {
        left -= 4_000;
        return left;
      };
    };

    // Five nodes fit in a pass: 26, 22, 18, 14 and 10 seconds left; at 6 it stops.
    const first = await reconciler.run({ remainingMs: budget() });
    const second = await reconciler.run({ remainingMs: budget() });
    const third = await reconciler.run({ remainingMs: () => 600_000 });

    expect(first).toMatchObject({ checked: 5, partial: true, errors: 0 });
    // The second pass goes on after the fifth node and reaches the end.
    expect(second).toMatchObject({ checked: 2, partial: false, errors: 0 });
    // The cursor was cleared at the end: a pass with time enough sees everything from the start.
    expect(third).toMatchObject({ checked: 7, partial: false });
  });
});
