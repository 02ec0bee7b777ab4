// Special functions behind every p-value, written for full double precision in both tails.
//
// Why not jstat's own cdfs: jStat.ibeta's continued fraction stops at a relative step of 3e-7
// (and 100 iterations), jStat.gammaln is the 6-term Lanczos fit good to ~2e-10, and upper-tail
// probabilities are formed as 1 - cdf, which loses all relative precision for small p-values.
// halfwatt must agree with SciPy to 1e-6 relative, so the core is here; jstat supplies starting
// guesses for the quantile searches (distributions.ts).
import { HalfwattError } from "../errors.js";

const LOG_SQRT_2PI = 0.9189385332046728; // log(sqrt(2π))
const LANCZOS_G = 7;
// Lanczos coefficients for g = 7, n = 9 (P. Godfrey's published set), relative error ~1e-15.
const LANCZOS = [
  0.9999999999998099, 676.5203681218851, -1259.1392167224028, 771.3234287776531, -176.6150291621406,
  12.507343278686905, -0.13857109526572012, 9.984369578019572e-6, 1.5056327351493116e-7,
];

/** log Γ(x) for x > 0. */
export function logGamma(x: number): number {
  if (!(x > 0)) return Number.NaN;
  if (x < 0.5) return logGamma(x + 1) - Math.log(x); // Γ(x) = Γ(x+1)/x keeps the series in range
  const z = x - 1;
  let series = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) series += LANCZOS[i] / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return LOG_SQRT_2PI + (z + 0.5) * Math.log(t) - t + Math.log(series);
}

/** log B(a, b). */
export function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

/**
 * Continued fraction for the incomplete beta function (modified Lentz), as in Numerical Recipes
 * §6.4 but iterated to machine precision: converges fast for x < (a+1)/(a+b+2).
 */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 100000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) return h;
  }
  return h;
}

/** Both tails of the regularized incomplete beta function: lower = I_x(a,b), upper = 1 - I_x(a,b). */
export interface Tails {
  lower: number;
  upper: number;
}

/**
 * Regularized incomplete beta I_x(a, b) and its complement, each computed directly (never as
 * 1 - the other when it is the small one). Pass y = 1 - x computed without cancellation when
 * the caller can (e.g. t²/(ν+t²) for the t distribution).
 */
export function betaIncomplete(x: number, a: number, b: number, y = 1 - x): Tails {
  if (x <= 0) return { lower: 0, upper: 1 };
  if (y <= 0) return { lower: 1, upper: 0 };
  const logFront = a * Math.log(x) + b * Math.log(y) - logBeta(a, b);
  if (x < (a + 1) / (a + b + 2)) {
    const lower = (Math.exp(logFront) * betaContinuedFraction(x, a, b)) / a;
    return { lower, upper: 1 - lower };
  }
  const upper = (Math.exp(logFront) * betaContinuedFraction(y, b, a)) / b;
  return { lower: 1 - upper, upper };
}

// Chebyshev coefficients for erfc (Numerical Recipes 3rd ed., §6.2.2), accurate to ~1e-16.
const ERFC_CHEB = [
  -1.3026537197817094, 0.6419697923564902, 1.9476473204185836e-2, -9.561514786808631e-3, -9.46595344482036e-4,
  3.66839497852761e-4, 4.2523324806907e-5, -2.0278578112534e-5, -1.624290004647e-6, 1.30365583558e-6,
  1.5626441722e-8, -8.5238095915e-8, 6.529054439e-9, 5.059343495e-9, -9.91364156e-10, -2.27365122e-10,
  9.6467911e-11, 2.394038e-12, -6.886027e-12, 8.94487e-13, 3.13092e-13, -1.12708e-13, 3.81e-16, 7.106e-15,
  -1.523e-15, -9.4e-17, 1.21e-16, -2.8e-17,
];

/** erfc(z) for z >= 0, with full relative precision far into the tail. */
function erfcNonNegative(z: number): number {
  const t = 2 / (2 + z);
  const ty = 4 * t - 2;
  let d = 0;
  let dd = 0;
  for (let j = ERFC_CHEB.length - 1; j > 0; j--) {
    const tmp = d;
    d = ty * d - dd + ERFC_CHEB[j];
    dd = tmp;
  }
  return t * Math.exp(-z * z + 0.5 * (ERFC_CHEB[0] + ty * d) - dd);
}

/** Standard normal upper tail Q(z) = 1 - Φ(z). */
export function normalSf(z: number): number {
  return z >= 0 ? 0.5 * erfcNonNegative(z / Math.SQRT2) : 1 - 0.5 * erfcNonNegative(-z / Math.SQRT2);
}

/** Standard normal cdf Φ(z). */
export function normalCdf(z: number): number {
  return normalSf(-z);
}

