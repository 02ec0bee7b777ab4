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

/**
 * One PyTorch SGD step per element, with the kernel's f32 hyper-parameters. Each f32 operation
 * errs by ≤ U·|its result|; a sum a + b of rounded terms by ≤ U·(|a| + |b|) plus their errors.
 */
export function sgdRef(
  w: Float64Array,
  v: Float64Array,
  g: Float64Array,
  h: SgdHyper,
): { w: Expected[]; v: Expected[] } {
  const lr = Math.fround(h.lr);
  const mu = Math.fround(h.momentum);
  const wd = Math.fround(h.weightDecay);
  const inv = Math.fround(1 / h.lossScale);
  const W: Expected[] = [];
  const V: Expected[] = [];
  for (let i = 0; i < w.length; i++) {
    const a = g[i] * inv;
    const b = wd * w[i];
    const gg = a + b;
    const eG = 2 * U * (Math.abs(a) + Math.abs(b));
    const mv = mu * v[i];
    const v1 = mv + gg;
    const eV = eG + 2 * U * (Math.abs(mv) + Math.abs(gg));
    let d = v1;
    let eD = eV;
    if (h.nesterov) {
      d = gg + mu * v1;
      eD = eG + mu * eV + 2 * U * (Math.abs(gg) + Math.abs(mu * v1));
    }
    const w1 = w[i] - lr * d;
    V.push({ want: v1, bound: eV });
    W.push({ want: w1, bound: lr * eD + 2 * U * (Math.abs(lr * d) + Math.abs(w[i])) });
  }
  return { w: W, v: V };
}

/**
 * One PyTorch Adam(W) step per element, from the kernel's f32 uniforms (adamUniforms rounded).
 * Beyond plain f32 rounding: sqrt within 4.5 ulps (WGSL: 1/inverseSqrt), the division 2.5 ulps.
 */
export function adamRef(
  w: Float64Array,
  m: Float64Array,
  v: Float64Array,
  g: Float64Array,
  uniforms: readonly number[],
): { w: Expected[]; m: Expected[]; v: Expected[] } {
  const [, stepSize, invBc2, b1, b2, eps, inv, l2, decay] = uniforms.map((u) => Math.fround(u));
  const W: Expected[] = [];
  const M: Expected[] = [];
  const V: Expected[] = [];
  // 1 − β is exact in f32 for β in [0.5, 1) (Sterbenz), which the tests use.
  const o1 = 1 - b1;
  const o2 = 1 - b2;
  for (let i = 0; i < w.length; i++) {
    const a = g[i] * inv;
    const b = l2 * w[i];
    const gg = a + b;
    const eG = 2 * U * (Math.abs(a) + Math.abs(b));
    const m1 = b1 * m[i] + o1 * gg;
    const eM = o1 * eG + 2 * U * (Math.abs(b1 * m[i]) + Math.abs(o1 * gg));
    const v1 = b2 * v[i] + o2 * gg * gg;
    const eV = o2 * 2 * Math.abs(gg) * eG + 4 * U * v1;
    const sq = Math.sqrt(v1);
    const eSq = sq * (9 * U + eV / (2 * v1));
    const den = sq * invBc2 + eps;
    const eDen = invBc2 * eSq + 2 * U * den;
    const upd = (stepSize * m1) / den;
    const eUpd = (stepSize * eM) / den + Math.abs(upd) * (eDen / den + 6 * U);
    const w1 = w[i] * decay - upd;
    M.push({ want: m1, bound: eM });
    V.push({ want: v1, bound: eV });
    W.push({ want: w1, bound: eUpd + 2 * U * (Math.abs(w[i] * decay) + Math.abs(upd)) + U * Math.abs(w[i]) });
  }
  return { w: W, m: M, v: V };
}

/** Splits Expected[] for expectClose. */
export function unzip(e: Expected[]): { want: Float64Array; bound: (i: number) => number } {
  const want = Float64Array.from(e, (x) => x.want);
  const bounds = Float64Array.from(e, (x) => x.bound);
  return { want, bound: (i) => bounds[i] };
}
