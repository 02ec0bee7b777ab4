// The report's statistics on per-run energy: each test from src/stats, run only where it is
// defined for these data; where it is not (one replicate, one configuration, zero variance) the
// outcome carries a note instead of a number, so nothing downstream ever sees NaN.

import type { RunConfiguration } from "../experiment/types.js";
import {
  adjustPValues,
  anova,
  type BlockedObservation,
  blockedAnova,
  brownForsythe,
  type Group,
  levene,
  mean,
  StatsInputError,
  shapiroWilk,
  standardDeviation,
  tost,
  tQuantileUpper,
  tTest,
  tTestSampleSize,
  tukeyHsd,
  welchAnova,
} from "../stats/index.js";
import type { Provenance } from "../telemetry/types.js";
import { withoutResidue } from "./numbers.js";
import { f32Twin } from "./twins.js";
import type {
  AccuracyEquivalence,
  BlockedAnovaSummary,
  EnergyMetric,
  EquivalenceRow,
  MeanCi,
  PairComparison,
  ReportStatistics,
  TestOutcome,
} from "./types.js";

/** The relative energy difference the power analysis is asked to detect. */
export const DETECTABLE_FRACTION = 0.05;
export const TARGET_POWER = 0.8;
export const ALPHA = 0.05;

/** Mean with its two-sided 95 % t interval x̄ ± t₀.₉₇₅,ₙ₋₁·s/√n; sd and CI null with one value. */
export function meanCi(values: readonly number[], provenance: Provenance | null = null): MeanCi {
  const n = values.length;
  if (n === 0) return { n, mean: 0, sd: null, ci95: null, provenance };
  const m = mean(values);
  if (n < 2) return { n, mean: m, sd: null, ci95: null, provenance };
  // Equal values give an SD of rounding residue (1e-16 × the values), which is 0.
  const sd = withoutResidue(
    standardDeviation(values),
    values.reduce((s, x) => Math.max(s, Math.abs(x)), 0),
  );
  const half = tQuantileUpper(0.025, n - 1) * (sd / Math.sqrt(n));
  return { n, mean: m, sd, ci95: [m - half, m + half], provenance };
}

/** Runs f; a StatsInputError (the test is undefined for these data) becomes a note. */
function attempt<T>(f: () => T): TestOutcome<T> {
  try {
    return { result: f() };
  } catch (e) {
    if (e instanceof StatsInputError) return { result: null, note: e.message };
    throw e;
  }
}

const notApplicable = <T>(note: string): TestOutcome<T> => ({ result: null, note });

/**
 * The blocked ANOVA (configuration + device block) on the runs of the configurations the one-way
 * ANOVA compares; null when those runs all ran on one device, so the report shows nothing new.
 */
export function blockedStatistics(
  observations: readonly BlockedObservation[],
  compared: readonly string[],
): TestOutcome<BlockedAnovaSummary> | null {
  const used = observations.filter((o) => compared.includes(o.treatment));
  if (new Set(used.map((o) => o.block)).size < 2) return null;
  if (compared.length < 2)
    return notApplicable("needs at least 2 configurations with 2 or more completed runs");
  return attempt(() => {
    const {
      treatment,
      block,
      residual,
      total,
      partialEtaSquared,
      relativeEfficiency,
      balanced,
      note,
      blocks,
    } = blockedAnova(used);
    return {
      configuration: treatment,
      block,
      residual,
      total,
      partialEtaSquared,
      relativeEfficiency,
      balanced,
      note,
      blocks,
    };
  });
}

/**
 * Every statistic of issue 9 §3 on the groups (one per configuration, values in kJ); with each
 * run's device block (`observations`: configuration, block, the same value), also the blocked ANOVA.
 */
