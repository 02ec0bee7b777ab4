// Tests of equal variances: the two-sample F ratio (Excel's F.TEST, and the ratios of the
// dissertation's Table 6), and Levene's test with mean or median centring (Brown–Forsythe).
import { anova, summarize } from "./anova.js";
import { mean, median } from "./descriptive.js";
import { fCdf, fSf } from "./distributions.js";
import { StatsInputError } from "./errors.js";
import { type Group, type GroupSummary, requireGroups, requireSummaries, scaleGroups } from "./groups.js";

export interface VarianceRatio {
  a: string;
  b: string;
  /** Larger sample variance over smaller (so f >= 1), as in the dissertation's Table 6. */
  f: number;
  /**
   * Two-sided p of H0: equal variances, as Excel's F.TEST and R's var.test:
   * 2·min(P(F <= s_a²/s_b²), P(F > s_a²/s_b²)) with F ~ F(n_a − 1, n_b − 1).
   */
  p: number;
}

/** F ratio of two groups' variances from their summaries, larger over smaller. */
export function varianceRatioFromSummary(a: GroupSummary, b: GroupSummary): VarianceRatio {
  requireSummaries([a, b], 2);
  if (a.variance === 0 || b.variance === 0)
    throw new StatsInputError(
      a.variance === 0 && b.variance === 0
        ? `groups "${a.name}" and "${b.name}" both have zero variance: F is undefined`
        : `group "${a.variance === 0 ? a.name : b.name}" has zero variance: the F ratio is infinite and not testable`,
    );
  const ratio = a.variance / b.variance;
  const lower = fCdf(ratio, a.count - 1, b.count - 1);
  const upper = fSf(ratio, a.count - 1, b.count - 1);
  return { a: a.name, b: b.name, f: Math.max(ratio, 1 / ratio), p: Math.min(1, 2 * Math.min(lower, upper)) };
}

/** F ratio of two samples' variances, larger over smaller, with its two-sided p-value. */
export function varianceRatio(a: Group, b: Group): VarianceRatio {
  requireGroups([a, b], 2);
  // F and p are scale-free: compute at a safe scale (scaleGroups).
  const [sa, sb] = summarize(scaleGroups([a, b]).groups);
  return varianceRatioFromSummary(sa, sb);
}

/** All pairs in column order: (1,2), (1,3), …, (2,3), … */
export function pairs<T>(items: T[]): [T, T][] {
  const out: [T, T][] = [];
  for (let i = 0; i < items.length; i++)
    for (let j = i + 1; j < items.length; j++) out.push([items[i], items[j]]);
  return out;
}

export interface LeveneResult {
  f: number;
  p: number;
}

/**
 * Levene's test: one-way ANOVA on absolute deviations |x_ij − c_i| from each group's centre c_i —
 * the mean (Levene 1960) or the median (Brown & Forsythe 1974, robust to skew; scipy's default).
 */
export function levene(groups: Group[], center: "mean" | "median" = "mean"): LeveneResult {
  requireGroups(groups, 2);
  // F and p are scale-free: compute at a safe scale (scaleGroups).
  const deviations = scaleGroups(groups).groups.map((g) => {
    const c = center === "mean" ? mean(g.values, g.name) : median(g.values, g.name);
    return { name: g.name, values: Array.from(g.values, (x) => Math.abs(x - c)) };
  });
  try {
    const table = anova(deviations);
    return { f: table.f, p: table.p };
  } catch (e) {
    if (e instanceof StatsInputError)
      throw new StatsInputError(
        `Levene's test is undefined: the absolute deviations have no spread (${e.message})`,
      );
    throw e;
  }
}

export function brownForsythe(groups: Group[]): LeveneResult {
  return levene(groups, "median");
}
