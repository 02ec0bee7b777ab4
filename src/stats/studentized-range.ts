// The studentized range distribution (Tukey's HSD), by numerical integration.
//
// jStat.tukey.cdf is a port of R's ptukey; checked against scipy.stats.studentized_range it is
// off by ~1e-7 absolute (e.g. q=8, k=3, ν=5: 0.99444220 vs 0.99444212), i.e. 1e-5 relative on
// the p-value. So both tails are integrated here, directly:
//
//   range of k standard normals:  P(R > w) = k ∫ φ(z) [Q(z)^{k-1} − (Q(z) − Q(z+w))^{k-1}] dz
//                                 P(R ≤ w) = k ∫ φ(z) [Φ(z+w) − Φ(z)]^{k-1} dz
//   studentized range q = R / s, s = sqrt(χ²_ν/ν) with density
//     f(s) = ν^{ν/2} s^{ν−1} e^{−νs²/2} / (Γ(ν/2) 2^{ν/2−1}),
//   P(Q > q) = ∫ f(s) P(R > q s) ds.
// (The first identity uses 1 = k ∫ φ(z) Q(z)^{k-1} dz: exactly one of the k values is the minimum.)
// Composite Gauss–Legendre on fixed panels; relative accuracy ~1e-10 where the tail is above 1e-14.
import { findRoot, gaussLegendre, logGamma, normalCdf, normalPdf, normalSf } from "./special.js";

const RULE = gaussLegendre(10);
const Z_LO = -12;
const Z_HI = 12;
const Z_PANELS = 48;

/** Nodes and weights of a composite Gauss–Legendre rule on [lo, hi]. */
function compositeRule(lo: number, hi: number, panels: number): { x: number[]; w: number[] } {
  const x: number[] = [];
  const w: number[] = [];
  const h = (hi - lo) / panels;
  for (let p = 0; p < panels; p++) {
    const mid = lo + (p + 0.5) * h;
    for (let i = 0; i < RULE.nodes.length; i++) {
      x.push(mid + 0.5 * h * RULE.nodes[i]);
      w.push(0.5 * h * RULE.weights[i]);
    }
  }
  return { x, w };
}

const Z_RULE = compositeRule(Z_LO, Z_HI, Z_PANELS);
const Z_PDF = Z_RULE.x.map(normalPdf);
const Z_SF = Z_RULE.x.map(normalSf);
const Z_CDF = Z_RULE.x.map(normalCdf);

/** P(R > w) for the range R of k independent standard normals. */
function rangeSf(w: number, k: number): number {
  if (w <= 0) return 1;
  const m = k - 1;
  let sum = 0;
  for (let i = 0; i < Z_RULE.x.length; i++) {
    const a = Z_SF[i];
    if (a === 0 || Z_PDF[i] < 1e-22) continue; // beyond |z| ≈ 9.8 nothing is left to add
    const d = normalSf(Z_RULE.x[i] + w); // Q(z+w): what the range leaves above z+w
    // a^m − (a−d)^m = a^m·(1 − (1 − d/a)^m), formed without cancellation.
    const diff = a ** m * -Math.expm1(m * Math.log1p(-d / a));
    sum += Z_RULE.w[i] * Z_PDF[i] * diff;
  }
  return Math.min(1, k * sum);
}

/** P(R <= w) for the range R of k independent standard normals. */
function rangeCdf(w: number, k: number): number {
  if (w <= 0) return 0;
  let sum = 0;
  for (let i = 0; i < Z_RULE.x.length; i++) {
    const z = Z_RULE.x[i];
    // Φ(z+w) − Φ(z), using whichever tail is small to avoid cancellation.
    const inside = z > 0 ? Z_SF[i] - normalSf(z + w) : normalCdf(z + w) - Z_CDF[i];
    sum += Z_RULE.w[i] * Z_PDF[i] * inside ** (k - 1);
  }
  return Math.min(1, k * sum);
}

/** Range values w where P(R > w) changes fastest; s = w/q become extra panel breakpoints. */
const RANGE_BREAKS = [0.5, 1, 2, 3, 4, 6, 8, 12];

/**
 * Integrate g(s)·f(s) over the density of s = sqrt(χ²_ν/ν). The integrand g(s) = P(R > q s)
 * falls from 1 to 0 around s ≈ 3/q, which for large q and small ν (heavy tails) lies far left
 * of the bulk of f; breakpoints at s = w/q keep that transition resolved.
 */
function integrateOverS(df: number, q: number, g: (s: number) => number): number {
  if (!Number.isFinite(df) || df > 1e7) return g(1);
  const spread = 9 / Math.sqrt(df);
  const lo = Math.max(0, 1 - spread);
  const hi = 1 + Math.max(spread, 0.5) * (df < 3 ? 1.3 : 1);
  const breaks = [lo, ...RANGE_BREAKS.map((w) => w / q).filter((s) => s > lo && s < hi), hi];
  const logNorm = (df / 2) * Math.log(df) - logGamma(df / 2) - (df / 2 - 1) * Math.LN2;
  let sum = 0;
  for (let b = 0; b + 1 < breaks.length; b++) {
    const rule = compositeRule(breaks[b], breaks[b + 1], 8);
    for (let i = 0; i < rule.x.length; i++) {
      const s = rule.x[i];
      const logDensity = logNorm + (df - 1) * Math.log(s) - (df * s * s) / 2;
      sum += rule.w[i] * Math.exp(logDensity) * g(s);
    }
  }
  return sum;
}

/** P(Q > q) for the studentized range with k groups and ν error degrees of freedom. */
export function studentizedRangeSf(q: number, k: number, df: number): number {
  if (q <= 0) return 1;
  return Math.min(
    1,
    Math.max(
      0,
      integrateOverS(df, q, (s) => rangeSf(q * s, k)),
    ),
  );
}

/** P(Q <= q). */
export function studentizedRangeCdf(q: number, k: number, df: number): number {
  if (q <= 0) return 0;
  return Math.min(
    1,
    Math.max(
      0,
      integrateOverS(df, q, (s) => rangeCdf(q * s, k)),
    ),
  );
}

/** q with P(Q > q) = p (the HSD critical value at significance level p). */
export function studentizedRangeQuantileUpper(p: number, k: number, df: number): number {
  let hi = 4;
  while (studentizedRangeSf(hi, k, df) > p) hi *= 2;
  return findRoot((q) => studentizedRangeSf(q, k, df) - p, 0, hi, 100);
}
