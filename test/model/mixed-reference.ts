// A float64 reference of one mixed-precision step that rounds to f16 exactly where the policy
// stores f16 (src/model/policy.ts): the input batch, the weight copy, hidden activations, logits,
// dLogits and each dH; everything else (products, sums, softmax, weight gradients, optimizer) in
// float64. Rounding is roundToF16 (checked against IEEE 754 binary16 tables in
// test/kernels/f16.test.ts). The GPU differs from it only by f32 instead of f64 accumulation
// before each rounding, i.e. by an occasional 1-ulp f16 difference.
import { roundToF16 } from "../../src/kernels/f16.js";
import { softmaxXentRef } from "../../src/model/reference/mlp.js";

const r16 = (a: Float64Array) => a.map(roundToF16);

/** Gradients of (mean loss × scale) as the mixed step computes them, by parameter (W0, b0, W1, …). */
export function mixedGradsRef(
  sizes: readonly number[],
  weights: Float64Array[],
  biases: Float64Array[],
  X: Float64Array,
  labels: ArrayLike<number>,
  B: number,
  scale: number,
): Float64Array[] {
  const L = sizes.length - 1;
  const Wh = weights.map(r16);
  const bh = biases.map(r16);
  const acts: Float64Array[] = [r16(X)];
  for (let l = 0; l < L; l++) {
    const [k, n] = [sizes[l], sizes[l + 1]];
    const h = acts[l];
    const z = new Float64Array(B * n);
    for (let r = 0; r < B; r++)
      for (let j = 0; j < n; j++) {
        let s = bh[l][j];
        for (let i = 0; i < k; i++) s += h[r * k + i] * Wh[l][i * n + j];
        z[r * n + j] = l < L - 1 ? Math.max(0, s) : s;
      }
    acts.push(r16(z));
  }
  const { dLogits } = softmaxXentRef(acts[L], labels, B, sizes[L], scale);
  let dz = r16(dLogits);
  const grads: Float64Array[] = new Array(2 * L);
  for (let l = L - 1; l >= 0; l--) {
    const [k, n] = [sizes[l], sizes[l + 1]];
    const h = acts[l];
    const gw = new Float64Array(k * n);
    const gb = new Float64Array(n);
    for (let r = 0; r < B; r++)
      for (let j = 0; j < n; j++) {
        const d = dz[r * n + j];
        gb[j] += d;
        for (let i = 0; i < k; i++) gw[i * n + j] += h[r * k + i] * d;
      }
    grads[2 * l] = gw;
    grads[2 * l + 1] = gb;
    if (l > 0) {
      const dh = new Float64Array(B * k);
      for (let r = 0; r < B; r++)
        for (let i = 0; i < k; i++) {
          let s = 0;
          for (let j = 0; j < n; j++) s += dz[r * n + j] * Wh[l][i * n + j];
          dh[r * k + i] = s;
        }
      const dhr = r16(dh);
      dz = dhr.map((v, idx) => (h[idx] > 0 ? v : 0));
    }
  }
  return grads;
}
