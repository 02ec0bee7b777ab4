// Reproduces the numbers of the dissertation (A. Antonopoulos, "Improve Machine Learning carbon
// footprint using Nvidia GPU and Mixed Precision training for classification models", Part I, MSc
// dissertation, no university or year stated, latest reference August 2023; §4–5) that can be
// reproduced: Table 3 (carbon), Table 6 (variance ratios) and Table 7 (ANOVA) from Table 8's
// summary statistics. Tables 5 and 9 were computed in Excel from unrounded data that Table 4 only
// prints rounded to the watt, so they are checked loosely or not at all.
import { describe, expect, it } from "vitest";
import {
  anovaFromSummary,
  carbonFootprint,
  kurtosis,
  pairs,
  readGroupsCsv,
  readSummaryCsv,
  skewness,
  varianceRatioFromSummary,
} from "../../src/stats/index.js";
import { expectDigits } from "./close.js";

const SUMMARY = "test/data/dissertation-table8-summary.csv";
const WIDE = "test/data/dissertation-table4-wide.csv";

describe("dissertation Table 7: ANOVA single factor from Table 8's summary", () => {
  const table = anovaFromSummary(readSummaryCsv(SUMMARY), 0.05);

  it("between, within and total sums of squares, df and mean squares", () => {
    expectDigits(table.between.ss, 41.99546875, 8, "SS between");
    expect(table.between.df).toBe(3);
    expectDigits(table.between.ms, 13.99848958, 8, "MS between");
    // Table 8's variances are printed to 6 decimals, so SS within carries that rounding (×3).
    expectDigits(table.within.ss, 55478.73688, 5, "SS within");
    expect(table.within.df).toBe(12);
    expectDigits(table.within.ms, 4623.228073, 6, "MS within");
    expectDigits(table.total.ss, 55520.73234, 5, "SS total");
    expect(table.total.df).toBe(15);
  });

  it("F, P-value and F crit", () => {
    expectDigits(table.f, 0.00302786, 8, "F");
    expectDigits(table.p, 0.999756527, 9, "P-value");
    expectDigits(table.fCritical, 3.490294819, 9, "F crit");
  });
});

describe("dissertation Table 6: F-test variance ratios", () => {
  it("larger over smaller variance for each pair, in the table's order", () => {
    const summaries = readSummaryCsv(SUMMARY);
    const printed = [1.105609376, 1.114340483, 1.144927028, 1.007897099, 1.035561974, 1.027448114];
    const ratios = pairs(summaries).map(([a, b]) => varianceRatioFromSummary(a, b));
    expect(ratios.map((r) => [r.a, r.b])).toEqual([
      ["Benchmarking", "1st Experiment"],
      ["Benchmarking", "2nd Experiment"],
      ["Benchmarking", "3rd Experiment"],
      ["1st Experiment", "2nd Experiment"],
      ["1st Experiment", "3rd Experiment"],
      ["2nd Experiment", "3rd Experiment"],
    ]);
    // Variances are printed to 6 decimals (≈1e-10 relative), ratios to 9.
    for (const [i, r] of ratios.entries()) expectDigits(r.f, printed[i], 8, `${r.a}/${r.b}`);
  });
});

describe("dissertation Table 3: carbon footprint", () => {
  it("167, 160, 160, 157 W for 2 h at 268 gCO2e/kWh", () => {
    const r = carbonFootprint([167, 160, 160, 157], 2, 268);
    const kwh = [0.334, 0.32, 0.32, 0.314];
    const grams = [89.512, 85.76, 85.76, 84.152];
    r.rows.forEach((row, i) => {
      expectDigits(row.kwh, kwh[i], 12, "kWh");
      expectDigits(row.gco2e, grams[i], 10, "gCO2e");
    });
  });
});

describe("dissertation Tables 4 and 5: data as printed (rounded to the watt)", () => {
  const groups = readGroupsCsv(WIDE);

  it("Table 4 reads as four groups of GPU, CPU, RAM, wall watts", () => {
    expect(groups.map((g) => g.name)).toEqual([
      "Benchmarking",
      "1st Experiment",
      "2nd Experiment",
      "3rd Experiment",
    ]);
    expect(Array.from(groups[0].values)).toEqual([87, 25, 12, 167]);
    expect(Array.from(groups[3].values)).toEqual([81, 24, 12, 157]);
  });

  it("Table 5's skewness and kurtosis are close to those of the rounded data", () => {
    // Table 8's sums (290.6, 280.7, …) show the unrounded data; rounding moves SKEW by ~0.01 and
    // KURT by up to ~0.07, so this only checks the same formulas (Excel SKEW/KURT) are in use.
    const table5 = {
      skewness: [0.950385095, 0.953821581, 1.043778768, 0.990587468],
      kurtosis: [-0.57792078, -0.515980918, -0.060450943, -0.382528412],
    };
    groups.forEach((g, i) => {
      expect(Math.abs(skewness(g.values) - table5.skewness[i])).toBeLessThan(0.015);
      expect(Math.abs(kurtosis(g.values) - table5.kurtosis[i])).toBeLessThan(0.1);
    });
  });
});
