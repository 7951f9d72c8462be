import { randomUUID } from "node:crypto";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TABLE } from "../../lib/db/table.ts";
import {
  NodeAlreadyManagedError,
  NodeNameConflictError,
  ValidationError,
  VersionConflictError,
} from "../../lib/errors.ts";
import { DynamoNodeRepository } from "../../lib/nodes/dynamo-repository.ts";
import type { Node } from "../../lib/nodes/model.ts";
import { toMissing, toRegistered, withIntent } from "../../lib/nodes/transitions.ts";
import { startTestTable, type TestTable } from "../support/dynamo.ts";
import { newNode } from "../support/fixtures.ts";

describe("DynamoNodeRepository (dynalite over HTTP)", () => {
  let table: TestTable;
  let repository: DynamoNodeRepository;

  beforeAll(async () => {
    table = await startTestTable();
    repository = new DynamoNodeRepository(table.db, table.tableName);
  });
  afterAll(() => table.close());

  it("finds a node by uuid and by name", async () => {
    const created = await repository.create(newNode({ name: "findable" }));

    expect(created.version).toBe(1);
    expect(await repository.get(created.uuid)).toEqual(created);
    expect(await repository.findByName("findable")).toEqual(created);
    expect(await repository.findByName("absent")).toBeUndefined();
    expect(await repository.get(randomUUID())).toBeUndefined();
  });

  it("refuses a duplicate name, even from concurrent creators", async () => {
    await repository.create(newNode({ name: "taken" }));
    await expect(repository.create(newNode({ name: "taken" }))).rejects.toBeInstanceOf(NodeNameConflictError);

    const racers = await Promise.allSettled(
      Array.from({ length: 8 }, () => repository.create(newNode({ name: "raced" }))),
    );
    expect(racers.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const loser of racers.filter((r) => r.status === "rejected")) {
      expect((loser as PromiseRejectedResult).reason).toBeInstanceOf(NodeNameConflictError);
    }
  });

  it("refuses a second node for the same composed system, and frees it on delete", async () => {
    const first = await repository.create(newNode({ index: "sys-shared" }));
    const second = newNode({ index: "sys-shared", podm_id: first.podm_id });
    await expect(repository.create(second)).rejects.toBeInstanceOf(NodeAlreadyManagedError);
    // The losing create released its name claim.
    expect(await repository.findByName(second.name)).toBeUndefined();
    await expect(repository.create({ ...second, index: "sys-other" })).resolves.toMatchObject({
      index: "sys-other",
    });

    await repository.delete(first.uuid, { version: 1 });
    await expect(
      repository.create(newNode({ index: "sys-shared", podm_id: first.podm_id })),
    ).resolves.toBeTruthy();
  });

  it("lets exactly one of two concurrent conditional updates win", async () => {
    const node = await repository.create(newNode());
    const results = await Promise.allSettled([
      repository.update(node.uuid, { version: node.version }, withIntent("registering", "first", new Date())),
      repository.update(
        node.uuid,
        { version: node.version },
        withIntent("registering", "second", new Date()),
      ),
    ]);

    const winners = results.filter((r) => r.status === "fulfilled");
    const losers = results.filter((r) => r.status === "rejected");
    expect(winners).toHaveLength(1);
    expect((losers[0] as PromiseRejectedResult).reason).toBeInstanceOf(VersionConflictError);
    const stored = await repository.get(node.uuid);
    expect(stored?.version).toBe(2);
    expect(stored?.intent?.request_id).toBe(
      (winners[0] as PromiseFulfilledResult<Node>).value.intent?.request_id,
    );
  });

  it("guards updates on managed_by and on an intent in flight", async () => {
    const node = await repository.create(newNode());
    await expect(
      repository.update(node.uuid, { version: 1, managed_by: "ironic" }, toMissing()),
    ).rejects.toBeInstanceOf(VersionConflictError);

    const at = new Date();
    const marked = await repository.update(
      node.uuid,
      { version: 1, noIntent: true },
      withIntent("registering", "r1", at),
    );
    expect(marked.intent).toEqual({
      op: "registering",
      request_id: "r1",
      started_at: at.toISOString(),
      ironic_node_uuid: null,
    });
    await expect(
      repository.update(node.uuid, { version: 2, noIntent: true }, withIntent("registering", "r2", at)),
    ).rejects.toBeInstanceOf(VersionConflictError);

    const cleared = await repository.update(
      node.uuid,
      { version: 2 },
      toRegistered({ ironicNodeUuid: "ironic-1", at }),
    );
    expect(cleared.intent).toBeNull();
    expect(cleared.managed_by).toBe("ironic");
  });

  it("deletes with a version guard and frees the name", async () => {
    const node = await repository.create(newNode({ name: "short-lived" }));
    await expect(repository.delete(node.uuid, { version: 7 })).rejects.toBeInstanceOf(VersionConflictError);
    await repository.delete(node.uuid, { version: 1 });

    expect(await repository.get(node.uuid)).toBeUndefined();
    const again = await repository.create(newNode({ name: "short-lived" }));
    expect(await repository.findByName("short-lived")).toEqual(again);
  });

  it("takes over a name claim whose owner never got written (claims without a time are old)", async () => {
    // A writer that died between the claim and the record leaves this behind.
    await table.db.send(
      new PutCommand({
        TableName: table.tableName,
        Item: {
          [TABLE.partitionKey]: "UNIQUE#node-name#orphaned",
          [TABLE.sortKey]: "UNIQUE",
          owner: randomUUID(),
        },
      }),
    );
    expect(await repository.findByName("orphaned")).toBeUndefined();

    const node = await repository.create(newNode({ name: "orphaned" }));
    expect(await repository.findByName("orphaned")).toEqual(node);
  });
});

