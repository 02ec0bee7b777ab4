// Two-way ANOVA without interaction, y ~ treatment + block: the randomised complete block design
// (RCBD). A suite run on several GPUs or nodes runs each block of configurations on one device, so
// a constant offset between devices is a nuisance factor; fitting it takes it out of the error.
//
// Unbalanced data (a block that lost a run) are handled with type II sums of squares, each factor
// adjusted for the other — statsmodels' anova_lm(ols("y ~ C(t) + C(b)"), typ=2):
//   SS_treatment = RSS(y ~ block) − RSS(y ~ treatment + block)
//   SS_block     = RSS(y ~ treatment) − RSS(y ~ treatment + block)
// In a balanced design (equal counts in every cell) these equal the textbook RCBD sums of squares
// (Montgomery, Design and Analysis of Experiments, ch. 4) and SS_t + SS_b + SS_e = SS_total; in an
// unbalanced one they do not add up, and the result says so.
import { commonExponent, ldexp, scaled, sum } from "./descriptive.js";
import { fSf } from "./distributions.js";
import { StatsInputError } from "./errors.js";

/** One observation: its treatment (configuration) and its block (device) label. */
export interface BlockedObservation {
  treatment: string;
  block: string;
  value: number;
}

export interface BlockedAnovaEffect {
  ss: number;
  df: number;
  ms: number;
  f: number;
  p: number;
}

export interface BlockedAnovaTable {
  treatment: BlockedAnovaEffect;
  block: BlockedAnovaEffect;
  residual: { ss: number; df: number; ms: number };
  /** Corrected total Σ (y − ȳ)²; equals the sum of the rows above only in a balanced design. */
  total: { ss: number; df: number };
  /** SS_treatment / (SS_treatment + SS_residual). */
  partialEtaSquared: number;
  /** Relative efficiency of this design against a completely randomised one (see blockingEfficiency). */
  relativeEfficiency: number;
  /** Always type II (each factor adjusted for the other); type I and III coincide with it when balanced. */
  sumsOfSquares: "type II";
  /** Every treatment × block cell holds the same number of observations. */
  balanced: boolean;
  /** Treatment and block labels in order of first appearance. */
  treatments: string[];
  blocks: string[];
  /** counts[i][j]: observations of treatments[i] in blocks[j]. */
  counts: number[][];
  /** How the sums of squares were formed, in a sentence the report can show. */
  note: string;
}

/**
 * Relative efficiency of the RCBD against a completely randomised design (CRD) of the same runs:
 * how many times more replicates a CRD would need for the same error variance. Montgomery,
 * Design and Analysis of Experiments (ch. 4, "relative efficiency" of the RCBD; after Fisher's
 * degrees-of-freedom correction, as in Cochran & Cox, Experimental Designs, 1957):
 *   R = [(df_b + 1)(df_r + 3)] / [(df_b + 3)(df_r + 1)] · σ̂²_r / σ̂²_b
 * with σ̂²_b = MS_E of the RCBD (df_b its df), and the CRD's error variance estimated from the
 * RCBD's table, σ̂²_r = [(b − 1)·MS_blocks + b(a − 1)·MS_E] / (ab − 1) (df_r = a(b − 1)).
 * Written generally (several runs per cell, unbalanced): σ̂²_r = [SS_blocks + (df_t + df_e)·MS_E]
 * / (n − 1) and df_r = n − a, which reduce to the book's for one run per cell.
 * R > 1: blocking helped; R < 1: the blocks cost more degrees of freedom than they removed.
 */
export function blockingEfficiency(t: {
  treatment: { df: number };
  block: { ss: number; df: number };
  residual: { df: number; ms: number };
}): number {
  const dfRcbd = t.residual.df;
  const dfCrd = t.block.df + t.residual.df;
  const crdVariance =
    (t.block.ss + (t.treatment.df + t.residual.df) * t.residual.ms) /
    (t.block.df + t.treatment.df + t.residual.df);
  const dfFactor = ((dfRcbd + 1) * (dfCrd + 3)) / ((dfRcbd + 3) * (dfCrd + 1));
  return (dfFactor * crdVariance) / t.residual.ms;
}

/** Levels in order of first appearance, and each observation's level index. */
function levels(labels: string[]): { names: string[]; index: Int32Array } {
  const names: string[] = [];
  const seen = new Map<string, number>();
  const index = new Int32Array(labels.length);
  labels.forEach((l, i) => {
    let k = seen.get(l);
    if (k === undefined) {
      k = names.length;
      seen.set(l, k);
      names.push(l);
    }
    index[i] = k;
  });
  return { names, index };
}

