import { describe, expect, it } from "vitest";
import type { EventPublisher } from "../../lib/events/publisher.ts";
import type { ValenceEvent } from "../../lib/events/schemas.ts";
import type { Node } from "../../lib/nodes/model.ts";
import { DEPLOYMENT_MARK, NODE_MARK } from "../../lib/nodes/ownership.ts";
import type { ReconcileCursor } from "../../lib/nodes/reconcile-cursor.ts";
import { inOrderPool, readStoreAhead } from "../../lib/nodes/reconcile-pages.ts";
import { Reconciler, type ReconcilerDeps } from "../../lib/nodes/reconciler.ts";
import type { NodeListQuery, NodePage, UpdateGuard } from "../../lib/nodes/repository.ts";
import { type Transition, withIronicState } from "../../lib/nodes/transitions.ts";
import type { PodManagerSessions } from "../../lib/podmanagers/sessions.ts";
import { newNode } from "../support/fixtures.ts";
import { MemoryIronic } from "../support/memory-ironic.ts";
import { MemoryNodeRepository } from "../support/memory-registration.ts";

const DEPLOYMENT = "deployment-under-test";
const tick = () => new Promise((resolve) => setImmediate(resolve));

/**
 * The memory repository with the store's paging (by name, `limit` and `marker` honoured), each update taking a
 * turn of the event loop so that writes overlap, and the most updates ever in flight at once.
 */
class PagedNodes extends MemoryNodeRepository {
  inFlight = 0;
  maxInFlight = 0;
  readonly lists: NodeListQuery[] = [];
  /** Fails the update of these nodes before writing anything. */
  readonly failing = new Set<string>();
  /** Runs before the update of a node is written (a concurrent writer). */
  before: ((uuid: string) => Promise<void>) | undefined;

  override async list(query: NodeListQuery = { limit: 1000 }): Promise<NodePage> {
    this.lists.push(query);
    await tick();
    const sorted = [...this.items.values()].sort((a, b) => a.name.localeCompare(b.name));
    const from = query.marker ? sorted.findIndex((node) => node.uuid === query.marker) + 1 : 0;
    const items = sorted.slice(from, from + query.limit).map((node) => structuredClone(node));
    const last = items.at(-1);
    return from + query.limit < sorted.length && last ? { items, next: last.uuid } : { items };
  }

  override async update(uuid: string, guard: UpdateGuard, changes: Transition): Promise<Node> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await tick();
      await this.before?.(uuid);
      if (this.failing.has(uuid)) throw new Error("injected: the store is unavailable");
      return await super.update(uuid, guard, changes);
    } finally {
      this.inFlight--;
    }
  }
}

class MemoryCursor implements ReconcileCursor {
  marker: string | undefined;
  async get() {
    return this.marker;
  }
  async set(marker: string | undefined) {
    this.marker = marker;
  }
}

/** `count` nodes Ironic manages, each with its Ironic node (this deployment's, in `enroll`), none cached yet. */
async function fleet(count: number) {
  const nodes = new PagedNodes();
  const ironic = new MemoryIronic();
  for (let i = 0; i < count; i++) {
    const node = newNode({ name: `node-${String(i).padStart(4, "0")}`, managed_by: "ironic" });
    const created = await ironic.createNode({
      name: node.name,
      driver: "fake-hardware",
      extra: { [NODE_MARK]: node.uuid, [DEPLOYMENT_MARK]: DEPLOYMENT },
    });
    await nodes.create({ ...node, ironic_node_uuid: created.uuid });
  }
  return { nodes, ironic };
}

function reconcilerOver(
  nodes: PagedNodes,
  ironic: MemoryIronic,
  extra: Partial<ReconcilerDeps> = {},
): Reconciler {
  return new Reconciler({
    nodes,
    podManagers: { list: async () => [] } as never,
    sessions: {} as PodManagerSessions,
    ironic: async () => ironic,
    deployment: { id: async () => DEPLOYMENT },
    staleIntentMs: 60_000,
    ...extra,
  });
}

const plenty = { remainingMs: () => 600_000 };
const cachedStates = (nodes: PagedNodes) => [...nodes.items.values()].filter((node) => node.ironic_state);

