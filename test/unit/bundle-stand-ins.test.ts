import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { LRUCache as MnemonistLRUCache } from "mnemonist";
import { describe, expect, it } from "vitest";
import LRUCache from "../../lib/aws/lru-cache.ts";
import {
  EventStreamSerde,
  eventStreamSerdeProvider,
  resolveEventStreamSerdeConfig,
} from "../../lib/aws/no-event-streams.ts";

describe("the LRU cache standing in for mnemonist's in the bundles", () => {
  it("answers a run of reads and writes as mnemonist's LRU cache does", () => {
    const ours = new LRUCache<string, number>(3);
    const theirs = new MnemonistLRUCache<string, number>(3);
    const operations: Array<[op: "set" | "get" | "peek" | "has", key: string]> = [
      ["set", "a"],
      ["set", "b"],
      ["set", "c"],
      ["get", "a"],
      ["set", "d"],
      ["has", "b"],
      ["peek", "c"],
      ["set", "e"],
      ["has", "c"],
      ["get", "a"],
      ["set", "a"],
      ["set", "f"],
      ["has", "d"],
      ["get", "e"],
    ];
    operations.forEach(([op, key], i) => {
      const answers = [ours, theirs].map((cache) => {
        if (op !== "set") return cache[op](key);
        cache.set(key, i);
        return cache.size;
      });
      expect(answers[0], `${op} ${key}`).toEqual(answers[1]);
    });
    for (const key of ["a", "b", "c", "d", "e", "f"]) expect(ours.peek(key)).toEqual(theirs.peek(key));
    ours.clear();
    expect([ours.size, ours.has("a")]).toEqual([0, false]);
  });
});

describe("the event-stream stand-in in the bundles", () => {
  it("wires a marshaller as the SDK's config resolver does, which refuses to be used", () => {
    const config = resolveEventStreamSerdeConfig({ eventStreamSerdeProvider });
    expect(config.eventStreamMarshaller).toBeDefined();
    const marshaller = config.eventStreamMarshaller as { serialize: () => unknown };
    expect(() => marshaller.serialize()).toThrow(/event streams are not bundled/);
    expect(() => new EventStreamSerde()).toThrow(/event streams are not bundled/);
  });

  it("exports every name the bundled SDK code imports from @smithy/core/event-streams", async () => {
    const standIn = await import("../../lib/aws/no-event-streams.ts");
    // HttpProtocol's dynamic import, and the Lambda client's (the durable SDK's) runtime config and client.
    for (const name of ["EventStreamSerde", "eventStreamSerdeProvider", "resolveEventStreamSerdeConfig"]) {
      expect(standIn, name).toHaveProperty(name);
      expect(await import("@smithy/core/event-streams"), name).toHaveProperty(name);
    }
  });
});

describe("the Lambda client stand-in in the bundles", () => {
  it("exports the very classes the durable SDK takes from @aws-sdk/client-lambda, and all it takes", async () => {
    const standIn: Record<string, unknown> = await import("../../lib/aws/durable-lambda-client.ts");
    // What the bundler resolves the package to (its `module` entry point).
    const lambda: Record<string, unknown> = await import(
      "../../node_modules/@aws-sdk/client-lambda/dist-es/index.js" as string
    );
    const sdk = await readFile(
      fileURLToPath(import.meta.resolve("@aws/durable-execution-sdk-js")).replace(
        /index\.[cm]?js$/,
        "index.mjs",
      ),
      "utf8",
    );
    const used = [...new Set([...sdk.matchAll(/new module\.(\w+)\(/g)].map((match) => match[1] as string))];
    expect(used).toContain("LambdaClient");
    for (const name of used) expect(standIn[name], name).toBe(lambda[name]);
  });
});
