// Multiple comparisons: all pairwise t-tests with a family-wise (Bonferroni, Holm) or
// false-discovery-rate (Benjamini–Hochberg) adjustment, and Tukey's HSD.
import { anovaFromSummary, summarize } from "./anova.js";
import { ldexp } from "./descriptive.js";
import { requireProbability, StatsInputError } from "./errors.js";
import { type Group, pairByRow, requireGroups, scaleGroups } from "./groups.js";
import { studentizedRangeQuantileUpper, studentizedRangeSf } from "./studentized-range.js";
import { type Alternative, type TTestKind, tTest } from "./ttest.js";
import { pairs } from "./variance.js";

export type Correction = "bonferroni" | "holm" | "bh" | "none";

/**
 * Adjusted p-values, in the input order (statsmodels multipletests / R p.adjust):
 * - bonferroni: min(1, m·p)
 * - holm (step-down): sorted ascending, p̃_(i) = max_{j<=i} min(1, (m − j + 1)·p_(j))
 * - bh (step-up): sorted ascending, p̃_(i) = min_{j>=i} min(1, m/j·p_(j))
 */
export function adjustPValues(pValues: number[], correction: Correction): number[] {
  const m = pValues.length;
  for (const p of pValues)
    if (!(p >= 0 && p <= 1)) throw new StatsInputError(`p-values must lie in [0, 1], got ${p}`);
  if (correction === "none") return [...pValues];
  if (correction === "bonferroni") return pValues.map((p) => Math.min(1, m * p));
  const order = pValues.map((_, i) => i).sort((i, j) => pValues[i] - pValues[j]);
  const adjusted = new Array<number>(m);
  if (correction === "holm") {
    let running = 0;
    order.forEach((idx, rank) => {
      running = Math.max(running, Math.min(1, (m - rank) * pValues[idx]));
      adjusted[idx] = running;
    });
    return adjusted;
  }
  if (correction === "bh") {
    let running = 1;
    for (let rank = m - 1; rank >= 0; rank--) {
      const idx = order[rank];
      running = Math.min(running, Math.min(1, (m / (rank + 1)) * pValues[idx]));
      adjusted[idx] = running;
    }
    return adjusted;
  }
  throw new StatsInputError(`unknown correction "${correction}" (bonferroni, holm, bh or none)`);
}

export interface PairwiseComparison {
  a: string;
  b: string;
  /** Paired tests only: file rows left out because one of the two values is missing. */
  droppedRows?: number[];
  t: number;
  df: number;
  p: number;
  pAdjusted: number;
  /** pAdjusted <= alpha (statsmodels' convention). */
  reject: boolean;
}

export interface PairwiseResult {
  alpha: number;
  correction: Correction;
  comparisons: PairwiseComparison[];
}

export interface PairwiseOptions {
  kind?: TTestKind;
  alternative?: Alternative;
  correction?: Correction;
  alpha?: number;
}

/** Every pair of groups (in column order, a before b), t-tested, p-values adjusted together. */
export function pairwiseTTests(groups: Group[], options: PairwiseOptions = {}): PairwiseResult {
  const alpha = options.alpha ?? 0.05;
  const correction = options.correction ?? "holm";
  requireProbability(alpha, "alpha");
  requireGroups(groups, 2);
  const tests = pairs(groups).map(([a, b]) => {
    // Paired tests match rows (see pairByRow); the dropped rows are reported per comparison.
    const paired = options.kind === "paired" ? pairByRow(a, b) : null;
    return {
      a: a.name,
      b: b.name,
      droppedRows: paired?.droppedRows,
      ...tTest(paired?.a ?? a.values, paired?.b ?? b.values, {
        kind: options.kind,
        alternative: options.alternative,
        alpha,
        labelA: a.name,
        labelB: b.name,
      }),
    };
  });
  const adjusted = adjustPValues(
    tests.map((t) => t.p),
    correction,
  );
  return {
    alpha,
    correction,
    comparisons: tests.map((t, i) => ({
      a: t.a,
      b: t.b,
      ...(t.droppedRows ? { droppedRows: t.droppedRows } : {}),
      t: t.t,
      df: t.df,
      p: t.p,
      pAdjusted: adjusted[i],
      reject: adjusted[i] <= alpha,
    })),
  };
}

export interface TukeyComparison {
  a: string;
  b: string;
  /** mean(a) − mean(b) */
  meanDifference: number;
  p: number;
  /** Simultaneous 1 − α interval for the difference. */
  ci: [number, number];
  /** p <= alpha */
  reject: boolean;
}

/**
 * Tukey's honestly significant difference (Tukey–Kramer for unequal n), as scipy.stats.tukey_hsd:
 * se_ab = √(MS_within/2 · (1/n_a + 1/n_b)), q = |x̄_a − x̄_b| / se_ab,
 * p = P(Q_{k, N−k} > q), interval x̄_a − x̄_b ± q_{1−α; k, N−k}·se_ab.
 */
export function tukeyHsd(groups: Group[], alpha = 0.05): { comparisons: TukeyComparison[] } {
  requireProbability(alpha, "alpha");
  requireGroups(groups, 2);
  // p is scale-free; differences and intervals are computed at a safe scale and scaled back by 2^e.
  const { groups: g, e } = scaleGroups(groups);
  const table = anovaFromSummary(summarize(g), alpha);
  const k = groups.length;
  const df = table.within.df;
  const ms = table.within.ms;
  const summaries = summarize(g);
  const critical = studentizedRangeQuantileUpper(alpha, k, df);
  const comparisons = pairs(summaries).map(([a, b]) => {
    const difference = a.mean - b.mean;
    const se = Math.sqrt((ms / 2) * (1 / a.count + 1 / b.count));
    const p = studentizedRangeSf(Math.abs(difference) / se, k, df);
    return {
      a: a.name,
      b: b.name,
      meanDifference: ldexp(difference, e),
      p,
      ci: [ldexp(difference - critical * se, e), ldexp(difference + critical * se, e)] as [number, number],
      reject: p <= alpha,
    };
  });
  return { comparisons };
}
