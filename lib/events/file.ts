import { randomUUID } from "node:crypto";
import { mkdir, open } from "node:fs/promises";
import { dirname } from "node:path";
import { logger } from "../log.ts";
import { type EventPublisher, toEntry, validEvents } from "./publisher.ts";
import type { ValenceEvent } from "./schemas.ts";

/**
 * The local stack's event bus: one JSON line per event, appended to a file (mode 0600) under the data
 * directory, in the shape EventBridge delivers to a rule's target (`version`, `id`, `detail-type`, `source`,
 * `time`, `detail`), so a consumer written against one reads the other. `tail -f` it to watch. Never throws.
 */
export class JsonLinesFilePublisher implements EventPublisher {
  /** Appends in order, one at a time, so lines of two publishes never interleave. */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly path: string) {}

  publish(events: readonly ValenceEvent[]): Promise<void> {
    const written = this.queue.then(() => this.append(events));
    this.queue = written;
    return written;
  }

  private async append(events: readonly ValenceEvent[]): Promise<void> {
    try {
      const lines = validEvents(events).map((event) => {
        const entry = toEntry(event);
        return `${JSON.stringify({
          version: "0",
          id: randomUUID(),
          "detail-type": entry.DetailType,
          source: entry.Source,
          time: entry.Time.toISOString(),
          resources: [],
          detail: event.detail,
        })}\n`;
      });
      if (lines.length === 0) return;
      await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
      const file = await open(this.path, "a", 0o600);
      try {
        // The mode given to open only applies to a new file: one created otherwise is tightened too.
        await file.chmod(0o600);
        await file.appendFile(lines.join(""), "utf8");
      } finally {
        await file.close();
      }
    } catch (error) {
      logger.error("events not written to the events file", {
        path: this.path,
        error: (error as Error).message,
      });
    }
  }
}
