import { describe, expect, it } from "vitest";
import { timeSteps } from "../../src/model/warmup.js";

// A step whose cost is known: it busy-waits `ms(i)` for its i-th call. The estimate must be the
// steady cost, not the slow start (a GPU at idle clocks), nor the mean over both.
function stepOf(ms: (i: number) => number): { step: () => void; calls: () => number } {
  let i = 0;
  return {
    step: () => {
      const until = performance.now() + ms(i++);
      while (performance.now() < until) {}
    },
    calls: () => i,
  };
}
const drain = async () => {};

describe("warm-up step timing (timeSteps)", () => {
  it("waits out a slow start: 4 ms per step for 30 steps, then 1 ms: about 1 ms", async () => {
    const s = stepOf((i) => (i < 30 ? 4 : 1));
    const perStep = await timeSteps(s.step, drain, 3, 0.2);
    expect(perStep).toBeGreaterThan(0.0009);
    expect(perStep).toBeLessThan(0.0013);
    expect(s.calls()).toBeGreaterThan(30);
  });

  it("one chunk of the first size when no minimum time is asked (the old rule)", async () => {
    const s = stepOf(() => 60);
    const perStep = await timeSteps(s.step, drain, 3, 0);
    expect(s.calls()).toBe(3);
    expect(perStep).toBeGreaterThan(0.059);
    expect(perStep).toBeLessThan(0.075);
  });

  it("stops at 10 × the minimum when the time never settles", async () => {
    const s = stepOf((i) => ((i >> 4) % 2 ? 4 : 1));
    const t0 = performance.now();
    await timeSteps(s.step, drain, 1, 0.05);
    expect((performance.now() - t0) / 1000).toBeLessThan(0.05 * 10 + 0.5);
  });

  it("no timed steps: NaN, and no step is run", async () => {
    const s = stepOf(() => 1);
    expect(await timeSteps(s.step, drain, 0, 1)).toBeNaN();
    expect(s.calls()).toBe(0);
  });
});
