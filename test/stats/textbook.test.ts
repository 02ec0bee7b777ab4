// Published examples with published answers, to the digits printed in the source.
import { describe, expect, it } from "vitest";
import {
  adjustPValues,
  anova,
  anovaSampleSize,
  brownForsythe,
  kurtosis,
  quantile,
  shapiroWilk,
  skewness,
  tTest,
  tTestSampleSize,
  tukeyHsd,
  varianceRatio,
  welchAnova,
} from "../../src/stats/index.js";
import { expectDigits } from "./close.js";

// Student (1908) / Cushny & Peebles: extra hours of sleep under two drugs, 10 patients.
// Answers: R's documentation example `t.test(extra ~ group, data = sleep)` (R 4.x output).
const SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
const SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];

// R's PlantGrowth data set (Dobson 1983, Table 7.1): dried weight of plants, control and two
// treatments. Answers: R's anova(lm(weight ~ group)), oneway.test, TukeyHSD, car::leveneTest.
const PLANT = [
  { name: "ctrl", values: [4.17, 5.58, 5.18, 6.11, 4.5, 4.61, 5.17, 4.53, 5.33, 5.14] },
  { name: "trt1", values: [4.81, 4.17, 4.41, 3.59, 5.87, 3.83, 6.03, 4.89, 4.32, 4.69] },
  { name: "trt2", values: [6.31, 5.12, 5.54, 5.5, 5.37, 5.29, 4.92, 6.15, 5.8, 5.26] },
];

describe("t-tests: Student's sleep data (R t.test)", () => {
  it("paired: t = -4.0621, df = 9, p = 0.002833, CI [-2.4598858, -0.7001142]", () => {
    const r = tTest(SLEEP_1, SLEEP_2, { kind: "paired" });
    expectDigits(r.t, -4.0621, 4, "t");
    expect(r.df).toBe(9);
    expectDigits(r.p, 0.002833, 6, "p");
    expectDigits(r.ci[0], -2.4598858, 7, "lower");
    expectDigits(r.ci[1], -0.7001142, 7, "upper");
    expectDigits(r.meanDifference, -1.58, 12, "mean difference");
  });

  it("Welch: t = -1.8608, df = 17.776, p = 0.07939, CI [-3.3654832, 0.2054832]", () => {
    const r = tTest(SLEEP_1, SLEEP_2, { kind: "welch" });
    expectDigits(r.t, -1.8608, 4, "t");
    expectDigits(r.df, 17.776, 3, "df");
    expectDigits(r.p, 0.07939, 5, "p");
    expectDigits(r.ci[0], -3.3654832, 7, "lower");
    expectDigits(r.ci[1], 0.2054832, 7, "upper");
  });
});

describe("one-way ANOVA and follow-ups: PlantGrowth (R)", () => {
  it("anova: SS 3.7663 / 10.4921, df 2 / 27, F = 4.8461, p = 0.01591", () => {
    const r = anova(PLANT);
    expectDigits(r.between.ss, 3.7663, 4, "SS group");
    expectDigits(r.within.ss, 10.4921, 4, "SS residuals");
    expect([r.between.df, r.within.df]).toEqual([2, 27]);
    expectDigits(r.f, 4.8461, 4, "F");
    expectDigits(r.p, 0.01591, 5, "p");
  });

  it("oneway.test (Welch): F = 5.181, denom df = 17.128, p = 0.01739", () => {
    const r = welchAnova(PLANT);
    expectDigits(r.f, 5.181, 3, "F");
    expect(r.df1).toBe(2);
    expectDigits(r.df2, 17.128, 3, "df2");
    expectDigits(r.p, 0.01739, 5, "p");
  });

  it("TukeyHSD: p adj 0.3908711, 0.1979960, 0.0120064; trt2−trt1 CI [0.1737839, 1.5562161]", () => {
    const r = tukeyHsd(PLANT).comparisons;
    // R reports b − a (trt1−ctrl); halfwatt reports a − b, so signs flip.
    expectDigits(r[0].meanDifference, 0.371, 12, "ctrl−trt1");
    expectDigits(r[0].p, 0.3908711, 7, "p ctrl/trt1");
    expectDigits(r[1].p, 0.197996, 7, "p ctrl/trt2");
    expectDigits(r[2].p, 0.0120064, 7, "p trt1/trt2");
    expectDigits(r[2].ci[0], -1.5562161, 7, "trt1−trt2 lower");
    expectDigits(r[2].ci[1], -0.1737839, 7, "trt1−trt2 upper");
  });

  it("car::leveneTest (median-centred, = Brown–Forsythe): F = 1.1192, p = 0.3412", () => {
    const r = brownForsythe(PLANT);
    expectDigits(r.f, 1.1192, 4, "F");
    expectDigits(r.p, 0.3412, 4, "p");
  });
});

