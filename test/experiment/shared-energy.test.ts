// Apportioning the host's CPU/RAM energy among runs in flight (suite --devices): the step function
// n(t), hand-computed shares, and conservation — over seeded random overlaps, the runs' shares sum
// to the host's energy over the time any run was in flight, computed independently (the union of
// the intervals times the power, no 1/n anywhere) — and the records' scaling and labels.
import { describe, expect, it } from "vitest";
import { apportionShared } from "../../src/experiment/runner.js";
import {
  concurrencyAt,
  concurrencySteps,
  cumulativeFromPower,
  type EnergyPoint,
  type InFlight,
  inverseConcurrencyIntegral,
  overlapsIn,
  sharedEnergy,
  shareOf,
} from "../../src/experiment/shared-energy.js";
import type { EnergyRecord } from "../../src/experiment/types.js";
import { makeRng, runSeed } from "../helpers/rng.js";

const seed = runSeed();
console.log(`shared-energy.test: seed ${seed} (replay: HALFWATT_SEED=${seed})`);

describe("n(t)", () => {
  it("counts the intervals in flight, each on [start, end), a running one open-ended", () => {
    const steps = concurrencySteps([
      { startMs: 0, endMs: 10 },
      { startMs: 5, endMs: 15 },
      { startMs: 10, endMs: Number.POSITIVE_INFINITY },
    ]);
    expect([-1, 0, 4.9, 5, 9.99, 10, 14, 15, 1e9].map((t) => concurrencyAt(steps, t))).toEqual([
      0, 1, 1, 2, 2, 2, 2, 1, 1,
    ]);
  });

  it("∫ 1/n by hand: [0,10) and [5,15) over [0,15] is 5 + 5/2 + 5", () => {
    const steps = concurrencySteps([
      { startMs: 0, endMs: 10 },
      { startMs: 5, endMs: 15 },
    ]);
    expect(inverseConcurrencyIntegral(steps, 0, 15)).toBeCloseTo(12.5, 12);
    expect(inverseConcurrencyIntegral(steps, 6, 8)).toBeCloseTo(1, 12);
    expect(overlapsIn(steps, 0, 5)).toBe(false);
    expect(overlapsIn(steps, 0, 5.001)).toBe(true);
    expect(overlapsIn(steps, 10, 15)).toBe(false);
  });
});

describe("a run's share", () => {
  it("by hand: 10 W constant; run A [0,10 s], B [5,15 s]: A gets 50 + 25 J of 100 J", () => {
    const steps = concurrencySteps([
      { startMs: 0, endMs: 10_000 },
      { startMs: 5_000, endMs: 15_000 },
    ]);
    // A counter read every 250 ms, 10 W: 2.5 J per reading.
    const a: EnergyPoint[] = Array.from({ length: 41 }, (_, i) => ({ t: i * 250, e: 2.5 * i }));
    expect(sharedEnergy(a, steps, 0, 10_000).whole).toBeCloseTo(100, 9);
    expect(sharedEnergy(a, steps, 0, 10_000).shared).toBeCloseTo(75, 9);
    expect(shareOf(a, steps, 0, 10_000)).toBeCloseTo(0.75, 12);
    // Power readings integrate to the same cumulative energy.
    const p = cumulativeFromPower(a.map((x) => ({ t: x.t, w: 10 })));
    expect(shareOf(p, steps, 0, 10_000)).toBeCloseTo(0.75, 12);
  });

  it("weights by power: 20 W while both run, 10 W alone — A's share is (50 + 50) / 150, not the time average 0.75", () => {
    const steps = concurrencySteps([
      { startMs: 0, endMs: 10_000 },
      { startMs: 5_000, endMs: 15_000 },
    ]);
    const a: EnergyPoint[] = [
      { t: 0, e: 0 },
      { t: 5_000, e: 50 },
      { t: 10_000, e: 150 },
    ];
    expect(shareOf(a, steps, 0, 10_000)).toBeCloseTo(100 / 150, 12);
  });

  it("with no energy in the window, the time average of 1/n", () => {
    const steps = concurrencySteps([
      { startMs: 0, endMs: 10 },
      { startMs: 5, endMs: 15 },
    ]);
    expect(shareOf([], steps, 0, 10)).toBeCloseTo(0.75, 12);
  });
});

/** Length of the union of intervals within [a, b] (independent of the code under test). */
function unionLength(intervals: readonly InFlight[], a: number, b: number): number {
  const parts = intervals
    .map((i) => [Math.max(a, i.startMs), Math.min(b, i.endMs)] as const)
    .filter(([s, e]) => e > s)
    .sort((x, y) => x[0] - y[0]);
  let total = 0;
  let [cs, ce] = [Number.NaN, Number.NaN];
  for (const [s, e] of parts) {
    if (Number.isNaN(cs) || s > ce) {
      if (!Number.isNaN(cs)) total += ce - cs;
      [cs, ce] = [s, e];
    } else ce = Math.max(ce, e);
  }
  return Number.isNaN(cs) ? total : total + ce - cs;
}