export function normalPdf(z: number): number {
  return Math.exp(-0.5 * z * z - LOG_SQRT_2PI);
}

// P. J. Acklam's rational approximation to the normal quantile (relative error < 1.2e-9),
// polished below by Halley steps on the accurate cdf.
const ACKLAM_A = [
  -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
  2.506628277459239,
];
const ACKLAM_B = [
  -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1,
];
const ACKLAM_C = [
  -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
  2.938163982698783,
];
const ACKLAM_D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];

function polynomial(c: number[], x: number): number {
  let r = 0;
  for (let i = 0; i < c.length; i++) r = r * x + c[i];
  return r;
}

/** Standard normal quantile Φ⁻¹(p). */
export function normalQuantile(p: number): number {
  if (p <= 0) return Number.NEGATIVE_INFINITY;
  if (p >= 1) return Number.POSITIVE_INFINITY;
  const pLow = 0.02425;
  let x: number;
  if (p < pLow) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = polynomial(ACKLAM_C, q) / (polynomial(ACKLAM_D, q) * q + 1);
  } else if (p <= 1 - pLow) {
    const q = p - 0.5;
    const r = q * q;
    x = (polynomial(ACKLAM_A, r) * q) / (polynomial(ACKLAM_B, r) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log1p(-p));
    x = -polynomial(ACKLAM_C, q) / (polynomial(ACKLAM_D, q) * q + 1);
  }
  // Halley refinement; use the smaller tail so the residual keeps its relative precision.
  for (let i = 0; i < 2; i++) {
    const e = p < 0.5 ? normalCdf(x) - p : -(normalSf(x) - (1 - p));
    const u = e / normalPdf(x);
    x -= u / (1 + (x * u) / 2);
  }
  return x;
}

/**
 * Brent's root finder (zeroin): a root of f in [lo, hi], where f(lo) and f(hi) differ in sign.
 * Converges to within a few ulps of the root.
 */
export function findRoot(f: (x: number) => number, lo: number, hi: number, maxIterations = 200): number {
  let a = lo;
  let b = hi;
  let fa = f(a);
  let fb = f(b);
  if (fa === 0) return a;
  if (fb === 0) return b;
  if (fa * fb > 0) throw new HalfwattError("E_RUNTIME", `findRoot: no sign change in [${lo}, ${hi}]`);
  let c = a;
  let fc = fa;
  let d = b - a;
  let e = d;
  for (let i = 0; i < maxIterations; i++) {
    if (fb * fc > 0) {
      c = a;
      fc = fa;
      d = b - a;
      e = d;
    }
    if (Math.abs(fc) < Math.abs(fb)) {
      a = b;
      b = c;
      c = a;
      fa = fb;
      fb = fc;
      fc = fa;
    }
    const tol = 2 * Number.EPSILON * Math.abs(b) + 1e-300;
    const m = 0.5 * (c - b);
    if (Math.abs(m) <= tol || fb === 0) return b;
    if (Math.abs(e) >= tol && Math.abs(fa) > Math.abs(fb)) {
      let p: number;
      let q: number;
      const s = fb / fa;
      if (a === c) {
        p = 2 * m * s;
        q = 1 - s;
      } else {
        const qq = fa / fc;
        const r = fb / fc;
        p = s * (2 * m * qq * (qq - r) - (b - a) * (r - 1));
        q = (qq - 1) * (r - 1) * (s - 1);
      }
      if (p > 0) q = -q;
      else p = -p;
      if (2 * p < Math.min(3 * m * q - Math.abs(tol * q), Math.abs(e * q))) {
        e = d;
        d = p / q;
      } else {
        d = m;
        e = d;
      }
    } else {
      d = m;
      e = d;
    }
    a = b;
    fa = fb;
    b += Math.abs(d) > tol ? d : m > 0 ? tol : -tol;
    fb = f(b);
  }
  return b;
}

/** Gauss–Legendre nodes and weights on [-1, 1] (Newton on P_n, Golub-free classic recipe). */
export function gaussLegendre(n: number): { nodes: number[]; weights: number[] } {
  const nodes: number[] = new Array(n);
  const weights: number[] = new Array(n);
  for (let i = 0; i < Math.ceil(n / 2); i++) {
    let x = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let dp = 0;
    for (let iter = 0; iter < 100; iter++) {
      let p0 = 1;
      let p1 = x;
      for (let k = 2; k <= n; k++) {
        const p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      dp = (n * (x * p1 - p0)) / (x * x - 1);
      const dx = p1 / dp;
      x -= dx;
      if (Math.abs(dx) < 1e-16) break;
    }
    nodes[i] = -x;
    nodes[n - 1 - i] = x;
    const w = 2 / ((1 - x * x) * dp * dp);
    weights[i] = w;
    weights[n - 1 - i] = w;
  }
  return { nodes, weights };
}