/** Σ over groups of Σ (y − ȳ_group)², two-pass, compensated sums. */
function withinGroupSs(y: Float64Array, group: Int32Array, groups: number): number {
  const totals = Array.from({ length: groups }, () => [] as number[]);
  for (let i = 0; i < y.length; i++) totals[group[i]].push(y[i]);
  const means = totals.map((v) => (v.length ? sum(v) / v.length : 0));
  const terms = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) terms[i] = (y[i] - means[group[i]]) ** 2;
  return sum(terms);
}

/**
 * The residual sum of squares of the least-squares fit of y on the columns (Householder QR,
 * backward stable): after applying Qᵀ to y, RSS = Σ of the entries below the p-th.
 * The columns must be linearly independent (the caller checks that the design is connected).
 */
function leastSquaresRss(columns: Float64Array[], y: Float64Array): number {
  const n = y.length;
  const a = columns.map((c) => Float64Array.from(c));
  const r = Float64Array.from(y);
  for (let j = 0; j < a.length; j++) {
    const col = a[j];
    // The columns are 0/1 indicators (and their reflections): no overflow in a plain Σx².
    let sq = 0;
    for (let i = j; i < n; i++) sq += col[i] * col[i];
    const norm = Math.sqrt(sq);
    const originalNorm = Math.sqrt(columns[j].reduce((s, x) => s + x * x, 0));
    if (norm <= 1e-10 * originalNorm)
      throw new StatsInputError("the treatment and block effects cannot be separated in these data");
    const alpha = col[j] > 0 ? -norm : norm;
    // v = x − α·e₁, H = I − 2vvᵀ/vᵀv; applied to the columns to the right and to y.
    const v = col.slice(j);
    v[0] -= alpha;
    const vv = v.reduce((s, x) => s + x * x, 0);
    const reflect = (x: Float64Array) => {
      let dot = 0;
      for (let i = j; i < n; i++) dot += v[i - j] * x[i];
      const k = (2 * dot) / vv;
      for (let i = j; i < n; i++) x[i] -= k * v[i - j];
    };
    for (let k = j + 1; k < a.length; k++) reflect(a[k]);
    reflect(r);
    col[j] = alpha;
  }
  const tail = new Float64Array(n - a.length);
  for (let i = a.length; i < n; i++) tail[i - a.length] = r[i] ** 2;
  return sum(tail);
}

/**
 * Whether every treatment is linked to every other through shared blocks (the bipartite graph of
 * treatments and blocks with an edge per non-empty cell is connected). If not, treatment and block
 * effects are confounded and the additive model cannot separate them. Returns the treatment
 * labels of each connected part.
 */
function connectedParts(counts: number[][], treatments: string[]): string[][] {
  const a = counts.length;
  const b = counts[0].length;
  const parent = Array.from({ length: a + b }, (_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]];
      x = parent[x];
    }
    return x;
  };
  for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) if (counts[i][j] > 0) parent[find(i)] = find(a + j);
  const parts = new Map<number, string[]>();
  for (let i = 0; i < a; i++) {
    const root = find(i);
    parts.set(root, [...(parts.get(root) ?? []), treatments[i]]);
  }
  return [...parts.values()];
}

/**
 * RCBD / two-way additive ANOVA, y ~ treatment + block, with type II sums of squares. Refuses
 * (StatsInputError) non-finite values, fewer than 2 treatments or blocks, treatments that share no
 * block, no residual degrees of freedom, and a zero residual (an exact fit: F undefined).
 * Computed at a safe power-of-two scale like anova(); F, p and the ratios are scale-free.
 */
