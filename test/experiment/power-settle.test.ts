// The settle rule before each baseline: on a known power trace it waits exactly as long as the
// rule requires (the expected times from numpy's polyfit and ptp over the same readings, not from
// this code), times out on a drifting source, and gives up at once without a power reading. The
// sampler tests' linear fake source stands in for a GPU on an adapter without NVML.
import { describe, expect, it } from "vitest";
import type { SettleRule } from "../../src/experiment/measurement-rules.js";
import { settleState, slopePerSecond, waitForSettledPower } from "../../src/experiment/power-settle.js";
import { monotonicMs } from "../../src/telemetry/clock.js";
import { createSource } from "../telemetry/fixtures/linear-source.js";

const rule: SettleRule = {
  windowSeconds: 10,
  withinWatts: 5,
  maxSlopeWPerS: 0.2,
  timeoutSeconds: 120,
  intervalMs: 1000,
};

/** A virtual clock: sleep advances it, nothing waits. */
function fakeClock() {
  let t = 0;
  return {
    now: () => t,
    sleep: async (ms: number) => {
      t += ms;
    },
  };
}

describe("power settle", () => {
  it("an H200-like decay after a load, 126 + 40·e^(−t/5) W read at 1 Hz, settles at the first reading whose last 10 s are within 5 W and 0.2 W/s: t = 25 s", async () => {
    // numpy over readings t−10 … t: at t = 24 ptp 2.103 W, slope −0.2011 W/s (not yet); at 25
    // ptp 1.722, slope −0.1647 (settled).
    const clock = fakeClock();
    const r = await waitForSettledPower(() => 126 + 40 * Math.exp(-clock.now() / 5000), rule, clock);
    expect(r.settled).toBe(true);
    expect(r.timedOut).toBe(false);
    expect(r.seconds).toBe(25);
    expect(r.readings).toBe(26);
    expect(r.spreadW).toBeCloseTo(1.722, 3);
    expect(r.slopeWPerS).toBeCloseTo(-0.1647, 4);
  });

  it("the spread alone does not settle it: a slow ramp (0.3 W/s, 3 W over 10 s) times out", async () => {
    const clock = fakeClock();
    const r = await waitForSettledPower(() => 100 + 0.3 * (clock.now() / 1000), rule, clock);
    expect(r.settled).toBe(false);
    expect(r.timedOut).toBe(true);
    expect(r.seconds).toBe(120);
    expect(r.slopeWPerS).toBeCloseTo(0.3, 9);
  });

  it("no power reading (no NVML): gives up at once, unsettled", async () => {
    const clock = fakeClock();
    const r = await waitForSettledPower(() => null, rule, clock);
    expect(r).toMatchObject({ settled: false, timedOut: false, seconds: 0, readings: 0 });
  });

  it("an aborted wait stops at the next reading", async () => {
    const clock = fakeClock();
    const stop = new AbortController();
    stop.abort();
    const r = await waitForSettledPower(() => 500 + Math.random() * 100, rule, clock, stop.signal);
    expect(r.readings).toBe(1);
    expect(r.settled).toBe(false);
  });

  it("the window must be full: 9 s of flat readings are not settled", () => {
    const flat = Array.from({ length: 10 }, (_, i) => ({ t: i * 1000, w: 80 }));
    expect(settleState(flat, rule).settled).toBe(false);
    expect(settleState([...flat, { t: 10000, w: 80 }], rule).settled).toBe(true);
  });

  it("least-squares slope: the textbook line y = 3 + 2x (x in s) has slope 2 W/s whatever the noise-free offset", () => {
    expect(slopePerSecond([0, 1, 2, 3].map((x) => ({ t: 1000 * x + 500, w: 3 + 2 * x })))).toBeCloseTo(2, 12);
  });

  it("on the telemetry fakes (real clock): a flat linear source settles after the window; one falling 50 W/s times out", async () => {
    const fast: SettleRule = {
      windowSeconds: 0.2,
      withinWatts: 1,
      maxSlopeWPerS: 1,
      timeoutSeconds: 0.6,
      intervalMs: 20,
    };
    const clock = { now: monotonicMs, sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) };
    const reader = (b: number) => {
      const src = createSource({
        id: "gpu0",
        component: "gpu",
        a: 120,
        b,
        t0: monotonicMs(),
        counter: false,
        power: true,
      });
      return async () => (await src.read({ counters: false }))[0].powerW ?? null;
    };
    const flat = await waitForSettledPower(reader(0), fast, clock);
    expect(flat.settled).toBe(true);
    expect(flat.seconds).toBeGreaterThanOrEqual(0.2);
    expect(flat.meanW).toBeCloseTo(120, 9);
    const falling = await waitForSettledPower(reader(-50), fast, clock);
    expect(falling.settled).toBe(false);
    expect(falling.timedOut).toBe(true);
    expect(falling.slopeWPerS).toBeCloseTo(-50, 0);
  });
});
