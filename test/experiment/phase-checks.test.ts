// The checks that compilation stayed out of `train`, and the planned length, on hand-made runs.
import { describe, expect, it } from "vitest";
import {
  epochCheck,
  planCheck,
  replicateChecks,
  trainPhaseSeconds,
  trainSecondsPerSample,
} from "../../src/experiment/phase-checks.js";
import { plannedDuration, shortPhaseWarning } from "../../src/experiment/planned-duration.js";
import type { RunConfiguration } from "../../src/experiment/types.js";

const ep = (seconds: number[]) => seconds.map((s, i) => ({ epoch: i + 1, seconds: s }));

describe("epoch check", () => {
  it("epoch 1 vs the median of all epochs: 0.21 vs median 0.20 is 5 % (ok); the compile-order case 16.5 vs 0.2 s is past 10 %", () => {
    const ok = epochCheck(ep([0.21, 0.2, 0.19, 0.2, 0.22]), 0.1);
    expect(ok?.medianS).toBe(0.2);
    expect(ok?.deviation).toBeCloseTo(0.05, 12);
    expect(ok?.ok).toBe(true);
    // Two epochs: the median is their mean, 8.35 s; |16.5 − 8.35| / 8.35 = 0.976.
    const bad = epochCheck(ep([16.5, 0.2]), 0.1);
    expect(bad?.medianS).toBeCloseTo(8.35, 12);
    expect(bad?.deviation).toBeCloseTo(8.15 / 8.35, 12);
    expect(bad?.ok).toBe(false);
    // A fast first epoch is as suspect as a slow one.
    expect(epochCheck(ep([0.1, 0.2, 0.2]), 0.1)?.ok).toBe(false);
    expect(epochCheck([], 0.1)).toBeNull();
  });
});

describe("plan check", () => {
  it("the train phase as a multiple of the planned seconds, within a factor either way", () => {
    // The H200 study's run 13: planned ≈ 79.8 s, trained 28.8 s — 0.361×, past a factor of 1.5.
    const off = planCheck(79.8, 28.8, 1.5);
    expect(off?.ratio).toBeCloseTo(28.8 / 79.8, 12);
    expect(off?.ok).toBe(false);
    // Validation adds to the phase: 1.34× (the fashion study) is within 1.5; 1.6× and 1/1.6 are not.
    expect(planCheck(2, 2.68, 1.5)?.ok).toBe(true);
    expect(planCheck(2, 3.2, 1.5)?.ok).toBe(false);
    expect(planCheck(3.2, 2, 1.5)?.ok).toBe(false);
    expect(planCheck(2, 3, 1.5)?.ok).toBe(true); // the bound itself is inside
    // No plan (no timed steps), no phase: no check.
    expect(planCheck(Number.NaN, 3, 1.5)).toBeNull();
    expect(planCheck(0, 3, 1.5)).toBeNull();
    expect(planCheck(2, null, 1.5)).toBeNull();
    // Below the floor on both sides: not checked; one side past it: checked.
    expect(planCheck(0.36, 0.23, 1.5, 1)).toBeNull();
    expect(planCheck(0.5, 1.2, 1.5, 1)?.ok).toBe(false);
    expect(planCheck(1.98, 0.83, 1.5, 1)?.ok).toBe(false);
  });
  it("the train phase's seconds from the phase records", () => {
    const phases = [
      { name: "setup", startMs: 0, endMs: 500 },
      { name: "train", startMs: 500, endMs: 2750 },
      { name: "test", startMs: 2750, endMs: 3000 },
    ];
    expect(trainPhaseSeconds(phases)).toBeCloseTo(2.25, 15);
    expect(trainPhaseSeconds(phases.filter((p) => p.name !== "train"))).toBeNull();
  });
});

describe("replicate check", () => {
  const run = (id: number, configId: string, replicate: number, trainMs: number, samples: number) => ({
    id,
    configId,
    replicate,
    phases: [
      { name: "setup", startMs: 0, endMs: 500 },
      { name: "train", startMs: 500, endMs: 500 + trainMs },
    ],
    epochs: [{ train: { samples: samples / 2 } }, { train: { samples: samples / 2 } }] as never,
  });
  it("train-phase s per sample: 1.2 s over 600 samples is 2 ms", () => {
    const r = run(1, "a", 1, 1200, 600);
    expect(trainSecondsPerSample(r.phases, r.epochs)).toBeCloseTo(0.002, 15);
  });
  it("the first replicate against the median of the others, per configuration; one replicate: no check", () => {
    const checks = replicateChecks(
      [
        run(3, "a", 2, 1000, 1000),
        run(1, "a", 1, 1500, 1000), // 1.5 ms vs median(1.0, 1.1) = 1.05: 42.9 % off
        run(5, "a", 3, 1100, 1000),
        run(2, "b", 1, 1020, 1000), // 1.02 vs 1.0: 2 %
        run(4, "b", 2, 1000, 1000),
        run(6, "c", 1, 1000, 1000),
      ],
      0.1,
    );
    expect(checks.map((c) => [c.configId, c.firstRunId, c.ok])).toEqual([
      ["a", 1, false],
      ["b", 2, true],
    ]);
    expect(checks[0].othersSPerSample).toBeCloseTo(0.00105, 15);
    expect(checks[0].deviation).toBeCloseTo(0.45 / 1.05, 12);
  });
});

describe("planned duration", () => {
  const config: RunConfiguration = {
    id: "mixed-b256-n1024",
    precision: "mixed",
    batch: 256,
    neurons: [1024],
    epochs: 25,
    optimizer: { name: "adam" },
  };
  it("steps = epochs × ceil(train / batch): the birds set's 84,635 images at 256 are 331 steps an epoch, 8275 in 25 epochs", () => {
    const d = plannedDuration(config, 84635, 0.004);
    expect(d.steps).toBe(8275);
    expect(d.trainSeconds).toBeCloseTo(33.1, 9);
    expect(shortPhaseWarning(d, 60)).toMatch(
      /about 33\.1 s \(an estimate: 8275 steps × 4\.00 ms\), shorter than the 60 s/,
    );
    expect(shortPhaseWarning(d, 30)).toBeNull();
  });
});
