// Statistical power and sample size, with statsmodels' conventions (statsmodels.stats.power):
// TTestIndPower (two independent samples, equal n, effect = Cohen's d) and FTestAnovaPower
// (one-way ANOVA, effect = Cohen's f). Power comes from the noncentral t / F distributions.
//
// Sample size: statsmodels reports the real-valued n solving power(n) = target; halfwatt reports
// that as `nExact` and the integer you must actually run, `n` = ceil(nExact), PER GROUP.
// Note that statsmodels' FTestAnovaPower counts nobs as the TOTAL over all k groups; here the
// total is `nTotal` = n·k (and `nTotalExact` = k·nExact is what statsmodels' solve_power returns).
import {
  fQuantileUpper,
  noncentralFSf,
  noncentralTCdf,
  noncentralTSf,
  tQuantileUpper,
} from "./distributions.js";
import { requireProbability, StatsInputError } from "./errors.js";
import { findRoot } from "./special.js";
import type { Alternative } from "./ttest.js";

export interface TTestPowerOptions {
  /** Cohen's d = (μ_a − μ_b)/σ. */
  effect: number;
  alpha?: number;
  alternative?: Alternative;
}

function checkCommon(effect: number, alpha: number): void {
  if (!Number.isFinite(effect) || effect === 0)
    throw new StatsInputError(`effect size must be a finite non-zero number, got ${effect}`);
  requireProbability(alpha, "alpha");
}

/**
 * Power of the two-sample t-test with n per group (statsmodels TTestIndPower.power, ratio 1):
 * ν = 2n − 2, noncentrality δ = d·√(n/2); two-sided power = P(T' > t_{α/2}) + P(T' < −t_{α/2}).
 * "greater" is statsmodels' "larger", "less" its "smaller".
 */
export function tTestPower(options: TTestPowerOptions & { n: number }): number {
  const { effect, n } = options;
  const alpha = options.alpha ?? 0.05;
  const alternative = options.alternative ?? "two-sided";
  checkCommon(effect, alpha);
  if (!(n > 1)) throw new StatsInputError(`n per group must be > 1, got ${n}`);
  const df = 2 * n - 2;
  const delta = effect * Math.sqrt(n / 2);
  const tailAlpha = alternative === "two-sided" ? alpha / 2 : alpha;
  const critical = tQuantileUpper(tailAlpha, df);
  let power = 0;
  if (alternative !== "less") power += noncentralTSf(critical, df, delta);
  if (alternative !== "greater") power += noncentralTCdf(-critical, df, delta);
  return power;
}

export interface AnovaPowerOptions {
  /** Cohen's f = σ_means / σ. */
  effect: number;
  groups: number;
  alpha?: number;
}

/**
 * Power of one-way ANOVA with n per group (statsmodels FTestAnovaPower.power with nobs = n·k):
 * N = n·k, λ = f²·N, power = P(F'(k−1, N−k, λ) > F_{α; k−1, N−k}).
 */
export function anovaPower(options: AnovaPowerOptions & { n: number }): number {
  const { effect, groups: k, n } = options;
  const alpha = options.alpha ?? 0.05;
  checkCommon(effect, alpha);
  if (!Number.isInteger(k) || k < 2) throw new StatsInputError(`groups must be an integer >= 2, got ${k}`);
  const total = n * k;
  if (!(total > k)) throw new StatsInputError(`n per group must be > 1, got ${n}`);
  const critical = fQuantileUpper(alpha, k - 1, total - k);
  return noncentralFSf(critical, k - 1, total - k, effect * effect * total);
}

export interface SampleSize {
  /** Per group, rounded up: what to run. */
  n: number;
  /** Real-valued per-group n solving power(n) = target (statsmodels' solve_power for nobs1). */
  nExact: number;
  /** n × groups. */
  nTotal: number;
  /** Real-valued total (statsmodels FTestAnovaPower's nobs). */
  nTotalExact: number;
  /** Power achieved with n per group. */
  power: number;
}

/** Real n > 1 with powerAt(n) = target (power increases with n): bracket by doubling, then Brent. */
function solveN(powerAt: (n: number) => number, target: number): number {
  let hi = 2;
  while (powerAt(hi) < target) {
    hi *= 2;
    if (hi > 1e9) throw new StatsInputError("effect too small: required n per group exceeds 1e9");
  }
  const lo = hi > 2 ? hi / 2 : 1 + 1e-6;
  if (powerAt(lo) >= target) return lo;
  return findRoot((n) => powerAt(n) - target, lo, hi);
}

function sampleSize(powerAt: (n: number) => number, target: number, groups: number): SampleSize {
  requireProbability(target, "power");
  const nExact = solveN(powerAt, target);
  const n = Math.max(2, Math.ceil(nExact - 1e-9));
  return { n, nExact, nTotal: n * groups, nTotalExact: nExact * groups, power: powerAt(n) };
}

export function tTestSampleSize(options: TTestPowerOptions & { power?: number }): SampleSize {
  checkCommon(options.effect, options.alpha ?? 0.05);
  return sampleSize((n) => tTestPower({ ...options, n }), options.power ?? 0.8, 2);
}

export function anovaSampleSize(options: AnovaPowerOptions & { power?: number }): SampleSize {
  checkCommon(options.effect, options.alpha ?? 0.05);
  return sampleSize((n) => anovaPower({ ...options, n }), options.power ?? 0.8, options.groups);
}
