// Float64 CPU references and error bounds for the training-kernel tests (bias_grad,
// relu_backward, softmax_xent, cast, image_normalize, nonfinite, sgd, adam).
//
// How the bounds are built: the reference takes the kernel's actual inputs (f16 inputs
// quantized with roundToF16, f32 uniforms with Math.fround), so a bound only covers what the
// kernel itself rounds: f32 arithmetic (unit roundoff u = 2^-24 per operation; WGSL builtins at
// their spec accuracy) and, for an f16 output, the final conversion — which WGSL lets round to
// either neighbour, so one f16 ulp of the result, not half.
import { expect } from "vitest";
import type { GpuContext } from "../../src/gpu/device.js";
import { f32ToF16Bits, roundToF16 } from "../../src/kernels/f16.js";
import { byteSize, readBytes, type Tensor } from "../../src/kernels/tensor.js";
import { type AdamRefOptions, adamStepRef, sgdStepRef } from "../../src/model/reference/optimizers.js";

/** f32 unit roundoff: one correctly rounded f32 operation errs by at most U·|result|. */
export const U = 2 ** -24;

export type Float = "f32" | "f16";

/** What the kernel sees of `values` stored as `dtype`. */
export function quantize(values: ArrayLike<number>, dtype: Float): Float64Array {
  const q = dtype === "f16" ? roundToF16 : Math.fround;
  return Float64Array.from(values, (v) => q(v));
}

/** Spacing of the f16 values around |y| (the subnormal spacing 2^-24 below 2^-14). */
export function ulpF16(y: number): number {
  const a = Math.abs(y);
  return a < 2 ** -14 ? 2 ** -24 : 2 ** (Math.floor(Math.log2(a)) - 10);
}

/** Spacing of the f32 values around |y|. */
export function ulpF32(y: number): number {
  const a = Math.abs(y);
  return a < 2 ** -126 ? 2 ** -149 : 2 ** (Math.floor(Math.log2(a)) - 23);
}

export interface Expected {
  want: number;
  bound: number;
}

/**
 * The expected stored value of an exact result y that the kernel computes in f32 with absolute
 * error ≤ err, then stores as `dtype`. f32: err. f16: err plus one f16 ulp (conversion to a
 * neighbour); past the f16 range the kernel must store ±inf exactly (bound 0). A y so close to
 * the overflow threshold that either outcome is right would make the check ambiguous: it throws,
 * and the test must pick inputs away from it.
 */
export function stored(y: number, err: number, dtype: Float): Expected {
  if (dtype === "f32" || Number.isNaN(y)) return { want: y, bound: err };
  const a = Math.abs(y);
  if (a - err >= 65520 * (1 + 2 ** -20)) return { want: Math.sign(y) * Number.POSITIVE_INFINITY, bound: 0 };
  if (a + err < 65504) return { want: y, bound: err + ulpF16(a + err) };
  throw new Error(`reference: ${y} ± ${err} straddles the f16 overflow threshold; choose other inputs`);
}

/** Raw 16- or 32-bit words of a tensor (bit-exact checks: NaN payloads, signed zeros). */
export async function rawWords(ctx: GpuContext, t: Tensor): Promise<Uint16Array | Uint32Array> {
  const raw = await readBytes(ctx, t.buffer, byteSize(t.dtype, t.size));
  return t.dtype === "f16" ? new Uint16Array(raw, 0, t.size) : new Uint32Array(raw, 0, t.size);
}

/** Bit-exact comparison, reporting the first few differences in hex. */
export function expectBits(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  what: string,
  seed: number,
): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  const bad: string[] = [];
  for (let i = 0; i < want.length; i++)
    if (got[i] !== want[i]) bad.push(`[${i}] got 0x${got[i].toString(16)} want 0x${want[i].toString(16)}`);
  if (bad.length)
    expect.fail(`${what}: ${bad.length}/${want.length} words differ (seed ${seed}): ${bad.slice(0, 5)}`);
}

/** f32 bits of a number (after rounding to f32). */
export function f32Bits(v: number): number {
  return new Uint32Array(Float32Array.of(v).buffer)[0];
}

/** f16 bits of an f32 value, as the kernels' exact conversion must give them. */
export const f16Bits = f32ToF16Bits;

