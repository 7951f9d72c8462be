import type { Node } from "./model.ts";
import type { NodeRepository } from "./repository.ts";

/** One page of the store's nodes, and the read of the next one (already under way), if there is one. */
export interface StorePage {
  items: Node[];
  next: Promise<StorePage> | undefined;
}

/**
 * The store's nodes after `marker` (from the beginning without one), page by page, each page requested as soon
 * as the one before it arrived: ahead of the settling, so a pass reads the store while it lists Ironic and while
 * it settles the page before. `stop()` requests no further page (a pass out of time). A page that fails to read
 * fails where it is awaited, never as an unhandled rejection while nobody waits for it.
 */
export function readStoreAhead(
  nodes: Pick<NodeRepository, "list">,
  marker: string | undefined,
  limit: number,
): { first: Promise<StorePage>; stop(): void } {
  let stopped = false;
  const read = (from: string | undefined): Promise<StorePage> => {
    const page = nodes.list({ limit, marker: from }).then((listed) => ({
      items: listed.items,
      next: listed.next !== undefined && !stopped ? read(listed.next) : undefined,
    }));
    page.catch(() => undefined);
    return page;
  };
  return {
    first: read(marker),
    stop: () => {
      stopped = true;
    },
  };
}

/**
 * Runs `work` over `items` in their order, at most `concurrency` at once, the next one starting as soon as any
 * ends (no batch waits for its slowest). Before each start `stop()` may end the run. Resolves once everything
 * started has ended, with how many started: always the first ones of `items`, so "all before the last started
 * are done" holds. `work` must not throw.
 */
export async function inOrderPool<T>(
  items: readonly T[],
  concurrency: number,
  stop: () => boolean,
  work: (item: T) => Promise<void>,
): Promise<{ started: number; stopped: boolean }> {
  let started = 0;
  let stopped = false;
  const lane = async () => {
    while (!stopped && started < items.length) {
      if (stop()) {
        stopped = true;
        return;
      }
      const item = items[started++] as T;
      await work(item);
    }
  };
  const lanes = Math.max(1, Math.min(concurrency, items.length));
  await Promise.all(Array.from({ length: lanes }, lane));
  return { started, stopped };
}
