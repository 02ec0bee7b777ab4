// Descriptive statistics of one sample. Sums use Neumaier compensation and moments are taken
// about the mean (two-pass), so results match NumPy/SciPy to the last few ulps.
import { tQuantileUpper } from "./distributions.js";
import { requireCount, requireProbability, StatsInputError } from "./errors.js";

/** Compensated (Neumaier) sum. */
export function sum(values: ArrayLike<number>): number {
  let s = 0;
  let c = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const t = s + v;
    c += Math.abs(s) >= Math.abs(v) ? s - t + v : v - t + s;
    s = t;
  }
  return s + c;
}

/**
 * The binary exponent e with 2^e <= max|x| < 2^(e+1) over every sample (0 when all are zero).
 * Dividing by 2^e is exact and brings the values near 1, so squares and sums neither overflow
 * (values near 1e200) nor underflow (values near 1e-300); results are then scaled back.
 * For everyday magnitudes this changes no bit of any result: powers of two commute with rounding.
 */
export function commonExponent(...samples: ArrayLike<number>[]): number {
  let m = 0;
  for (const s of samples) for (let i = 0; i < s.length; i++) m = Math.max(m, Math.abs(s[i]));
  if (m === 0 || !Number.isFinite(m)) return 0;
  let e = Math.floor(Math.log2(m));
  // log2 can be off by one near powers of two; settle e exactly.
  while (ldexp(1, e) > m) e--;
  while (ldexp(1, e + 1) <= m) e++;
  return e;
}

/** x·2^e, exactly unless the result over- or underflows (in steps that stay within range). */
export function ldexp(x: number, e: number): number {
  let y = x;
  let k = e;
  while (k > 1000) {
    y *= 2 ** 1000;
    k -= 1000;
  }
  while (k < -1000) {
    y *= 2 ** -1000;
    k += 1000;
  }
  return y * 2 ** k;
}

/** values·2^(−e) as a new array. */
export function scaled(values: ArrayLike<number>, e: number): Float64Array {
  return Float64Array.from(values, (x) => ldexp(x, -e));
}

export function mean(values: ArrayLike<number>, label = "sample"): number {
  requireCount(values, 1, label);
  const e = commonExponent(values);
  return ldexp(sum(scaled(values, e)) / values.length, e);
}

/** Σ (x − mean)^power. */
function centralSum(values: ArrayLike<number>, m: number, power: number): number {
  const terms = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) terms[i] = (values[i] - m) ** power;
  return sum(terms);
}

/** Σ ((x − mean)/2^e)² and e: the second central moment sum at a safe scale. */
function scaledSquares(values: ArrayLike<number>): { m2: number; e: number } {
  const e = commonExponent(values);
  const x = scaled(values, e);
  return { m2: centralSum(x, sum(x) / x.length, 2), e };
}

/** Sample variance (divisor n − 1), Excel's VAR.S. Overflows to ∞ only if the variance itself does. */
export function variance(values: ArrayLike<number>, label = "sample"): number {
  requireCount(values, 2, label);
  const { m2, e } = scaledSquares(values);
  return ldexp(m2 / (values.length - 1), 2 * e);
}

/** Population variance (divisor n), Excel's VAR.P. */
export function populationVariance(values: ArrayLike<number>, label = "sample"): number {
  requireCount(values, 1, label);
  const { m2, e } = scaledSquares(values);
  return ldexp(m2 / values.length, 2 * e);
}

/** Sample SD, computed at a safe scale: finite and non-zero whenever the true SD is. */
export function standardDeviation(values: ArrayLike<number>, label = "sample"): number {
  requireCount(values, 2, label);
  const { m2, e } = scaledSquares(values);
  return ldexp(Math.sqrt(m2 / (values.length - 1)), e);
}

export function populationStandardDeviation(values: ArrayLike<number>, label = "sample"): number {
  requireCount(values, 1, label);
  const { m2, e } = scaledSquares(values);
  return ldexp(Math.sqrt(m2 / values.length), e);
}

/** Standard error of the mean, s/√n. */
export function standardError(values: ArrayLike<number>, label = "sample"): number {
  return standardDeviation(values, label) / Math.sqrt(values.length);
}

export function min(values: ArrayLike<number>, label = "sample"): number {
  requireCount(values, 1, label);
  let m = values[0];
  for (let i = 1; i < values.length; i++) if (values[i] < m) m = values[i];
  return m;
}

export function max(values: ArrayLike<number>, label = "sample"): number {
  requireCount(values, 1, label);
  let m = values[0];
  for (let i = 1; i < values.length; i++) if (values[i] > m) m = values[i];
  return m;
}

export function median(values: ArrayLike<number>, label = "sample"): number {
  return quantile(values, 0.5, 7, label);
}

/** Hyndman & Fan (1996) continuous sample quantile types 4–9, as (α, β) plotting positions. */
const QUANTILE_PARAMETERS: Record<number, [number, number]> = {
  4: [0, 1], // linear interpolation of the empirical cdf
  5: [0.5, 0.5], // Hazen
  6: [0, 0], // Weibull; Excel PERCENTILE.EXC, Minitab, SPSS
  7: [1, 1], // Gumbel; R and NumPy default, Excel PERCENTILE.INC
  8: [1 / 3, 1 / 3], // median-unbiased (Hyndman & Fan's recommendation)
  9: [3 / 8, 3 / 8], // normal-unbiased (Blom)
};

export type QuantileType = 4 | 5 | 6 | 7 | 8 | 9;

/**
 * Sample quantile at probability p, Hyndman–Fan `type` (default 7, like R's quantile() and
 * numpy.quantile's default "linear"). The 1-based position is h = n·p + α + p(1 − α − β);
 * the result interpolates linearly between the order statistics around h, clamped to the ends.
 */