export function blockedAnova(observations: readonly BlockedObservation[]): BlockedAnovaTable {
  observations.forEach((o, i) => {
    const where = `observation ${i + 1} (treatment ${JSON.stringify(o.treatment)}, block ${JSON.stringify(o.block)})`;
    if (typeof o.treatment !== "string" || o.treatment === "")
      throw new StatsInputError(`${where}: the treatment label is empty`);
    if (typeof o.block !== "string" || o.block === "")
      throw new StatsInputError(`${where}: the block label is empty`);
    if (typeof o.value !== "number" || !Number.isFinite(o.value))
      throw new StatsInputError(`${where}: value is not a finite number (${o.value})`);
  });
  const t = levels(observations.map((o) => o.treatment));
  const b = levels(observations.map((o) => o.block));
  const n = observations.length;
  const na = t.names.length;
  const nb = b.names.length;
  if (na < 2)
    throw new StatsInputError(
      `a blocked ANOVA needs at least 2 treatments, got ${na}${na ? ` (${JSON.stringify(t.names[0])})` : ""}`,
    );
  if (nb < 2)
    throw new StatsInputError(
      `a blocked ANOVA needs at least 2 blocks, got ${nb} (${JSON.stringify(b.names[0])}): with one block use the one-way ANOVA`,
    );
  const counts = t.names.map(() => new Array<number>(nb).fill(0));
  for (let i = 0; i < n; i++) counts[t.index[i]][b.index[i]]++;
  const parts = connectedParts(counts, t.names);
  if (parts.length > 1)
    throw new StatsInputError(
      `the treatments fall into groups that share no block (${parts.map((p) => `{${p.join(", ")}}`).join(" vs ")}), so treatment and block effects are confounded; run every configuration in every block`,
    );
  const dfTreatment = na - 1;
  const dfBlock = nb - 1;
  const dfResidual = n - na - nb + 1;
  if (dfResidual < 1)
    throw new StatsInputError(
      `no residual degrees of freedom: ${n} observations in ${na} treatments × ${nb} blocks leave n − a − b + 1 = ${dfResidual}; the additive model fits them exactly, so there is no error to test against`,
    );

  // A power of two (exact) keeps the squares in range; the grand mean is subtracted so that a
  // large common offset does not cost precision in the least-squares fit.
  const e = commonExponent(observations.map((o) => o.value));
  const raw = scaled(
    observations.map((o) => o.value),
    e,
  );
  const grand = sum(raw) / n;
  const y = raw.map((v) => v - grand);
  const ssTotal = sum(y.map((v) => v * v));
  const rssTreatmentOnly = withinGroupSs(y, t.index, na);
  const rssBlockOnly = withinGroupSs(y, b.index, nb);
  const column = (pick: (i: number) => boolean) =>
    Float64Array.from({ length: n }, (_, i) => (pick(i) ? 1 : 0));
  const design = [
    column(() => true),
    ...Array.from({ length: dfTreatment }, (_, k) => column((i) => t.index[i] === k + 1)),
    ...Array.from({ length: dfBlock }, (_, k) => column((i) => b.index[i] === k + 1)),
  ];
  const rssFull = leastSquaresRss(design, y);
  // An exact additive fit leaves rounding residue, not 0: QR's residual is accurate to about
  // n·ε·‖y‖, so anything under (64·n·ε)²·SS_total is zero to double precision.
  if (!(rssFull > (64 * n * Number.EPSILON) ** 2 * ssTotal))
    throw new StatsInputError(
      "the residual sum of squares is zero to double precision (treatment and block effects fit every value exactly), so the F ratios are undefined (division by zero)",
    );
  // Rounding can leave a difference of nearly equal sums a hair below zero.
  const ssTreatment = Math.max(0, rssBlockOnly - rssFull);
  const ssBlock = Math.max(0, rssTreatmentOnly - rssFull);
  const msResidual = rssFull / dfResidual;
  const effect = (ss: number, df: number): BlockedAnovaEffect => {
    const f = ss / df / msResidual;
    return { ss, df, ms: ss / df, f, p: fSf(f, df, dfResidual) };
  };
  const scaledTable = {
    treatment: effect(ssTreatment, dfTreatment),
    block: effect(ssBlock, dfBlock),
    residual: { ss: rssFull, df: dfResidual, ms: msResidual },
    total: { ss: ssTotal, df: n - 1 },
  };
  const back = (x: number) => ldexp(x, 2 * e);
  const table = {
    treatment: { ...scaledTable.treatment, ss: back(ssTreatment), ms: back(scaledTable.treatment.ms) },
    block: { ...scaledTable.block, ss: back(ssBlock), ms: back(scaledTable.block.ms) },
    residual: { ss: back(rssFull), df: dfResidual, ms: back(msResidual) },
    total: { ss: back(ssTotal), df: n - 1 },
  };
  const pairs: [number, number][] = [
    [table.treatment.ss, ssTreatment],
    [table.block.ss, ssBlock],
    [table.residual.ss, rssFull],
    [table.residual.ms, msResidual],
    [table.total.ss, ssTotal],
  ];
  if (pairs.some(([x, s]) => !Number.isFinite(x) || (x === 0 && s !== 0)))
    throw new StatsInputError(
      "the sums of squares are outside double precision's range for values of this magnitude; rescale the values (e.g. change their unit) and run again",
      {},
      "E_RANGE",
    );
  const cell = counts[0][0];
  const balanced = counts.every((row) => row.every((c) => c === cell));
  const missing = counts.flatMap((row, i) =>
    row.flatMap((c, j) => (c === 0 ? [`${t.names[i]} in ${b.names[j]}`] : [])),
  );
  return {
    ...table,
    partialEtaSquared: ssTreatment / (ssTreatment + rssFull),
    relativeEfficiency: blockingEfficiency(scaledTable),
    sumsOfSquares: "type II",
    balanced,
    treatments: t.names,
    blocks: b.names,
    counts,
    note: balanced
      ? `balanced (${cell} per treatment and block): type II sums of squares, equal to the classic RCBD ones, and treatment + block + residual = total`
      : `unbalanced (${missing.length ? `missing: ${missing.join("; ")}` : "unequal counts per treatment and block"}): type II sums of squares, each factor adjusted for the other (statsmodels anova_lm typ=2), which do not add up to the total`,
  };
}