describe("Shapiro–Wilk: Shapiro & Wilk (1965) weights of 11 men", () => {
  it("W = 0.79 (1965, to 2 decimals); R shapiro.test: W = 0.78881, p = 0.006704", () => {
    const r = shapiroWilk([148, 154, 158, 160, 161, 162, 166, 170, 182, 195, 236]);
    expectDigits(r.w, 0.78881, 5, "W");
    expectDigits(r.p, 0.006704, 6, "p");
  });
});

describe("Excel function reference examples (support.microsoft.com)", () => {
  const data = [3, 4, 5, 2, 3, 4, 5, 6, 4, 7];
  it("SKEW(3,4,5,2,3,4,5,6,4,7) = 0.359543", () => expectDigits(skewness(data), 0.359543, 6, "SKEW"));
  it("KURT(3,4,5,2,3,4,5,6,4,7) = -0.151799637", () => expectDigits(kurtosis(data), -0.151799637, 9, "KURT"));
  it("F.TEST({6,7,9,15,21},{20,28,31,38,40}) = 0.648317847", () => {
    const r = varianceRatio(
      { name: "1", values: [6, 7, 9, 15, 21] },
      { name: "2", values: [20, 28, 31, 38, 40] },
    );
    expectDigits(r.p, 0.648317847, 9, "F.TEST");
  });
  it("PERCENTILE.INC({1,3,2,4}, 0.3) = 1.9 (type 7); PERCENTILE.EXC({1,2,3,6,6,6,7,8,9}, 0.25) = 2.5 (type 6)", () => {
    expectDigits(quantile([1, 3, 2, 4], 0.3), 1.9, 12, "PERCENTILE.INC");
    expectDigits(quantile([1, 2, 3, 6, 6, 6, 7, 8, 9], 0.25, 6), 2.5, 12, "PERCENTILE.EXC");
  });
});

describe("sample size: Cohen (1988), Statistical Power Analysis, Tables 2.4.1 and 8.4.4", () => {
  it("two-sample t, d = 0.5, α = 0.05 two-sided, power 0.8: n = 64 per group", () => {
    const r = tTestSampleSize({ effect: 0.5, alpha: 0.05, power: 0.8 });
    expect(r.n).toBe(64);
    expectDigits(r.nExact, 63.7656, 4, "statsmodels TTestIndPower.solve_power"); // 63.76561...
  });
  it("ANOVA, f = 0.25, k = 4, α = 0.05, power 0.8: n = 45 per group", () => {
    const r = anovaSampleSize({ effect: 0.25, groups: 4, alpha: 0.05, power: 0.8 });
    expect(r.n).toBe(45);
    expect(r.nTotal).toBe(180);
  });
});

describe("p-value adjustment (hand-computed, R p.adjust definitions)", () => {
  const p = [0.01, 0.04, 0.03, 0.005];
  it("bonferroni", () => expect(adjustPValues(p, "bonferroni")).toEqual([0.04, 0.16, 0.12, 0.02]));
  it("holm", () => {
    const r = adjustPValues(p, "holm");
    for (const [i, v] of [0.03, 0.06, 0.06, 0.02].entries()) expectDigits(r[i], v, 15, "holm");
  });
  it("Benjamini–Hochberg", () => {
    const r = adjustPValues(p, "bh");
    for (const [i, v] of [0.02, 0.04, 0.04, 0.02].entries()) expectDigits(r[i], v, 15, "bh");
  });
});