export function energyStatistics(
  all: Group[],
  metric: EnergyMetric,
  observations: readonly BlockedObservation[] = [],
): ReportStatistics {
  const groups = all.filter((g) => g.values.length >= 2);
  const few = all.filter((g) => g.values.length < 2).map((g) => g.name);
  const fewNote = few.length ? ` (left out with fewer than 2 runs: ${few.join(", ")})` : "";
  const multi = groups.length >= 2;
  const needGroups = `needs at least 2 configurations with 2 or more completed runs${fewNote}`;

  const shapiro = all.map((g) => {
    const n = g.values.length;
    if (n < 3) return { configId: g.name, n, w: null, p: null, note: `needs at least 3 runs, has ${n}` };
    const r = attempt(() => shapiroWilk(g.values, g.name));
    return r.result
      ? { configId: g.name, n, w: r.result.w, p: r.result.p }
      : { configId: g.name, n, w: null, p: null, note: r.note };
  });

  const pairwise: PairComparison[] = [];
  for (let i = 0; i < all.length; i++)
    for (let j = i + 1; j < all.length; j++) {
      const a = all[i];
      const b = all[j];
      const ma = mean(a.values);
      const mb = mean(b.values);
      const base: PairComparison = {
        a: a.name,
        b: b.name,
        difference: ma - mb,
        relative: mb !== 0 ? (ma - mb) / mb : 0,
        t: null,
        df: null,
        p: null,
        pHolm: null,
        cohensD: null,
        hedgesG: null,
      };
      const r = attempt(() => tTest(a.values, b.values, { kind: "welch", labelA: a.name, labelB: b.name }));
      pairwise.push(
        r.result
          ? {
              ...base,
              t: r.result.t,
              df: r.result.df,
              p: r.result.p,
              cohensD: r.result.cohensD,
              hedgesG: r.result.hedgesG,
            }
          : { ...base, note: r.note },
      );
    }
  // Holm over the comparisons that could be tested (an untestable pair is not a comparison made).
  const tested = pairwise.filter((c) => c.p !== null);
  const adjusted = tested.length
    ? adjustPValues(
        tested.map((c) => c.p as number),
        "holm",
      )
    : [];
  tested.forEach((c, i) => {
    c.pHolm = adjusted[i];
  });

  const anovaOutcome = multi
    ? attempt(() => {
        const t = anova(groups, ALPHA);
        return {
          f: t.f,
          p: t.p,
          dfBetween: t.between.df,
          dfWithin: t.within.df,
          ssBetween: t.between.ss,
          ssWithin: t.within.ss,
          etaSquared: t.etaSquared,
          omegaSquared: t.omegaSquared,
        };
      })
    : notApplicable<NonNullable<ReportStatistics["anova"]["result"]>>(needGroups);

  return {
    metric,
    groups: groups.map((g) => g.name),
    shapiro,
    levene: multi ? attempt(() => levene(groups)) : notApplicable(needGroups),
    brownForsythe: multi ? attempt(() => brownForsythe(groups)) : notApplicable(needGroups),
    anova: anovaOutcome,
    welch: multi ? attempt(() => welchAnova(groups)) : notApplicable(needGroups),
    pairwise,
    tukey: multi
      ? attempt(() =>
          tukeyHsd(groups, ALPHA).comparisons.map((c) => ({
            a: c.a,
            b: c.b,
            difference: c.meanDifference,
            p: c.p,
            ci: c.ci,
          })),
        )
      : notApplicable(needGroups),
    power: replicatesNeeded(groups),
    blocked: blockedStatistics(
      observations,
      groups.map((g) => g.name),
    ),
  };
}

/**
 * Runs per configuration for 80 % power (two-sided Welch/Student t, α 0.05) to detect a
 * difference of 5 % of the grand mean, with the pooled within-configuration SD:
 * s_p² = Σ (n_i − 1) s_i² / Σ (n_i − 1), d = 0.05·x̄ / s_p.
 */
export function replicatesNeeded(groups: Group[]): ReportStatistics["power"] {
  if (!groups.length) return notApplicable("needs a configuration with at least 2 completed runs");
  let ss = 0;
  let df = 0;
  let total = 0;
  let count = 0;
  for (const g of groups) {
    const n = g.values.length;
    if (n >= 2) {
      ss += (n - 1) * standardDeviation(g.values) ** 2;
      df += n - 1;
    }
    for (let i = 0; i < n; i++) total += g.values[i];
    count += n;
  }
  const pooledSd = Math.sqrt(ss / df);
  const delta = DETECTABLE_FRACTION * Math.abs(total / count);
  if (pooledSd === 0)
    return notApplicable(
      "the runs of each configuration have identical energies (SD 0): any difference is detectable with 2 runs",
    );
  if (delta === 0) return notApplicable("the mean energy is 0: a 5 % difference is 0");
  const effect = delta / pooledSd;
  const r = attempt(() => tTestSampleSize({ effect, power: TARGET_POWER, alpha: ALPHA }));
  return r.result ? { result: { pooledSd, delta, effect, n: r.result.n } } : { result: null, note: r.note };
}

/** The TOST margin on test accuracy when the suite sets none: ±1 percentage point (issue 18). */
export const DEFAULT_EQUIVALENCE_MARGIN = 0.01;

/**
 * Does mixed precision keep the accuracy? For each mixed configuration, TOST (two one-sided Welch
 * t-tests, α) of mean test accuracy mixed − f32 twin against ±margin, beside the difference and
 * its Welch 95 % interval. `accuracies`: test accuracy (fraction) per run, by configuration id.
 */
export function accuracyEquivalence(
  configurations: readonly { id: string; config: RunConfiguration }[],
  accuracies: ReadonlyMap<string, readonly number[]>,
  margin: number,
  marginSource: AccuracyEquivalence["marginSource"],
): AccuracyEquivalence {
  const rows: EquivalenceRow[] = configurations
    .filter((c) => c.config.precision === "mixed")
    .map((m) => {
      const twin = f32Twin(m, configurations);
      const a = accuracies.get(m.id) ?? [];
      const b = twin ? (accuracies.get(twin.id) ?? []) : [];
      const row: EquivalenceRow = {
        mixed: m.id,
        f32: twin?.id ?? null,
        nMixed: a.length,
        nF32: b.length,
        difference: a.length && b.length ? mean(a) - mean(b) : null,
        ci95: null,
        ci90: null,
        pLower: null,
        pUpper: null,
        p: null,
        equivalent: null,
      };
      if (!twin) return { ...row, note: "no f32 configuration of the same batch and widths" };
      const welch = attempt(() => tTest(a, b, { kind: "welch", labelA: m.id, labelB: twin.id }));
      const r = attempt(() =>
        tost(a, b, -margin, margin, { kind: "welch", alpha: ALPHA, labelA: m.id, labelB: twin.id }),
      );
      if (!welch.result || !r.result) return { ...row, note: r.note ?? welch.note };
      return {
        ...row,
        ci95: welch.result.ci,
        ci90: r.result.ci,
        pLower: r.result.lower.p,
        pUpper: r.result.upper.p,
        p: r.result.p,
        equivalent: r.result.equivalent,
      };
    });
  return { margin, marginSource, alpha: ALPHA, rows };
}