describe("DynamoNodeRepository listing", () => {
  let table: TestTable;
  let repository: DynamoNodeRepository;
  const podA = randomUUID();
  const podB = randomUUID();

  beforeAll(async () => {
    table = await startTestTable();
    repository = new DynamoNodeRepository(table.db, table.tableName);
    for (let i = 0; i < 45; i++) {
      await repository.create(
        newNode({
          name: `n-${String(i).padStart(3, "0")}`,
          podm_id: i % 3 === 0 ? podA : podB,
          managed_by: i % 2 === 0 ? "ironic" : "valence",
        }),
      );
    }
  });
  afterAll(() => table.close());

  async function collect(query: Parameters<DynamoNodeRepository["list"]>[0]) {
    const seen: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const page = await repository.list({ ...query, marker });
      seen.push(...page.items.map((node) => node.name));
      expect(page.items.length).toBeLessThanOrEqual(query.limit);
      marker = page.next;
      pages++;
    } while (marker);
    return { seen, pages };
  }

  it("returns every node exactly once across pages, sorted by name", async () => {
    const { seen, pages } = await collect({ limit: 7 });
    expect(seen).toHaveLength(45);
    expect(new Set(seen).size).toBe(45);
    expect(seen).toEqual([...seen].sort());
    expect(pages).toBe(7);
  });

  it("filters by managed_by through its index, and by pod manager", async () => {
    const ironic = await collect({ limit: 4, managed_by: "ironic" });
    expect(ironic.seen).toHaveLength(23);
    expect(new Set(ironic.seen).size).toBe(23);

    const onA = await collect({ limit: 5, podm_id: podA });
    expect(onA.seen).toHaveLength(15);

    const ironicOnA = await collect({ limit: 2, managed_by: "ironic", podm_id: podA });
    // i % 6 === 0 for i in 0..44
    expect(ironicOnA.seen).toEqual(["n-000", "n-006", "n-012", "n-018", "n-024", "n-030", "n-036", "n-042"]);
  });

  it("has no next page when the last page is exactly full", async () => {
    const page = await repository.list({ limit: 1000 });
    expect(page.items).toHaveLength(45);
    expect(page.next).toBeUndefined();
    const exact = await repository.list({ limit: 15, podm_id: podA });
    expect(exact.items).toHaveLength(15);
    expect(exact.next).toBeUndefined();
  });

  it("filters by name", async () => {
    const page = await repository.list({ limit: 10, name: "n-004" });
    expect(page.items.map((n) => n.name)).toEqual(["n-004"]);
    expect((await repository.list({ limit: 10, name: "n-004", managed_by: "valence" })).items).toEqual([]);
  });

  it("refuses a marker that names no node", async () => {
    await expect(repository.list({ limit: 5, marker: randomUUID() })).rejects.toBeInstanceOf(ValidationError);
  });

  it("counts nodes per pod manager", async () => {
    expect(await repository.countByPodManager(podA)).toBe(15);
    expect(await repository.countByPodManager(randomUUID())).toBe(0);
  });
});