describe("Reconciler: settling the store's nodes", () => {
  it("caches Ironic's state on every node, at most `concurrency` writes at once, each counted once", async () => {
    const { nodes, ironic } = await fleet(40);

    const summary = await reconcilerOver(nodes, ironic, { concurrency: 4 }).run(plenty);

    expect(summary).toMatchObject({ checked: 40, synced: 40, errors: 0, partial: false });
    expect(nodes.maxInFlight).toBe(4);
    expect(cachedStates(nodes)).toHaveLength(40);
    expect([...nodes.items.values()].every((node) => node.version === 2)).toBe(true);
    // Nothing changed since: the next pass writes nothing.
    expect(await reconcilerOver(nodes, ironic, { concurrency: 4 }).run(plenty)).toMatchObject({
      checked: 40,
      synced: 0,
      errors: 0,
    });
    expect([...nodes.items.values()].every((node) => node.version === 2)).toBe(true);
  });

  it("loses none of the other writes when some fail mid-pass, and counts the failures as errors", async () => {
    const { nodes, ironic } = await fleet(30);
    const all = [...nodes.items.values()];
    for (const node of [all[3], all[4], all[17]]) nodes.failing.add((node as Node).uuid);

    const first = await reconcilerOver(nodes, ironic, { concurrency: 8 }).run(plenty);

    expect(first).toMatchObject({ checked: 30, synced: 27, errors: 3, partial: false });
    for (const node of nodes.items.values()) {
      const failed = nodes.failing.has(node.uuid);
      expect(node.ironic_state === null || node.ironic_state === undefined).toBe(failed);
      expect(node.version).toBe(failed ? 1 : 2);
    }
    // The store answers again: the next pass writes exactly those.
    nodes.failing.clear();
    expect(await reconcilerOver(nodes, ironic, { concurrency: 8 }).run(plenty)).toMatchObject({
      synced: 3,
      errors: 0,
    });
    expect(cachedStates(nodes)).toHaveLength(30);
  });

  it("counts a cached state whose write landed but whose answer was lost as written, not as an error", async () => {
    const { nodes, ironic } = await fleet(10);
    // Every state write lands and its answer is lost; the SDK's retry would then fail the version condition.
    nodes.failUpdate = { at: "after", when: (changes) => "ironic_state" in changes };

    const summary = await reconcilerOver(nodes, ironic, { concurrency: 4 }).run(plenty);

    expect(summary).toMatchObject({ checked: 10, synced: 10, errors: 0 });
    expect(cachedStates(nodes)).toHaveLength(10);
  });

  it("never overwrites a node changed under it: the other writer's change stands, and is no error", async () => {
    const { nodes, ironic } = await fleet(12);
    const target = [...nodes.items.values()][5] as Node;
    const theirs = {
      provision_state: "manageable",
      power_state: "power off",
      maintenance: false,
      last_error: null,
      synced_at: "2026-01-01T00:00:00.000Z",
    };
    nodes.before = async (uuid) => {
      if (uuid !== target.uuid) return;
      nodes.before = undefined;
      // Another writer (a register, another pass) lands between this pass's read and its write.
      await MemoryNodeRepository.prototype.update.call(
        nodes,
        uuid,
        { version: target.version },
        withIronicState(theirs),
      );
    };

    const summary = await reconcilerOver(nodes, ironic, { concurrency: 4 }).run(plenty);

    expect(summary).toMatchObject({ checked: 12, synced: 11, errors: 0 });
    expect(nodes.items.get(target.uuid)).toMatchObject({ version: 2, ironic_state: theirs });
  });

  it("reads the store while Ironic lists, not after", async () => {
    const { nodes, ironic } = await fleet(3);
    let storeAskedDuringListing: boolean | undefined;
    const listNodes = ironic.listNodes.bind(ironic);
    ironic.listNodes = ((query) => {
      const listed = listNodes(query);
      return (async function* () {
        // Hold the listing until the store is asked (or give up after a while: a serial pass never asks).
        for (let turns = 0; turns < 1000 && nodes.lists.length === 0; turns++) await tick();
        storeAskedDuringListing = nodes.lists.length > 0;
        yield* listed;
      })();
    }) as MemoryIronic["listNodes"];

    const summary = await reconcilerOver(nodes, ironic).run(plenty);

    expect(storeAskedDuringListing).toBe(true);
    expect(summary).toMatchObject({ checked: 3, synced: 3, errors: 0 });
  });

  it("over several pages, settles every node once and publishes every event, ten at most at a time", async () => {
    const { nodes, ironic } = await fleet(1_205);
    // 25 of them lost their Ironic node: one drift event each.
    const gone = [...nodes.items.values()].filter((_, i) => i % 48 === 0).slice(0, 25);
    for (const node of gone) ironic.nodes.delete(node.ironic_node_uuid as string);
    const published: ValenceEvent[][] = [];
    const events: EventPublisher = { publish: async (batch) => void published.push([...batch]) };

    const summary = await reconcilerOver(nodes, ironic, { events }).run(plenty);

    expect(summary).toMatchObject({ checked: 1_205, synced: 1_180, drift: 25, errors: 0, partial: false });
    expect(nodes.lists.map((query) => query.limit)).toEqual([1000, 1000]);
    expect(published.flat()).toHaveLength(25);
    expect(Math.max(...published.map((batch) => batch.length))).toBeLessThanOrEqual(10);
    expect(new Set(published.flat().map((event) => JSON.stringify(event))).size).toBe(25);
  });

  it("stops within its time with every node before the cursor settled, and the next pass does the rest", async () => {
    const { nodes, ironic } = await fleet(50);
    const cursor = new MemoryCursor();
    // 23 starts fit in the first pass's time (each start asks how much is left), then it runs out.
    let asked = 0;
    const shortOfTime = { remainingMs: () => (++asked <= 23 ? 600_000 : 5_000) };

    const first = await reconcilerOver(nodes, ironic, { concurrency: 6, cursor }).run(shortOfTime);

    expect(first).toMatchObject({ checked: 23, synced: 23, partial: true, errors: 0 });
    const sorted = [...nodes.items.values()].sort((a, b) => a.name.localeCompare(b.name));
    expect(cursor.marker).toBe(sorted[22]?.uuid);
    expect(sorted.slice(0, 23).every((node) => node.ironic_state)).toBe(true);
    expect(sorted.slice(23).some((node) => node.ironic_state)).toBe(false);

    const second = await reconcilerOver(nodes, ironic, { concurrency: 6, cursor }).run(plenty);
    expect(second).toMatchObject({ checked: 27, synced: 27, partial: false, errors: 0 });
    expect(cursor.marker).toBeUndefined();
    expect(cachedStates(nodes)).toHaveLength(50);
  });
});

