import { describe, expect, it } from "vitest";
import { parseConfig } from "../../lib/config.ts";
import { nodeRepositoryFor, once } from "../../lib/runtime/store.ts";

describe("once (the composition root's builder cache)", () => {
  it("builds again after a rejected build, and keeps the first success", async () => {
    const config = parseConfig({});
    let builds = 0;
    const driver = once(async () => {
      builds += 1;
      if (builds === 1) throw new Error("Secrets Manager: throttled");
      return { built: builds };
    });

    await expect(driver(config)).rejects.toThrow(/throttled/);
    await expect(driver(config)).resolves.toEqual({ built: 2 });
    await expect(driver(config)).resolves.toEqual({ built: 2 });
    expect(builds).toBe(2);
  });

  it("builds again after a build that throws", () => {
    const config = parseConfig({});
    let builds = 0;
    const service = once(() => {
      builds += 1;
      if (builds === 1) throw new Error("bad wiring");
      return builds;
    });

    expect(() => service(config)).toThrow(/bad wiring/);
    expect(service(config)).toBe(2);
    expect(service(config)).toBe(2);
  });

  it("shares one build between concurrent callers", async () => {
    const config = parseConfig({});
    let builds = 0;
    const driver = once(async () => ++builds);
    expect(await Promise.all([driver(config), driver(config)])).toEqual([1, 1]);
  });

  it("builds per configuration: a second configuration never gets the first one's services", () => {
    const first = parseConfig({ VALENCE_TABLE_NAME: "first", DYNAMODB_ENDPOINT: "http://127.0.0.1:1" });
    const second = parseConfig({ VALENCE_TABLE_NAME: "second", DYNAMODB_ENDPOINT: "http://127.0.0.1:2" });

    expect(nodeRepositoryFor(first)).toBe(nodeRepositoryFor(first));
    expect(nodeRepositoryFor(second)).not.toBe(nodeRepositoryFor(first));
    expect((nodeRepositoryFor(second) as unknown as { tableName: string }).tableName).toBe("second");
  });
});
