// Estimates of how far an f32 computation of the MLP's gradients can be from the float64
// reference (src/model/reference/mlp.ts), element by element: each dot product's rounding
// (dotRounding) plus its inputs' own errors carried through linearly, added in quadrature as
// independent errors, through the forward pass, the softmax and the backward pass (ReLU is
// 1-Lipschitz and exactly 0 well below its kink; where a pre-activation lies within its error of
// 0 the mask itself is unsure, so dZ may be dH or 0 there). Independent of the kernels: it reads
// only the reference's float64 values. The trainer-steps test uses it to find the few gradient
// elements whose f32 value is too unsure for Adam's update to be held to the tight bound (a
// near-zero activation from cancelling terms, a gradient near ε).
import type { MlpParamsRef } from "../../src/model/reference/mlp.js";

const U = 2 ** -24;

/**
 * The rounding error of an n-term f32 dot product whose terms' squares sum to `sq` and whose value
 * is `s`, taken as u·(n·‖terms‖₂ + |s|): between the typical size of n independent roundings of
 * partial sums (about u·√n·‖terms‖₂·√n at most) and the worst case γₙ·Σ|terms| (≤ n·u·√n·‖terms‖₂),
 * which is rarely approached and marked most elements of a small MLP as unsure.
 */
function dotRounding(n: number, sq: number, s: number): number {
  return U * (n * Math.sqrt(sq) + Math.abs(s));
}

/**
 * Σᵢ a(i)·b(i) (+ init, one more term) over n terms, and its estimated f32 error: the sum's own rounding
 * (dotRounding) plus the factors' errors ea(i), eb(i) carried through each product, added in
 * quadrature as independent errors.
 */
function dotWithError(
  n: number,
  a: (i: number) => number,
  b: (i: number) => number,
  ea: (i: number) => number,
  eb: (i: number) => number,
  init?: number,
): { s: number; e: number } {
  let s = init ?? 0;
  let sq = s ** 2;
  let prop = 0;
  for (let i = 0; i < n; i++) {
    const ai = a(i);
    const bi = b(i);
    s += ai * bi;
    sq += (ai * bi) ** 2;
    prop += (ea(i) * (Math.abs(bi) + eb(i))) ** 2 + (ai * eb(i)) ** 2;
  }
  return { s, e: dotRounding(init === undefined ? n : n + 1, sq, s) + Math.sqrt(prop) };
}

/** A rows × cols product, row-major, each element and its error estimate from `cell(i, j)`. */
function cellsWithError(
  rows: number,
  cols: number,
  cell: (i: number, j: number) => { s: number; e: number },
): { v: Float64Array; e: Float64Array } {
  const v = new Float64Array(rows * cols);
  const e = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) {
      const c = cell(i, j);
      v[i * cols + j] = c.s;
      e[i * cols + j] = c.e;
    }
  return { v, e };
}

export interface GradErrorEstimates {
  /** Per layer, the estimated |f32 dW − float64 dW|, element by element ([fan-in, fan-out]). */
  weights: Float64Array[];
  /** The float64 weight gradients themselves. */
  grads: Float64Array[];
  /** Per layer, the same for the bias gradient, and that gradient. */
  biases: Float64Array[];
  biasGrads: Float64Array[];
}

/**
 * The estimates for one step at `params` (the float64 reference's weights, which the f32 run
 * starts from too), batch X [B, D] with labels, the mean loss's gradient (× lossScale).
 */
