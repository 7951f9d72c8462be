import { describe, expect, it } from "vitest";
import { DEFAULT_POLL_POLICY, pollDelay, pollPolicy, pollSchedule } from "../../lib/ironic/index.ts";

describe("poll backoff", () => {
  it("starts at 50 ms and grows by half at each poll", () => {
    expect([0, 1, 2, 3, 4].map((poll) => pollDelay(poll))).toEqual([50, 75, 113, 169, 253]);
  });

  it("never waits longer than the cap", () => {
    expect(pollDelay(10)).toBe(2_883);
    expect(pollDelay(11)).toBe(3_000);
    expect(pollDelay(1_000)).toBe(3_000);
    expect(pollDelay(3, pollPolicy({ initialMs: 100, factor: 2, maxMs: 500 }))).toBe(500);
  });

  it("only shortens a delay with jitter, by at most the jitter fraction", () => {
    expect(pollDelay(1, DEFAULT_POLL_POLICY, () => 0)).toBe(75);
    expect(pollDelay(1, DEFAULT_POLL_POLICY, () => 0.5)).toBe(68);
    expect(pollDelay(1, DEFAULT_POLL_POLICY, () => 0.999)).toBe(60);
    expect(pollDelay(20, DEFAULT_POLL_POLICY, () => 0.999)).toBe(2_401);
  });

  it("polls a fixed interval with factor 1", () => {
    const fixed = pollPolicy({ initialMs: 200, factor: 1, jitter: 0 });
    expect(pollSchedule(1_000, fixed)).toEqual([0, 200, 400, 600, 800, 1_000]);
  });

  it("sees a fast transition within the first polls", () => {
    expect(pollSchedule(0)).toEqual([0]);
    expect(pollSchedule(100)).toEqual([0, 50, 125]);
    expect(pollSchedule(300)).toEqual([0, 50, 125, 238, 407]);
  });

  it("keeps the GETs of long transitions bounded", () => {
    // A manage or provide without cleaning takes 1–2 s on real hardware.
    expect(pollSchedule(1_000)).toHaveLength(7);
    expect(pollSchedule(2_000)).toHaveLength(9);
    // Ten minutes of cleaning: ~one GET per 3 s after the first seconds (a fixed 1 s interval made 601).
    expect(pollSchedule(600_000)).toHaveLength(210);
    // Jitter at its worst adds no more than a fifth.
    expect(pollSchedule(600_000, DEFAULT_POLL_POLICY, () => 1).length).toBeLessThanOrEqual(260);
  });

  it("refuses a policy that would spin or never poll", () => {
    expect(() => pollPolicy({ initialMs: 0 })).toThrow(RangeError);
    expect(() => pollPolicy({ factor: 0.5 })).toThrow(RangeError);
    expect(() => pollPolicy({ initialMs: 500, maxMs: 100 })).toThrow(RangeError);
    expect(() => pollPolicy({ jitter: 1 })).toThrow(RangeError);
    expect(() => pollPolicy({ initialMs: Number.NaN })).toThrow(RangeError);
  });

  it("takes the defaults for options left undefined", () => {
    expect(pollPolicy({ initialMs: undefined, maxMs: 1_000 })).toEqual({
      ...DEFAULT_POLL_POLICY,
      maxMs: 1_000,
    });
  });
});
