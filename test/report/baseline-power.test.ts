// The report's outlier rule for baseline watts: modified z-scores worked by hand.
import { describe, expect, it } from "vitest";
import type { RunMeasurement } from "../../src/experiment/types.js";
import { measuredPhasesSection, outliers } from "../../src/report/baseline-power.js";
import { CONFIGS, makeResults } from "./fixture.js";

describe("baseline watts outliers (modified z-score > 3.5)", () => {
  it("one cold baseline among warm ones is flagged", () => {
    // median 126.5; |dev| 0.5 0.5 0 1 47.5 0.5 → MAD 0.5; z(79) = 0.6745 · 47.5 / 0.5 = 64.1;
    // z(127.5) = 0.6745 · 1 / 0.5 = 1.35.
    expect(outliers([126, 127, 126.5, 127.5, 79, 126], 3.5)).toEqual([
      false,
      false,
      false,
      false,
      true,
      false,
    ]);
  });
  it("z just either side of 3.5", () => {
    // median 100, |dev| 0 1 1 2 2 0 d → MAD 1; z = 0.6745 · d: d = 5.2 → 3.507 (flagged),
    // d = 5.1 → 3.440 (not).
    expect(outliers([100, 101, 99, 102, 98, 100, 105.2], 3.5)[6]).toBe(true);
    expect(outliers([100, 101, 99, 102, 98, 100, 105.1], 3.5)[6]).toBe(false);
  });
  it("MAD 0: the mean absolute deviation stands in (z = dev / (1.253314 · meanAD))", () => {
    // 9 × 126 and 131: meanAD 0.5, z(131) = 5 / 0.6267 = 7.98.
    expect(outliers([...Array(9).fill(126), 131], 3.5).at(-1)).toBe(true);
    // 3 × 126 and 131: meanAD 1.25, z = 5 / 1.5666 = 3.19: not flagged.
    expect(outliers([126, 126, 126, 131], 3.5)).toEqual([false, false, false, false]);
  });
  it("a value past z but within the minimum deviation of the median is not flagged", () => {
    // The fashion study's 18 baselines (H200): median 80.06, MAD 0.10; 80.89 is 0.83 W off,
    // z = 0.6745 · 0.83 / 0.10 = 5.6: flagged by z alone, not with a 2 W floor; 85 W is flagged
    // either way.
    const w = [
      80.09, 80.04, 79.95, 80.36, 80.89, 79.67, 79.78, 79.7, 80.58, 80.74, 80.08, 80.15, 80.15, 80.02, 79.99,
      79.9, 80.01, 80.13,
    ];
    expect(outliers(w, 3.5)[4]).toBe(true);
    expect(outliers(w, 3.5, 2)[4]).toBe(false);
    expect(outliers([...w, 85], 3.5, 2).at(-1)).toBe(true);
  });
  it("all equal, or fewer than 3 values: nothing flagged", () => {
    expect(outliers([80, 80, 80], 3.5)).toEqual([false, false, false]);
    expect(outliers([80, 200], 3.5)).toEqual([false, false]);
  });
});

describe("the plan check in the measured-phases table", () => {
  it("the train phase as a multiple of the plan, OFF past a factor of 1.5; worked out from the phases for older stores", () => {
    // Every fixture run trains for TRAIN_S = 100 s. Plans: 90 s (phase 1.11×, ok), 250 s (0.4×,
    // OFF), and a stored check (as a newer store holds it) that says 2×, OFF.
    const results = makeResults([
      { config: CONFIGS[0], gpuTrainJ: 1000, gpuTestJ: 10 },
      { config: CONFIGS[0], gpuTrainJ: 1000, gpuTestJ: 10 },
      { config: CONFIGS[0], gpuTrainJ: 1000, gpuTestJ: 10 },
    ]);
    const m = (planned: number, stored?: RunMeasurement["planCheck"]): RunMeasurement => ({
      baselineW: { gpu: 20 },
      settle: null,
      upload: { paidBy: "earlier-run", seconds: 0, bytes: 0 },
      warmup: { steps: 5, seconds: 1, secondsPerStep: 0.01 },
      plannedTrainSeconds: planned,
      ...(stored !== undefined ? { planCheck: stored } : {}),
      epochCheck: null,
    });
    results.runs[0].measurement = m(90);
    results.runs[1].measurement = m(250);
    results.runs[2].measurement = m(50, { plannedS: 50, trainS: 100, ratio: 2, ok: false });
    const section = measuredPhasesSection(results);
    const table = section?.blocks.find((b) => b.kind === "table");
    const cells = table && "rows" in table ? table.rows.map((r) => r.find((c) => c.startsWith("≈"))) : [];
    expect(cells).toEqual(["≈ 90 s (phase 1.11×)", "≈ 250 s (phase 0.4×, OFF)", "≈ 50 s (phase 2×, OFF)"]);
    const text = section?.blocks[0] && "text" in section.blocks[0] ? section.blocks[0].text : "";
    expect(text).toContain("within a factor of 1.5 in 1 of 3 runs");
    // Plan and phase both under a second: not checked (the stored check of a newer store aside).
    results.runs[0].phases = results.runs[0].phases.map((p) =>
      p.name === "train" ? { ...p, endMs: p.startMs + 400 } : p,
    );
    results.runs[0].measurement = m(0.3);
    const again = measuredPhasesSection(results);
    const t2 = again?.blocks.find((b) => b.kind === "table");
    expect(t2 && "rows" in t2 ? t2.rows[0].find((c) => c.startsWith("≈")) : "").toBe("≈ 0.3 s");
  });
});