// ---------------------------------------------------------------------------------------------
// References. Each returns the exact result and its error bound for a kernel computing in f32.

/** Column sums of row-major [rows, cols]; sequential f32 sums of ≤ rows terms, then a 4-way combine. */
export function biasGradRef(dy: Float64Array, rows: number, cols: number, db0?: Float64Array): Expected[] {
  const out: Expected[] = [];
  for (let c = 0; c < cols; c++) {
    let s = db0 ? db0[c] : 0;
    let abs = db0 ? Math.abs(db0[c]) : 0;
    for (let r = 0; r < rows; r++) {
      s += dy[r * cols + c];
      abs += Math.abs(dy[r * cols + c]);
    }
    // ≤ rows + 4 f32 additions, each erring by ≤ U·(partial sum) ≤ U·Σ|terms|.
    out.push({ want: s, bound: (rows + 4) * U * abs });
  }
  return out;
}

export interface XentRef {
  /** Row losses and the mean, with bounds. */
  rows: Expected[];
  mean: Expected;
  /** dLogits as an exact value and the f32 computation's error (before the output store). */
  grad: Expected[];
}

/**
 * Softmax cross-entropy of [batch, classes] logits, its mean and the gradient of the mean times
 * lossScale. Error bounds from WGSL's accuracy: exp(x) within (3 + 2|x|) f32 ulps (≤ 2U per
 * ulp relative), x/y 2.5 ulps, log(x) 2^-21 absolute on [0.5, 2] else 3 ulps; sums of n
 * positive terms n·U relative; the f32 grad_scale uniform lossScale/batch carries U itself.
 */
export function softmaxXentRef(
  x: Float64Array,
  labels: ArrayLike<number>,
  batch: number,
  classes: number,
  lossScale: number,
): XentRef {
  const c = Math.fround(lossScale / batch);
  const rows: Expected[] = [];
  const grad: Expected[] = [];
  for (let r = 0; r < batch; r++) {
    const row = x.subarray(r * classes, (r + 1) * classes);
    let m = -Infinity;
    for (const v of row) m = Math.max(m, v);
    let s = 0;
    let expErr = 0; // largest relative error of one exp
    for (const v of row) {
      s += Math.exp(v - m);
      expErr = Math.max(expErr, (3 + 2 * Math.abs(v - m)) * 2 * U);
    }
    const sErr = expErr + (classes + 1) * U; // relative
    const label = labels[r];
    if (label >= classes) {
      rows.push({ want: Number.NaN, bound: 0 });
      for (let j = 0; j < classes; j++) grad.push({ want: Number.NaN, bound: 0 });
      continue;
    }
    const dLabel = row[label] - m;
    const logS = Math.log(s);
    const loss = logS - dLabel;
    // log's own error, S's relative error through log, and the two subtractions.
    const lossErr =
      Math.max(2 ** -21, 3 * 2 * U * Math.abs(logS)) + sErr + 2 * U * (Math.abs(dLabel) + Math.abs(loss));
    rows.push({ want: loss, bound: lossErr });
    for (let j = 0; j < classes; j++) {
      const p = Math.exp(row[j] - m) / s;
      const g = (p - (j === label ? 1 : 0)) * c;
      // p's relative error: its exp, S, the division (2.5 ulps = 5U); then p − 1 and the scale.
      const pErr = (3 + 2 * Math.abs(row[j] - m)) * 2 * U + sErr + 5 * U;
      grad.push({ want: g, bound: c * (p * pErr + 2 * U * (Math.abs(p - (j === label ? 1 : 0)) + p)) });
    }
  }
  let sum = 0;
  let errSum = 0;
  for (const e of rows) {
    sum += e.want;
    errSum += e.bound;
  }
  const mean = sum / batch;
  // Row errors averaged, plus the f32 sum (batch additions of positive terms) and the division.
  return { rows, grad, mean: { want: mean, bound: errSum / batch + (batch + 6) * U * Math.abs(mean) } };
}

/** (x/255 − mean[c]) / std[c] over HWC bytes; the kernel does x·fround(scale) + fround(bias). */
export function imageNormalizeRef(
  bytes: ArrayLike<number>,
  mean: readonly number[],
  std: readonly number[],
): Expected[] {
  const out: Expected[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const ch = i % 3;
    const y = (bytes[i] / 255 - mean[ch]) / std[ch];
    const xs = Math.abs(bytes[i] / (255 * std[ch]));
    const b = Math.abs(mean[ch] / std[ch]);
    // fround(scale) and fround(bias) (U relative each), the product and the sum.
    out.push({ want: y, bound: 4 * U * (xs + b) });
  }
  return out;
}

