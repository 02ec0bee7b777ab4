// t-tests of two means: paired, Student (pooled variance) and Welch, with SciPy's conventions
// (scipy.stats.ttest_rel / ttest_ind): statistic for a − b, and a confidence interval for the
// mean difference that matches the alternative (one-sided tests give a one-sided interval with
// an infinite bound, as SciPy's TtestResult.confidence_interval does).

import { commonExponent, ldexp, mean, scaled, variance } from "./descriptive.js";
import { tCdf, tQuantileUpper, tSf } from "./distributions.js";
import { requireCount, requireProbability, StatsInputError } from "./errors.js";
import { logGamma } from "./special.js";

export type Alternative = "two-sided" | "less" | "greater";
export type TTestKind = "paired" | "student" | "welch";

export interface TTestResult {
  t: number;
  df: number;
  p: number;
  /** mean(a) − mean(b) (for paired: mean of the differences a − b). */
  meanDifference: number;
  /** Confidence interval for the difference at 1 − α; ±Infinity on the open side of one-sided tests. */
  ci: [number, number];
  /** Standardized difference; see cohensD below for the denominators. */
  cohensD: number;
  /** Cohen's d times the exact small-sample correction J(df). */
  hedgesG: number;
}

export interface TTestOptions {
  kind?: TTestKind;
  alternative?: Alternative;
  /** 1 − confidence level of the interval (default 0.05). */
  alpha?: number;
  labelA?: string;
  labelB?: string;
}

/** p-value of t under the alternative. */
export function tPValue(t: number, df: number, alternative: Alternative): number {
  if (alternative === "less") return tCdf(t, df);
  if (alternative === "greater") return tSf(t, df);
  return Math.min(1, 2 * tSf(Math.abs(t), df));
}

/** Interval for a mean difference with standard error se, one- or two-sided like the test. */
export function differenceInterval(
  difference: number,
  se: number,
  df: number,
  alternative: Alternative,
  alpha: number,
): [number, number] {
  if (alternative === "two-sided") {
    const h = tQuantileUpper(alpha / 2, df) * se;
    return [difference - h, difference + h];
  }
  const h = tQuantileUpper(alpha, df) * se;
  return alternative === "less"
    ? [Number.NEGATIVE_INFINITY, difference + h]
    : [difference - h, Number.POSITIVE_INFINITY];
}

/**
 * Hedges' exact bias correction J(ν) = Γ(ν/2) / (√(ν/2)·Γ((ν−1)/2)) (Hedges 1981), ≈ 1 − 3/(4ν − 1).
 * Hedges' g = J(ν)·d, with ν = n_a + n_b − 2 (independent) or n − 1 (paired).
 */
export function hedgesCorrection(df: number): number {
  if (df <= 1) return 0; // Γ((ν−1)/2) → ∞ as ν → 1: the limit is 0
  return Math.exp(logGamma(df / 2) - logGamma((df - 1) / 2)) / Math.sqrt(df / 2);
}

/**
 * Two-sample t-test of a against b.
 * - paired:  d_i = a_i − b_i, t = d̄ / (s_d/√n), ν = n − 1. Cohen's d is d_z = d̄ / s_d.
 * - student: pooled s_p² = ((n_a−1)s_a² + (n_b−1)s_b²)/(n_a+n_b−2), t = (x̄_a − x̄_b)/(s_p√(1/n_a+1/n_b)),
 *            ν = n_a + n_b − 2. Cohen's d = (x̄_a − x̄_b)/s_p.
 * - welch:   se² = s_a²/n_a + s_b²/n_b, ν by Welch–Satterthwaite. Cohen's d uses the pooled s_p
 *            too (the effect size does not depend on which test is run), g uses ν = n_a + n_b − 2.
 */
export function tTest(a: ArrayLike<number>, b: ArrayLike<number>, options: TTestOptions = {}): TTestResult {
  requireCount(a, 2, options.labelA ?? "a");
  requireCount(b, 2, options.labelB ?? "b");
  // t, p, d and g do not depend on the unit; the difference and its interval scale with it.
  // Working at a power-of-two scale near 1 keeps values near 1e200 or 1e-300 from over- or
  // underflowing in the squares (exact, and bit-identical for everyday magnitudes).
  const e = commonExponent(a, b);
  const r = tTestAtScale(scaled(a, e), scaled(b, e), options);
  return {
    ...r,
    meanDifference: ldexp(r.meanDifference, e),
    ci: [ldexp(r.ci[0], e), ldexp(r.ci[1], e)],
  };
}

function tTestAtScale(a: ArrayLike<number>, b: ArrayLike<number>, options: TTestOptions): TTestResult {
  const kind = options.kind ?? "student";
  const alternative = options.alternative ?? "two-sided";
  const alpha = options.alpha ?? 0.05;
  const labelA = options.labelA ?? "a";
  const labelB = options.labelB ?? "b";
  requireProbability(alpha, "alpha");
  requireCount(a, 2, labelA);
  requireCount(b, 2, labelB);

  if (kind === "paired") {
    if (a.length !== b.length)
      throw new StatsInputError(
        `paired t-test needs groups of equal length: "${labelA}" has ${a.length} values, "${labelB}" has ${b.length}`,
      );
    const d = Array.from(a, (x, i) => x - b[i]);
    const md = mean(d);
    const sd = Math.sqrt(variance(d));
    if (sd === 0)
      throw new StatsInputError(`paired differences ${labelA} − ${labelB} are all equal: t is undefined`);
    const n = d.length;
    const se = sd / Math.sqrt(n);
    const t = md / se;
    const df = n - 1;
    const dz = md / sd;
    return {
      t,
      df,
      p: tPValue(t, df, alternative),
      meanDifference: md,
      ci: differenceInterval(md, se, df, alternative, alpha),
      cohensD: dz,
      hedgesG: dz * hedgesCorrection(df),
    };
  }

  const na = a.length;
  const nb = b.length;
  const va = variance(a, labelA);
  const vb = variance(b, labelB);
  if (va === 0 && vb === 0)
    throw new StatsInputError(`"${labelA}" and "${labelB}" both have zero variance: t is undefined`);
  const difference = mean(a, labelA) - mean(b, labelB);
  const pooledDf = na + nb - 2;
  const pooledVariance = ((na - 1) * va + (nb - 1) * vb) / pooledDf;
  let se: number;
  let df: number;
  if (kind === "welch") {
    const qa = va / na;
    const qb = vb / nb;
    se = Math.sqrt(qa + qb);
    df = (qa + qb) ** 2 / (qa ** 2 / (na - 1) + qb ** 2 / (nb - 1));
  } else {
    se = Math.sqrt(pooledVariance * (1 / na + 1 / nb));
    df = pooledDf;
  }
  const t = difference / se;
  const d = difference / Math.sqrt(pooledVariance);
  return {
    t,
    df,
    p: tPValue(t, df, alternative),
    meanDifference: difference,
    ci: differenceInterval(difference, se, df, alternative, alpha),
    cohensD: d,
    hedgesG: d * hedgesCorrection(pooledDf),
  };
}
