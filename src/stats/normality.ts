// Shapiro–Wilk W test for normality, by Royston's algorithm: J. P. Royston (1995), "Remark AS R94:
// A remark on Algorithm AS 181: The W-test for normality", Applied Statistics 44(4), 547–551.
// Valid for 3 <= n <= 5000. W is the squared correlation between the ordered sample and the
// coefficients a; its p-value comes from Royston's normalising transformations of log(1 − W).
import { requireCount, StatsInputError } from "./errors.js";
import { normalQuantile, normalSf } from "./special.js";

// Polynomials from Royston (1995), lowest power first.
/** Correction for the largest coefficient a_n, in u = 1/√n. */
const A_N = [0, 0.221157, -0.147981, -2.07119, 4.434685, -2.706056];
/** Correction for the second-largest coefficient a_{n−1}, in u = 1/√n. */
const A_N1 = [0, 0.042981, -0.293762, -1.752461, 5.682633, -3.582633];
/** n = 4..11: γ, μ and log σ of −log(γ − log(1 − W)), in n. */
const SMALL_GAMMA = [-2.273, 0.459];
const SMALL_MU = [0.544, -0.39978, 0.025054, -6.714e-4];
const SMALL_LOG_SIGMA = [1.3822, -0.77857, 0.062767, -0.0020322];
/** n >= 12: μ and log σ of log(1 − W), in log n. */
const LARGE_MU = [-1.5861, -0.31082, -0.083751, 0.0038915];
const LARGE_LOG_SIGMA = [-0.4803, -0.082676, 0.0030302];

function poly(c: number[], x: number): number {
  let r = 0;
  for (let i = c.length - 1; i >= 0; i--) r = r * x + c[i];
  return r;
}

/**
 * The n/2 largest Shapiro–Wilk coefficients a_n, a_{n−1}, …, (the rest are their negatives).
 * Start from Blom-type normal scores m_i = Φ⁻¹((i − 3/8)/(n + 1/4)), normalise, and replace the
 * one or two extreme coefficients by Royston's polynomial approximations.
 */
export function shapiroWilkCoefficients(n: number): Float64Array {
  const half = Math.floor(n / 2);
  const a = new Float64Array(half);
  if (n === 3) {
    a[0] = Math.SQRT1_2;
    return a;
  }
  // m[i] for the upper half, largest first (m is antisymmetric).
  const m = new Float64Array(half);
  let sumSquares = 0;
  for (let i = 0; i < half; i++) {
    m[i] = -normalQuantile((i + 1 - 0.375) / (n + 0.25));
    sumSquares += 2 * m[i] * m[i];
  }
  const norm = Math.sqrt(sumSquares);
  const u = 1 / Math.sqrt(n);
  const an = poly(A_N, u) + m[0] / norm;
  if (n > 5) {
    const an1 = poly(A_N1, u) + m[1] / norm;
    const phi = (sumSquares - 2 * m[0] ** 2 - 2 * m[1] ** 2) / (1 - 2 * an ** 2 - 2 * an1 ** 2);
    a[0] = an;
    a[1] = an1;
    for (let i = 2; i < half; i++) a[i] = m[i] / Math.sqrt(phi);
  } else {
    const phi = (sumSquares - 2 * m[0] ** 2) / (1 - 2 * an ** 2);
    a[0] = an;
    for (let i = 1; i < half; i++) a[i] = m[i] / Math.sqrt(phi);
  }
  return a;
}

export interface ShapiroWilkResult {
  w: number;
  p: number;
}

/** Shapiro–Wilk W and its p-value (small p: evidence against normality). */
export function shapiroWilk(values: ArrayLike<number>, label = "sample"): ShapiroWilkResult {
  requireCount(values, 3, label);
  const n = values.length;
  if (n > 5000)
    throw new StatsInputError(`${label}: Shapiro–Wilk (Royston 1995) is valid for n <= 5000, got ${n}`);
  const sorted = Float64Array.from(values).sort();
  const range = sorted[n - 1] - sorted[0];
  if (range === 0) throw new StatsInputError(`${label}: all values are equal, so W is undefined`);

  // Full antisymmetric coefficient vector, ascending with the order statistics.
  const half = shapiroWilkCoefficients(n);
  const coef = new Float64Array(n);
  for (let i = 0; i < half.length; i++) {
    coef[n - 1 - i] = half[i];
    coef[i] = -half[i];
  }
  // W = corr(x_(i), a_i)²; centre both (Σa is 0 but rounding is not) and scale x by its range.
  // Form 1 − W = (√(SaSx) − Sax)(√(SaSx) + Sax)/(SaSx) to keep precision when W is near 1.
  let meanA = 0;
  let meanX = 0;
  for (let i = 0; i < n; i++) {
    meanA += coef[i];
    meanX += sorted[i] / range;
  }
  meanA /= n;
  meanX /= n;
  let saa = 0;
  let sxx = 0;
  let sax = 0;
  for (let i = 0; i < n; i++) {
    const da = coef[i] - meanA;
    const dx = sorted[i] / range - meanX;
    saa += da * da;
    sxx += dx * dx;
    sax += da * dx;
  }
  const root = Math.sqrt(saa * sxx);
  const oneMinusW = ((root - sax) * (root + sax)) / (saa * sxx);
  const w = 1 - oneMinusW;

  if (n === 3) {
    // Exact: p = (6/π)(asin √W − asin √(3/4)).
    const p = (6 / Math.PI) * (Math.asin(Math.sqrt(w)) - Math.PI / 3);
    return { w, p: Math.max(0, Math.min(1, p)) };
  }
  let y = Math.log(oneMinusW);
  let mu: number;
  let sigma: number;
  if (n <= 11) {
    const gamma = poly(SMALL_GAMMA, n);
    if (y >= gamma) return { w, p: 0 }; // beyond the transformation's range: W is extremely small
    y = -Math.log(gamma - y);
    mu = poly(SMALL_MU, n);
    sigma = Math.exp(poly(SMALL_LOG_SIGMA, n));
  } else {
    const logN = Math.log(n);
    mu = poly(LARGE_MU, logN);
    sigma = Math.exp(poly(LARGE_LOG_SIGMA, logN));
  }
  return { w, p: normalSf((y - mu) / sigma) };
}