export interface SgdHyper {
  lr: number;
  momentum: number;
  weightDecay: number;
  lossScale: number;
  nesterov: boolean;
}

// The optimizer references. The expected value is one step of the float64 reference written from
// PyTorch's documented rules (src/model/reference/optimizers.ts, itself checked against
// torch.optim), with the hyper-parameters as given — not the kernel's f32 uniforms or anything
// else the kernel code computes. The bound is an error analysis of an f32 evaluation of the same
// formula, built from the reference's exact intermediate values: each hyper-parameter the kernel
// holds in f32 errs by ≤ U relative (and a constant derived from several, 1 − lr·λ or 1/S, by
// ≤ 2U); each f32 operation by ≤ U·|its result|; a sum a + b by U·(|a| + |b|) plus the errors
// of a and b. Nothing in a bound depends on how the kernel packs its uniforms.

/** One PyTorch SGD step per element (sgdStepRef) and an f32 evaluation's error bound. */
export function sgdRef(
  w: Float64Array,
  v: Float64Array,
  g: Float64Array,
  h: SgdHyper,
): { w: Expected[]; v: Expected[] } {
  const w1 = Float64Array.from(w);
  const v1 = Float64Array.from(v);
  sgdStepRef(w1, v1, g, h);
  const { lr, momentum: mu, weightDecay: wd, lossScale } = h;
  const W: Expected[] = [];
  const V: Expected[] = [];
  for (let i = 0; i < w.length; i++) {
    const a = g[i] / lossScale; // g·(1/S): 1/S rounded, then the product
    const b = wd * w[i]; // λ rounded, then the product
    const gg = a + b;
    const eG = 2 * U * (Math.abs(a) + Math.abs(b)) + U * Math.abs(gg);
    const mv = mu * v[i];
    const eV = eG + 2 * U * Math.abs(mv) + U * Math.abs(v1[i]);
    let d = v1[i];
    let eD = eV;
    if (h.nesterov) {
      d = gg + mu * v1[i];
      eD = eG + mu * eV + 2 * U * Math.abs(mu * v1[i]) + U * Math.abs(d);
    }
    V.push({ want: v1[i], bound: eV });
    W.push({ want: w1[i], bound: lr * eD + 2 * U * Math.abs(lr * d) + U * Math.abs(w1[i]) });
  }
  return { w: W, v: V };
}

/**
 * Relative error allowed in 1 − β^t formed in f32 from x = t·ln β (ln β rounded and the product:
 * 2U on x). For x > −0.5, where 1 − exp(x) would cancel (β2 = 0.999 at t = 1 keeps 4 digits), the
 * kernel must not lose digits: 16U all told (a series to x⁹ truncates below 3e-10 ≈ 5U).
 * Further out 1 − exp(x) is well-conditioned: exp within (3 + 2|x|) ulps (WGSL) and x's own
 * error, both scaled by β^t/(1 − β^t) ≤ 1.6, then the subtraction.
 */
function biasCorrectionError(beta: number, t: number): number {
  const x = t * Math.log(beta);
  const e = beta ** t;
  const viaExp = (2 * U * (3 + 2 * Math.abs(x)) + 2 * U * Math.abs(x)) * (e / (1 - e)) + U;
  return x > -0.5 ? 16 * U : viaExp;
}

export type AdamHyper = AdamRefOptions;

/**
 * One PyTorch Adam(W) step per element (adamStepRef) and an f32 evaluation's error bound. Beyond
 * the rules above: sqrt within 4.5 ulps (WGSL: 1/inverseSqrt), a division 2.5 ulps, the bias
 * corrections as biasCorrectionError, and 1 − β formed from f32 β, which errs by U·β/(1 − β)
 * relative to the exact 1 − β.
 */
