import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoNodeHistory } from "../../lib/nodes/history.ts";
import { startTestTable, type TestTable } from "../support/dynamo.ts";

/** The node history against dynalite over HTTP: its bound, its order, taking an event back. */
describe("DynamoNodeHistory", () => {
  let table: TestTable;
  beforeAll(async () => {
    table = await startTestTable();
  });
  afterAll(async () => {
    await table?.close();
  });

  let tick = Date.parse("2026-12-01T00:00:00Z");
  const history = () =>
    new DynamoNodeHistory(table.db, table.tableName, 5, () => {
      tick += 1000;
      return new Date(tick);
    });
  const event = (n: number) =>
    ({
      action: "register",
      outcome: "succeeded",
      actor: "test",
      request_id: `req-${n}`,
      detail: `event ${n}`,
    }) as const;

  it("keeps the newest `keep` events, the put and the trim going at once", async () => {
    const trail = history();
    for (let n = 1; n <= 9; n++) expect(await trail.append("node-a", event(n))).toMatch(/^2026-12-01T/);
    const page = await trail.list("node-a", { limit: 50 });
    expect(page.items.map((item) => item.detail)).toEqual([
      "event 9",
      "event 8",
      "event 7",
      "event 6",
      "event 5",
    ]);
    expect(page.next).toBeUndefined();
  });

  it("takes back one event by its id, leaving the others and other nodes' trails", async () => {
    const trail = history();
    const first = await trail.append("node-b", event(1));
    const second = await trail.append("node-b", event(2));
    expect(first).toBeDefined();
    await trail.remove("node-b", second as string);
    expect((await trail.list("node-b", { limit: 10 })).items.map((item) => item.id)).toEqual([first]);
    expect((await trail.list("node-a", { limit: 10 })).items).toHaveLength(5);
  });

  it("answers undefined, and throws nothing, when the event cannot be written", async () => {
    const trail = new DynamoNodeHistory(table.db, "no-such-table", 5);
    expect(await trail.append("node-c", event(1))).toBeUndefined();
    await expect(trail.remove("node-c", "x")).resolves.toBeUndefined();
  });
});
