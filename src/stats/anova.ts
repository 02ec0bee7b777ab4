// One-way analysis of variance: the classic F test (Excel's "Anova: Single Factor"), from raw
// groups or from per-group summaries, and Welch's heteroscedastic version.
import { ldexp, mean, sum, variance } from "./descriptive.js";
import { fQuantileUpper, fSf } from "./distributions.js";
import { requireProbability, StatsInputError } from "./errors.js";
import { type Group, type GroupSummary, requireGroups, requireSummaries, scaleGroups } from "./groups.js";

export interface AnovaTable {
  between: { ss: number; df: number; ms: number };
  within: { ss: number; df: number; ms: number };
  total: { ss: number; df: number };
  f: number;
  p: number;
  /** F with P(F > fCritical) = α (Excel's "F crit"). */
  fCritical: number;
  /** η² = SS_between / SS_total. */
  etaSquared: number;
  /** ω² = (SS_between − (k−1)·MS_within) / (SS_total + MS_within): less biased than η². */
  omegaSquared: number;
}

export function summarize(groups: Group[]): GroupSummary[] {
  return groups.map((g) => ({
    name: g.name,
    count: g.values.length,
    mean: mean(g.values, g.name),
    variance: variance(g.values, g.name),
  }));
}

/**
 * One-way ANOVA from count, mean and variance per group — all it needs:
 * SS_within = Σ (n_i − 1) s_i², SS_between = Σ n_i (x̄_i − x̄)², F = MS_between / MS_within.
 */
export function anovaFromSummary(groups: GroupSummary[], alpha = 0.05): AnovaTable {
  requireSummaries(groups, 2);
  requireProbability(alpha, "alpha");
  const k = groups.length;
  const n = groups.reduce((s, g) => s + g.count, 0);
  const grandMean = sum(groups.map((g) => g.count * g.mean)) / n;
  const ssBetween = sum(groups.map((g) => g.count * (g.mean - grandMean) ** 2));
  const ssWithin = sum(groups.map((g) => (g.count - 1) * g.variance));
  if (ssWithin === 0)
    throw new StatsInputError(
      "every group has zero variance, so the F ratio is undefined (division by zero)",
    );
  const dfBetween = k - 1;
  const dfWithin = n - k;
  const msBetween = ssBetween / dfBetween;
  const msWithin = ssWithin / dfWithin;
  const f = msBetween / msWithin;
  const ssTotal = ssBetween + ssWithin;
  return {
    between: { ss: ssBetween, df: dfBetween, ms: msBetween },
    within: { ss: ssWithin, df: dfWithin, ms: msWithin },
    total: { ss: ssTotal, df: n - 1 },
    f,
    p: fSf(f, dfBetween, dfWithin),
    fCritical: fQuantileUpper(alpha, dfBetween, dfWithin),
    etaSquared: ssBetween / ssTotal,
    omegaSquared: (ssBetween - dfBetween * msWithin) / (ssTotal + msWithin),
  };
}

/**
 * One-way ANOVA of raw groups (scipy.stats.f_oneway), computed at a safe scale (scaleGroups):
 * F, p, η² and ω² are scale-free; SS and MS are scaled back, and refused (E_RANGE) when they are
 * not representable (values near 1e200 have sums of squares near 1e400).
 */
export function anova(groups: Group[], alpha = 0.05): AnovaTable {
  requireGroups(groups, 2);
  const { groups: g, e } = scaleGroups(groups);
  const t = anovaFromSummary(summarize(g), alpha);
  const back = (x: number) => ldexp(x, 2 * e);
  const out: AnovaTable = {
    ...t,
    between: { ...t.between, ss: back(t.between.ss), ms: back(t.between.ms) },
    within: { ...t.within, ss: back(t.within.ss), ms: back(t.within.ms) },
    total: { ...t.total, ss: back(t.total.ss) },
  };
  const squares = [out.between.ss, out.between.ms, out.within.ss, out.within.ms, out.total.ss];
  const scaledSquares = [t.between.ss, t.between.ms, t.within.ss, t.within.ms, t.total.ss];
  if (squares.some((x, i) => !Number.isFinite(x) || (x === 0 && scaledSquares[i] !== 0)))
    throw new StatsInputError(
      "the sums of squares are outside double precision's range for values of this magnitude; rescale the values (e.g. change their unit) and run again",
      {},
      "E_RANGE",
    );
  return out;
}

export interface WelchAnovaResult {
  f: number;
  df1: number;
  df2: number;
  p: number;
}

/**
 * Welch (1951) ANOVA for unequal variances (scipy f_oneway(equal_var=False), R oneway.test):
 * w_i = n_i/s_i², x̃ = Σ w_i x̄_i / Σ w_i, A = Σ w_i (x̄_i − x̃)² / (k − 1),
 * λ = Σ (1 − w_i/Σw)² / (n_i − 1), F = A / (1 + 2(k − 2)λ/(k² − 1)), df = (k − 1, (k² − 1)/(3λ)).
 */
export function welchAnovaFromSummary(groups: GroupSummary[]): WelchAnovaResult {
  requireSummaries(groups, 2);
  for (const g of groups)
    if (g.variance === 0)
      throw new StatsInputError(`group "${g.name}" has zero variance, so Welch's weights n/s² are undefined`);
  const k = groups.length;
  const weights = groups.map((g) => g.count / g.variance);
  const totalWeight = sum(weights);
  const weightedMean = sum(groups.map((g, i) => weights[i] * g.mean)) / totalWeight;
  const a = sum(groups.map((g, i) => weights[i] * (g.mean - weightedMean) ** 2)) / (k - 1);
  const lambda = sum(groups.map((g, i) => (1 - weights[i] / totalWeight) ** 2 / (g.count - 1)));
  const f = a / (1 + (2 * (k - 2) * lambda) / (k * k - 1));
  const df1 = k - 1;
  const df2 = (k * k - 1) / (3 * lambda);
  return { f, df1, df2, p: fSf(f, df1, df2) };
}

/** Welch's ANOVA of raw groups; every output is scale-free, so it is computed at a safe scale. */
export function welchAnova(groups: Group[]): WelchAnovaResult {
  requireGroups(groups, 2);
  return welchAnovaFromSummary(summarize(scaleGroups(groups).groups));
}