export function adamRef(
  w: Float64Array,
  m: Float64Array,
  v: Float64Array,
  g: Float64Array,
  h: AdamHyper,
): { w: Expected[]; m: Expected[]; v: Expected[] } {
  const w1 = Float64Array.from(w);
  const m1 = Float64Array.from(m);
  const v1 = Float64Array.from(v);
  adamStepRef(w1, m1, v1, g, h);
  const { step: t, lr, beta1: b1 = 0.9, beta2: b2 = 0.999, eps = 1e-8, weightDecay: wd = 0 } = h;
  const { decoupled = false, lossScale = 1 } = h;
  const r1 = U * (b1 / (1 - b1)) + U; // 1 − β1 from f32 β1
  const r2 = U * (b2 / (1 - b2)) + U;
  const bc1 = 1 - b1 ** t;
  const bc2 = 1 - b2 ** t;
  // lr/bc1: lr rounded, bc1's error, the division; 1/√bc2: bc2's error halved, sqrt, division.
  const rStep = U + biasCorrectionError(b1, t) + 5 * U;
  const rInvBc2 = biasCorrectionError(b2, t) / 2 + 9 * U + 5 * U;
  const decay = decoupled ? 1 - lr * wd : 1;
  const W: Expected[] = [];
  const M: Expected[] = [];
  const V: Expected[] = [];
  for (let i = 0; i < w.length; i++) {
    const a = g[i] / lossScale;
    const b = decoupled ? 0 : wd * w[i];
    const gg = a + b;
    const eG = 2 * U * (Math.abs(a) + Math.abs(b)) + U * Math.abs(gg);
    const bm = b1 * m[i];
    const c1 = (1 - b1) * gg;
    const eM = 2 * U * Math.abs(bm) + (1 - b1) * eG + (r1 + U) * Math.abs(c1) + U * Math.abs(m1[i]);
    const bv = b2 * v[i];
    const c2 = (1 - b2) * gg * gg;
    const eV = 2 * U * bv + (1 - b2) * (2 * Math.abs(gg) * eG + eG * eG) + (r2 + 2 * U) * c2 + U * v1[i];
    if (!(eV < v1[i] / 2)) throw new Error(`reference: v[${i}] = ${v1[i]} too small for its bound`);
    const sq = Math.sqrt(v1[i]);
    const eSq = sq * (9 * U + eV / v1[i]); // √(v(1+δ)) ≤ √v·(1 + δ/2) for δ ≥ −½, doubled for safety
    const sh = sq / Math.sqrt(bc2);
    const den = sh + eps;
    const eDen = eSq / Math.sqrt(bc2) + sh * (rInvBc2 + U) + eps * U + U * den;
    const upd = (lr / bc1) * (m1[i] / den);
    const eUpd = ((lr / bc1) * eM) / den + Math.abs(upd) * ((2 * eDen) / den + rStep + 6 * U);
    // w·(1 − lr·λ): the constant within 2U·lr·λ + U·decay, the product U.
    const eW =
      eUpd +
      Math.abs(w[i]) * (2 * U * lr * wd + U * decay) +
      2 * U * Math.abs(w[i] * decay) +
      U * Math.abs(upd) +
      U * Math.abs(w1[i]);
    M.push({ want: m1[i], bound: eM });
    V.push({ want: v1[i], bound: eV });
    W.push({ want: w1[i], bound: eW });
  }
  return { w: W, m: M, v: V };
}

/** Splits Expected[] for expectClose. */
export function unzip(e: Expected[]): { want: Float64Array; bound: (i: number) => number } {
  const want = Float64Array.from(e, (x) => x.want);
  const bounds = Float64Array.from(e, (x) => x.bound);
  return { want, bound: (i) => bounds[i] };
}

/** Integers in [−8, 8] times `unit`: exact in f16 and f32, and so are their products' sums. */
export function smallInts(rng: () => number, n: number, unit: number): Float64Array {
  return Float64Array.from({ length: n }, () => (Math.floor(rng() * 17) - 8) * unit);
}

/** dW[i, j] = Σ_k X[k, i]·dZ[k, j] in float64 (X [K, M], dZ [K, N]). */
export function xtdz(x: Float64Array, dz: Float64Array, k: number, m: number, n: number): Float64Array {
  const g = new Float64Array(m * n);
  for (let r = 0; r < k; r++)
    for (let i = 0; i < m; i++) {
      const a = x[r * m + i];
      for (let j = 0; j < n; j++) g[i * n + j] += a * dz[r * n + j];
    }
  return g;
}