export function quantile(
  values: ArrayLike<number>,
  p: number,
  type: QuantileType = 7,
  label = "sample",
): number {
  requireCount(values, 1, label);
  if (!(p >= 0 && p <= 1)) throw new StatsInputError(`quantile probability must be in [0, 1], got ${p}`);
  const params = QUANTILE_PARAMETERS[type];
  if (!params) throw new StatsInputError(`quantile type must be 4..9, got ${type}`);
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  const [alpha, beta] = params;
  const h = n * p + alpha + p * (1 - alpha - beta);
  const j = Math.floor(h);
  const g = h - j;
  const at = (i: number) => sorted[Math.min(n, Math.max(1, i)) - 1];
  const lower = at(j);
  const upper = at(j + 1);
  if (g === 0 || lower === upper) return lower;
  // lower + g·(upper − lower), kept inside [lower, upper] despite rounding.
  return Math.min(upper, Math.max(lower, lower + g * (upper - lower)));
}

/** The values at a safe scale and their mean; throws when they have no spread. */
function requireSpread(values: ArrayLike<number>, label: string): { x: Float64Array; m: number } {
  requireCount(values, 1, label);
  const x = scaled(values, commonExponent(values));
  const m = sum(x) / x.length;
  if (centralSum(x, m, 2) === 0)
    throw new StatsInputError(`${label}: all values are equal, so the shape statistic is undefined`);
  return { x, m };
}

/** Population skewness g1 = m3 / m2^{3/2} (scipy.stats.skew with bias=True). */
export function populationSkewness(values: ArrayLike<number>, label = "sample"): number {
  requireCount(values, 2, label);
  const { x, m } = requireSpread(values, label);
  const n = values.length;
  return centralSum(x, m, 3) / n / (centralSum(x, m, 2) / n) ** 1.5;
}

/** Bias-corrected skewness G1 = g1·√(n(n−1))/(n−2): Excel's SKEW, scipy skew(bias=False). */
export function skewness(values: ArrayLike<number>, label = "sample"): number {
  requireCount(values, 3, label);
  const n = values.length;
  return (populationSkewness(values, label) * Math.sqrt(n * (n - 1))) / (n - 2);
}

/** Population excess kurtosis g2 = m4/m2² − 3 (scipy.stats.kurtosis with bias=True). */
export function populationKurtosis(values: ArrayLike<number>, label = "sample"): number {
  requireCount(values, 2, label);
  const { x, m } = requireSpread(values, label);
  const n = values.length;
  return centralSum(x, m, 4) / n / (centralSum(x, m, 2) / n) ** 2 - 3;
}

/**
 * Bias-corrected excess kurtosis, Excel's KURT and scipy kurtosis(bias=False):
 * G2 = ((n+1)·g2 + 6)·(n−1) / ((n−2)(n−3)).
 */
export function kurtosis(values: ArrayLike<number>, label = "sample"): number {
  requireCount(values, 4, label);
  const n = values.length;
  return (((n + 1) * populationKurtosis(values, label) + 6) * (n - 1)) / ((n - 2) * (n - 3));
}

/** Two-sided t confidence interval of the mean: x̄ ± t_{1−α/2, n−1}·s/√n. */
export function meanConfidenceInterval(
  values: ArrayLike<number>,
  confidence = 0.95,
  label = "sample",
): [number, number] {
  requireProbability(confidence, "confidence level");
  const m = mean(values, label);
  const half = tQuantileUpper((1 - confidence) / 2, values.length - 1) * standardError(values, label);
  return [m - half, m + half];
}

export interface Description {
  name: string;
  count: number;
  sum: number;
  mean: number;
  variance: number;
  sd: number;
  sem: number;
  /** Bias-corrected (Excel SKEW); null when n < 3 or all values are equal. */
  skewness: number | null;
  /** Bias-corrected excess (Excel KURT); null when n < 4 or all values are equal. */
  kurtosis: number | null;
  min: number;
  max: number;
  ci95: [number, number];
}

function orNull(f: () => number): number | null {
  try {
    return f();
  } catch (e) {
    if (e instanceof StatsInputError) return null;
    throw e;
  }
}

/** Everything Excel's "Descriptive Statistics" tool reports, for one named sample (n ≥ 2). */
export function describe(name: string, values: ArrayLike<number>): Description {
  requireCount(values, 2, name);
  const v = variance(values, name);
  const sd = standardDeviation(values, name);
  const total = ldexp(sum(scaled(values, commonExponent(values))), commonExponent(values));
  // Values near 1e200 have a variance near 1e400, values near 1e-300 one near 1e-600: neither is
  // a double. Refuse rather than print ∞ or a zero variance beside a non-zero SD.
  const what = !Number.isFinite(total)
    ? "sum exceeds"
    : !Number.isFinite(v)
      ? `variance (SD² = (${sd.toExponential(3)})²) exceeds`
      : v === 0 && sd > 0
        ? `variance (SD² = (${sd.toExponential(3)})²) falls below`
        : null;
  if (what)
    throw new StatsInputError(
      `${name}: the ${what} double precision's range; rescale the values (e.g. change their unit) and run again`,
      {},
      "E_RANGE",
    );
  return {
    name,
    count: values.length,
    sum: total,
    mean: mean(values, name),
    variance: v,
    sd,
    sem: sd / Math.sqrt(values.length),
    skewness: orNull(() => skewness(values, name)),
    kurtosis: orNull(() => kurtosis(values, name)),
    min: min(values, name),
    max: max(values, name),
    ci95: meanConfidenceInterval(values, 0.95, name),
  };
}