export function f32GradErrorEstimates(
  params: MlpParamsRef,
  X: ArrayLike<number>,
  labels: ArrayLike<number>,
  B: number,
  lossScale = 1,
): GradErrorEstimates {
  const { sizes, weights, biases } = params;
  const L = sizes.length - 1;
  // Forward: A_l (inputs of layer l), Z_l and the error estimate of each.
  const A: Float64Array[] = [Float64Array.from(X)];
  // The normalised pixels ((p/255 − mean)/std in f32): a few roundings of values ≤ 4 in size.
  const EA: Float64Array[] = [Float64Array.from(X, (x) => 4 * U * (Math.abs(x) + 4))];
  const Z: Float64Array[] = [];
  const EZ: Float64Array[] = [];
  for (let l = 0; l < L; l++) {
    const k = sizes[l];
    const n = sizes[l + 1];
    const W = weights[l];
    const { v: z, e: ez } = cellsWithError(B, n, (r, j) =>
      dotWithError(
        k,
        (p) => A[l][r * k + p],
        (p) => W[p * n + j],
        (p) => EA[l][r * k + p],
        () => 0,
        biases[l][j],
      ),
    );
    Z.push(z);
    EZ.push(ez);
    if (l < L - 1) {
      A.push(z.map((v) => Math.max(v, 0)));
      // ReLU is 1-Lipschitz, and exactly 0 on both sides where z is below −(its error).
      EA.push(ez.map((e, i) => (z[i] <= -e ? 0 : e)));
    }
  }
  // Softmax: δp_j = p_j(δz_j − Σ p_i δz_i), so |δp_j| ≤ 2·p_j·max_i |δz_i|, plus its own roundings.
  const C = sizes[L];
  let dZ = new Float64Array(B * C);
  let EdZ = new Float64Array(B * C);
  for (let r = 0; r < B; r++) {
    let max = Number.NEGATIVE_INFINITY;
    let maxE = 0;
    for (let j = 0; j < C; j++) {
      max = Math.max(max, Z[L - 1][r * C + j]);
      maxE = Math.max(maxE, EZ[L - 1][r * C + j]);
    }
    let se = 0;
    for (let j = 0; j < C; j++) se += Math.exp(Z[L - 1][r * C + j] - max);
    for (let j = 0; j < C; j++) {
      const p = Math.exp(Z[L - 1][r * C + j] - max) / se;
      dZ[r * C + j] = ((p - (j === labels[r] ? 1 : 0)) / B) * lossScale;
      EdZ[r * C + j] = ((p * (2 * maxE + (C + 8) * U) + 4 * U) / B) * lossScale;
    }
  }
  const EW: Float64Array[] = new Array(L);
  const G: Float64Array[] = new Array(L);
  const EB: Float64Array[] = new Array(L);
  const GB: Float64Array[] = new Array(L);
  for (let l = L - 1; l >= 0; l--) {
    const k = sizes[l];
    const n = sizes[l + 1];
    const { v: g, e: eg } = cellsWithError(k, n, (p, j) =>
      dotWithError(
        B,
        (r) => A[l][r * k + p],
        (r) => dZ[r * n + j],
        (r) => EA[l][r * k + p],
        (r) => EdZ[r * n + j],
      ),
    );
    G[l] = g;
    EW[l] = eg;
    GB[l] = new Float64Array(n);
    EB[l] = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      let sq = 0;
      let prop = 0;
      for (let r = 0; r < B; r++) {
        GB[l][j] += dZ[r * n + j];
        sq += dZ[r * n + j] ** 2;
        prop += EdZ[r * n + j] ** 2;
      }
      EB[l][j] = dotRounding(B, sq, GB[l][j]) + Math.sqrt(prop);
    }
    if (l === 0) break;
    // dH = dZ·Wᵀ, then the ReLU mask of layer l − 1's pre-activation.
    const W = weights[l];
    const dA = new Float64Array(B * k);
    const EdA = new Float64Array(B * k);
    for (let r = 0; r < B; r++)
      for (let p = 0; p < k; p++) {
        const { s, e } = dotWithError(
          n,
          (j) => dZ[r * n + j],
          (j) => W[p * n + j],
          (j) => EdZ[r * n + j],
          () => 0,
        );
        const z = Z[l - 1][r * k + p];
        const ez = EZ[l - 1][r * k + p];
        if (Math.abs(z) <= ez) {
          // Either side of the kink: the f32 dZ is dH or 0.
          dA[r * k + p] = z > 0 ? s : 0;
          EdA[r * k + p] = Math.abs(s) + e;
        } else if (z > 0) {
          dA[r * k + p] = s;
          EdA[r * k + p] = e;
        }
      }
    dZ = dA;
    EdZ = EdA;
  }
  return { weights: EW, grads: G, biases: EB, biasGrads: GB };
}
