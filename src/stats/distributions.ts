// Central and noncentral t and F distributions: cdf, survival function (computed directly, so
// small p-values keep their relative precision) and quantiles.
import jStat from "jstat";
import { betaIncomplete, findRoot, logGamma, normalCdf, normalSf } from "./special.js";

/** P(T <= t) for Student's t with `df` degrees of freedom. */
export function tCdf(t: number, df: number): number {
  return tSf(-t, df);
}

/** P(T > t): 0.5·I_{ν/(ν+t²)}(ν/2, 1/2) for t > 0 (Abramowitz & Stegun 26.5.27). */
export function tSf(t: number, df: number): number {
  if (Number.isNaN(t)) return Number.NaN;
  if (t === Number.POSITIVE_INFINITY) return 0;
  if (t === Number.NEGATIVE_INFINITY) return 1;
  const t2 = t * t;
  const tail = 0.5 * betaIncomplete(df / (df + t2), df / 2, 0.5, t2 / (df + t2)).lower;
  return t > 0 ? tail : 1 - tail;
}

/**
 * Upper-tail probability p → t with P(T > t) = p. Searched on the survival function itself,
 * starting near jstat's estimate.
 */
export function tQuantileUpper(p: number, df: number): number {
  if (p === 0.5) return 0;
  if (p > 0.5) return -tQuantileUpper(1 - p, df);
  const guess = Math.abs(jStat.studentt.inv(1 - p, df));
  let hi = Number.isFinite(guess) && guess > 0 ? guess * 1.01 + 1e-3 : 1;
  while (tSf(hi, df) > p) hi *= 2;
  return findRoot((t) => tSf(t, df) - p, 0, hi);
}

/** P(F <= f) for the F distribution with (d1, d2) degrees of freedom. */
export function fCdf(f: number, d1: number, d2: number): number {
  if (f <= 0) return 0;
  if (f === Number.POSITIVE_INFINITY) return 1;
  return betaIncomplete((d1 * f) / (d1 * f + d2), d1 / 2, d2 / 2, d2 / (d1 * f + d2)).lower;
}

/** P(F > f), computed directly as I_{d2/(d2+d1 f)}(d2/2, d1/2). */
export function fSf(f: number, d1: number, d2: number): number {
  if (f <= 0) return 1;
  if (f === Number.POSITIVE_INFINITY) return 0;
  return betaIncomplete((d1 * f) / (d1 * f + d2), d1 / 2, d2 / 2, d2 / (d1 * f + d2)).upper;
}

/** f with P(F > f) = p: the critical value at significance level p (Excel's F.INV.RT). */
export function fQuantileUpper(p: number, d1: number, d2: number): number {
  const guess = jStat.centralF.inv(1 - p, d1, d2);
  let hi = Number.isFinite(guess) && guess > 0 ? guess * 1.01 + 1e-3 : 1;
  while (fSf(hi, d1, d2) > p) hi *= 2;
  return findRoot((f) => fSf(f, d1, d2) - p, 0, hi);
}

/**
 * Poisson-weighted sum Σ_j w(j)·term(j), started at the mode of the weights and walked down
 * and up until the weights are negligible (terms are probabilities, so bounded by 1).
 * `logWeight(j)` is the log of the j-th weight.
 */
function sumFromMode(
  mode: number,
  logWeight: (j: number) => number,
  term: (j: number, w: number) => number,
): number {
  let total = 0;
  for (let j = mode; j >= 0; j--) {
    const w = Math.exp(logWeight(j));
    total += term(j, w);
    if (w < 1e-18 && j < mode - 5) break;
  }
  for (let j = mode + 1; ; j++) {
    const w = Math.exp(logWeight(j));
    total += term(j, w);
    if (w < 1e-18 && j > mode + 5) break;
  }
  return total;
}

/**
 * Noncentral t cdf P(T <= t; ν, δ) for t >= 0, by the series of Lenth (1989, AS 243):
 * Φ(-δ) + ½ Σ_j [p_j I_x(j+½, ν/2) + q_j I_x(j+1, ν/2)], x = t²/(t²+ν),
 * p_j = e^{-δ²/2}(δ²/2)^j/j!, q_j = δ e^{-δ²/2}(δ²/2)^j/(√2 Γ(j+3/2)).
 */
function noncentralTCdfNonNegative(t: number, df: number, delta: number): number {
  const t2 = t * t;
  const x = t2 / (t2 + df);
  const y = df / (t2 + df);
  const lambda = (delta * delta) / 2;
  if (lambda === 0) return 1 - tSf(t, df);
  const logLambda = Math.log(lambda);
  const mode = Math.floor(lambda);
  const series = sumFromMode(
    mode,
    (j) => -lambda + j * logLambda - logGamma(j + 1),
    (j, pj) => {
      // q_j / p_j = δ Γ(j+1) / (√2 Γ(j+3/2))
      const qj = Math.sign(delta) * Math.exp(-lambda + (j + 0.5) * logLambda - logGamma(j + 1.5));
      return (
        pj * betaIncomplete(x, j + 0.5, df / 2, y).lower + qj * betaIncomplete(x, j + 1, df / 2, y).lower
      );
    },
  );
  return normalCdf(-delta) + 0.5 * series;
}

/** Noncentral t cdf P(T <= t; ν, δ). */
export function noncentralTCdf(t: number, df: number, delta: number): number {
  if (t >= 0) return Math.min(1, Math.max(0, noncentralTCdfNonNegative(t, df, delta)));
  // T(δ) <= t  ⇔  -T(δ) >= -t, and -T(δ) is T(-δ).
  return Math.min(1, Math.max(0, 1 - noncentralTCdfNonNegative(-t, df, -delta)));
}

export function noncentralTSf(t: number, df: number, delta: number): number {
  return 1 - noncentralTCdf(t, df, delta);
}

/**
 * Noncentral F survival function P(F > f; d1, d2, λ) as the Poisson(λ/2) mixture of central
 * beta tails: Σ_j Pois(j; λ/2)·[1 - I_y(d1/2 + j, d2/2)], y = d1 f/(d1 f + d2).
 */
export function noncentralFSf(f: number, d1: number, d2: number, lambda: number): number {
  if (f <= 0) return 1;
  if (lambda === 0) return fSf(f, d1, d2);
  const x = (d1 * f) / (d1 * f + d2);
  const y = d2 / (d1 * f + d2);
  const half = lambda / 2;
  const logHalf = Math.log(half);
  return sumFromMode(
    Math.floor(half),
    (j) => -half + j * logHalf - logGamma(j + 1),
    (j, w) => w * betaIncomplete(x, d1 / 2 + j, d2 / 2, y).upper,
  );
}

export function noncentralFCdf(f: number, d1: number, d2: number, lambda: number): number {
  return 1 - noncentralFSf(f, d1, d2, lambda);
}

export { normalCdf, normalSf };
