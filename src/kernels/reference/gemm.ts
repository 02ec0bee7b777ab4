// Plain float64 GEMM reference (the CPU twin of shaders/gemm.wgsl), plus the rigorous error
// bound each result must meet.

export interface GemmCase {
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  alpha: number;
  beta: number;
  relu: boolean;
}

/** Returns the float64 result and Σ|alpha·a·b| per element (for the bound). */
export function gemmReference(
  A: ArrayLike<number>,
  B: ArrayLike<number>,
  C0: ArrayLike<number> | null,
  bias: ArrayLike<number> | null,
  g: GemmCase,
): { c: Float64Array; absdot: Float64Array } {
  const { m, n, k } = g;
  const c = new Float64Array(m * n);
  const absdot = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      let sa = 0;
      for (let p = 0; p < k; p++) {
        const av = g.transA ? A[p * m + i] : A[i * k + p];
        const bv = g.transB ? B[j * k + p] : B[p * n + j];
        s += av * bv;
        sa += Math.abs(av * bv);
      }
      let v = g.alpha * s;
      if (g.beta !== 0 && C0) v += g.beta * C0[i * n + j];
      if (bias) v += bias[j];
      if (g.relu) v = Math.max(v, 0);
      c[i * n + j] = v;
      absdot[i * n + j] =
        Math.abs(g.alpha) * sa +
        (C0 && g.beta ? Math.abs(g.beta * C0[i * n + j]) : 0) +
        (bias ? Math.abs(bias[j]) : 0);
    }
  return { c, absdot };
}

const U32 = 2 ** -24; // f32 unit roundoff
const U16 = 2 ** -11; // f16 unit roundoff

/**
 * The error a GEMM result may have against the float64 reference when the inputs were already
 * quantized to their storage type (so input rounding is not an error of the kernel):
 * - f32 accumulation over K terms: at most K·u32·Σ|a·b| for any summation order (Higham,
 *   Accuracy and Stability of Numerical Algorithms, §3.1), plus a few roundings for the epilogue;
 * - the store: u32·|c| for an f32 C; for an f16 C u16·|c| (2^-11), and below 2^-14 f16 is
 *   subnormal with a fixed spacing of 2^-24, so also an absolute 2^-24 (one spacing, allowing
 *   either rounding direction).
 * Tensor cores accumulate in f32 too (NVIDIA documents f32 accumulation for f16 HMMA), so the
 * same bound holds for the subgroup-matrix path.
 */
export function gemmBound(k: number, absdot: number, ref: number, out: "f32" | "f16"): number {
  const accumulation = (k + 4) * U32 * absdot;
  const store = out === "f16" ? Math.abs(ref) * U16 + 2 ** -24 : Math.abs(ref) * U32;
  return 1.01 * (accumulation + store) + 1e-30;
}