describe("conservation", () => {
  it("over seeded random overlaps, the runs' shares sum to the host's energy while any run was in flight", () => {
    const rng = makeRng(seed);
    for (let trial = 0; trial < 25; trial++) {
      // The host's power: constant on 100 ms cells of a 60 s timeline, 20–200 W.
      const cellMs = 100;
      const cells = 600;
      const watts = Array.from({ length: cells }, () => 20 + 180 * rng());
      const energyAt = (t: number) => {
        // Cumulative J at t (t on cell boundaries only): what a host-wide counter reads.
        let e = 0;
        for (let c = 0; c < t / cellMs; c++) e += (watts[c] * cellMs) / 1000;
        return e;
      };
      // 2–5 runs, each over a random stretch on cell boundaries, some overlapping, some not.
      const n = 2 + Math.floor(rng() * 4);
      const runs: InFlight[] = Array.from({ length: n }, () => {
        const s = Math.floor(rng() * 400);
        const len = 20 + Math.floor(rng() * 200);
        return { startMs: s * cellMs, endMs: Math.min(cells, s + len) * cellMs };
      });
      const steps = concurrencySteps(runs);
      let sum = 0;
      for (const r of runs) {
        // Each run's own readings: a counter read at every cell boundary of its window, as its sampler would.
        const points: EnergyPoint[] = [];
        for (let t = r.startMs; t <= r.endMs; t += cellMs) points.push({ t, e: energyAt(t) });
        sum += sharedEnergy(points, steps, r.startMs, r.endMs).shared;
      }
      // Reference: ∫ P over the union of the runs' intervals, cell by cell.
      let host = 0;
      for (let c = 0; c < cells; c++)
        host += (watts[c] * unionLength(runs, c * cellMs, (c + 1) * cellMs)) / 1000;
      expect(sum, `trial ${trial}, runs ${JSON.stringify(runs)}`).toBeCloseTo(host, 6);
      // And a run never gets more than the whole.
      const whole = runs.reduce((s, r) => s + energyAt(r.endMs) - energyAt(r.startMs), 0);
      expect(sum).toBeLessThanOrEqual(whole + 1e-9);
    }
  });
});

describe("apportionShared", () => {
  const rec = (over: Partial<EnergyRecord>): EnergyRecord => ({
    phase: "train",
    component: "cpu",
    channel: "cpu-model",
    source: "CPU model",
    provenance: "estimated",
    grossJ: 100,
    netJ: 40,
    seconds: 10,
    meanPowerW: 10,
    grossLowJ: 80,
    grossHighJ: 120,
    netLowJ: 30,
    netHighJ: 50,
    ...over,
  });

  it("scales CPU/RAM rows and totals by the phase's share and labels them shared; the GPU's own energy is untouched", () => {
    const steps = concurrencySteps([
      { startMs: 0, endMs: 10_000 },
      { startMs: 5_000, endMs: 15_000 },
    ]);
    const cpu: EnergyPoint[] = Array.from({ length: 11 }, (_, i) => ({ t: i * 1000, e: 10 * i }));
    const ram: EnergyPoint[] = [
      { t: 0, e: 0 },
      { t: 5_000, e: 50 },
      { t: 10_000, e: 150 },
    ];
    const records: EnergyRecord[] = [
      rec({}),
      rec({ channel: null }),
      rec({ component: "dram", channel: "ram-model", source: "RAM model" }),
      rec({ component: "gpu", channel: "nvml:0", provenance: "counter", source: "NVML GPU 0" }),
      rec({ component: "gpu", channel: null, provenance: "counter" }),
    ];
    const out = apportionShared(
      records,
      new Map([
        ["cpu-model", cpu],
        ["ram-model", ram],
      ]),
      [{ name: "train", startMs: 0, endMs: 10_000 }],
      steps,
    );
    const r = 0.75;
    expect(out[0]).toMatchObject({
      grossJ: 100 * r,
      netJ: 40 * r,
      meanPowerW: 10 * r,
      grossLowJ: 80 * r,
      grossHighJ: 120 * r,
      netLowJ: 30 * r,
      netHighJ: 50 * r,
      provenance: "estimated",
      shared: true,
    });
    // The CPU total has one channel: the same share.
    expect(out[1].grossJ).toBeCloseTo(75, 9);
    expect(out[1].shared).toBe(true);
    // RAM: its own readings' share, 100/150.
    expect(out[2].grossJ).toBeCloseTo((100 * 100) / 150, 9);
    expect(out[3]).toEqual(records[3]);
    expect(out[4]).toEqual(records[4]);
  });

  it("a counter-provenance host channel (RAPL) becomes an estimate once apportioned", () => {
    const steps = concurrencySteps([
      { startMs: 0, endMs: 10 },
      { startMs: 0, endMs: 10 },
    ]);
    const out = apportionShared(
      [rec({ channel: "rapl:package-0", provenance: "counter" })],
      new Map([
        [
          "rapl:package-0",
          [
            { t: 0, e: 0 },
            { t: 10, e: 1 },
          ],
        ],
      ]),
      [{ name: "train", startMs: 0, endMs: 10 }],
      steps,
    );
    expect(out[0]).toMatchObject({ provenance: "estimated", shared: true, grossJ: 50 });
  });
});
