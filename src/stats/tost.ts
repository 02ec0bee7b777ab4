// Equivalence of two means by two one-sided t-tests (TOST; Schuirmann 1987), as statsmodels'
// ttost_ind: with d = mean(a) − mean(b) and the equivalence interval (low, high), test
// H0: d ≤ low against d > low, and H0: d ≥ high against d < high; the means are equivalent at
// level α when both reject, i.e. when p = max(p_low, p_high) < α — the same as the two-sided
// (1 − 2α) interval for d lying inside (low, high).

import { requireCount, requireProbability, StatsInputError } from "./errors.js";
import { type TTestResult, tTest } from "./ttest.js";

export type TostKind = "welch" | "student";

export interface TostOptions {
  /** "welch" (statsmodels usevar="unequal", the default) or "student" (usevar="pooled"). */
  kind?: TostKind;
  /** Level of each one-sided test (default 0.05); the interval shown is the (1 − 2α) one. */
  alpha?: number;
  labelA?: string;
  labelB?: string;
}

export interface OneSided {
  t: number;
  p: number;
}

export interface TostResult {
  /** The equivalence interval for mean(a) − mean(b), in the data's unit. */
  low: number;
  high: number;
  /** mean(a) − mean(b). */
  meanDifference: number;
  df: number;
  /** H0: d ≤ low (alternative d > low): t = (d − low)/se. */
  lower: OneSided;
  /** H0: d ≥ high (alternative d < high): t = (d − high)/se. */
  upper: OneSided;
  /** max(lower.p, upper.p): the p-value of non-equivalence. */
  p: number;
  /** The two-sided (1 − 2α) interval for d (90 % at α 0.05). */
  ci: [number, number];
  /** p < α: equivalence shown at level α. */
  equivalent: boolean;
}

/**
 * TOST of a against b (a, b: samples of ≥ 2 values, any unit) for the equivalence interval
 * (low, high) of mean(a) − mean(b) (low < high, same unit). Undefined (StatsInputError) when both
 * samples have zero variance, like the t-test.
 */
export function tost(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  low: number,
  high: number,
  options: TostOptions = {},
): TostResult {
  const kind = options.kind ?? "welch";
  const alpha = options.alpha ?? 0.05;
  const labelA = options.labelA ?? "a";
  const labelB = options.labelB ?? "b";
  requireProbability(alpha, "alpha");
  // The (1 − 2α) interval needs 2α < 1.
  if (!(alpha < 0.5)) throw new StatsInputError(`alpha must be below 0.5 for TOST, got ${alpha}`);
  if (!Number.isFinite(low) || !Number.isFinite(high) || !(low < high))
    throw new StatsInputError(
      `the equivalence interval must be finite with low < high, got (${low}, ${high})`,
    );
  requireCount(a, 2, labelA);
  requireCount(b, 2, labelB);
  const t = (x: ArrayLike<number>, alternative: "less" | "greater" | "two-sided", a2 = alpha) =>
    tTest(x, b, { kind, alternative, alpha: a2, labelA, labelB });
  // Shifting a by a bound moves d by it and leaves se and df alone: t = (d − bound)/se.
  const shifted = (bound: number) => Array.from(a, (x) => x - bound);
  const lower: TTestResult = t(shifted(low), "greater");
  const upper: TTestResult = t(shifted(high), "less");
  const plain = t(a, "two-sided", 2 * alpha);
  const p = Math.max(lower.p, upper.p);
  return {
    low,
    high,
    meanDifference: plain.meanDifference,
    df: plain.df,
    lower: { t: lower.t, p: lower.p },
    upper: { t: upper.t, p: upper.p },
    p,
    ci: plain.ci,
    equivalent: p < alpha,
  };
}