describe("inOrderPool", () => {
  it("keeps `concurrency` items running, starting the next as soon as one ends", async () => {
    const running = new Set<number>();
    const widths: number[] = [];
    const order: number[] = [];
    // Item 0 is slow: with batches, items 1..3 would wait for it before 4.. could start.
    const result = await inOrderPool(
      [0, 1, 2, 3, 4, 5, 6, 7],
      3,
      () => false,
      async (item) => {
        running.add(item);
        widths.push(running.size);
        for (let turns = item === 0 ? 20 : 1; turns > 0; turns--) await tick();
        order.push(item);
        running.delete(item);
      },
    );

    expect(result).toEqual({ started: 8, stopped: false });
    expect(Math.max(...widths)).toBe(3);
    expect(order.indexOf(0)).toBeGreaterThan(order.indexOf(5));
  });

  it("starts nothing more once told to stop, and reports how many started", async () => {
    const done: number[] = [];
    let checks = 0;
    const result = await inOrderPool(
      [0, 1, 2, 3, 4, 5],
      2,
      () => ++checks > 3,
      async (item) => {
        await tick();
        done.push(item);
      },
    );

    expect(result).toEqual({ started: 3, stopped: true });
    expect(done.sort()).toEqual([0, 1, 2]);
  });
});

describe("readStoreAhead", () => {
  const store = (pages: number, failAt?: number) => {
    const asked: (string | undefined)[] = [];
    return {
      asked,
      list: async (query: NodeListQuery): Promise<NodePage> => {
        asked.push(query.marker);
        await tick();
        const at = query.marker === undefined ? 0 : Number(query.marker) + 1;
        if (at === failAt) throw new Error(`page ${at} failed`);
        const items = [newNode({ name: `n-${at}` }) as Node];
        return at + 1 < pages ? { items, next: String(at) } : { items };
      },
    };
  };

  it("asks for the next page as soon as one arrives, before anyone reads it", async () => {
    const nodes = store(4);
    const { first } = readStoreAhead(nodes, undefined, 1);
    await first;
    for (let turns = 0; turns < 20; turns++) await tick();
    expect(nodes.asked).toEqual([undefined, "0", "1", "2"]);
  });

  it("asks for no further page once stopped", async () => {
    const nodes = store(10);
    const reader = readStoreAhead(nodes, undefined, 1);
    const page = await reader.first;
    reader.stop();
    await page.next;
    for (let turns = 0; turns < 20; turns++) await tick();
    expect(nodes.asked).toEqual([undefined, "0"]);
  });

  it("fails where a failed page is awaited, and not before", async () => {
    const nodes = store(5, 2);
    const { first } = readStoreAhead(nodes, undefined, 1);
    const one = await first;
    for (let turns = 0; turns < 20; turns++) await tick(); // page 2 has failed meanwhile, unobserved
    const two = await (one.next as Promise<{ next?: Promise<unknown> }>);
    await expect(two.next).rejects.toThrow("page 2 failed");
  });
});
