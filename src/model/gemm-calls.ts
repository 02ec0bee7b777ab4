// The GEMM calls one training step of the dense classifier makes (src/model/mlp.ts), for the
// tuner: per layer the forward product (+bias, ReLU but on the last), the weight gradient Hᵀ·dZ
// (f32 out: the f32 gradients the optimizer reads) and, past the first layer, the input
// gradient dZ·Wᵀ. Kept beside mlp.ts so that a change in how it calls gemm() is seen here.
import type { GemmCall } from "../kernels/gemm-tune.js";

export interface MlpCallsConfig {
  batch: number;
  /** Input features (224×224×3 = 150528 for the dissertation's images). */
  inputs: number;
  hidden: number[];
  classes: number;
  precision: "f32" | "mixed";
}

export function mlpGemmCalls(c: MlpCallsConfig): GemmCall[] {
  const t = c.precision === "mixed" ? "f16" : "f32";
  const sizes = [c.inputs, ...c.hidden, c.classes];
  const calls: GemmCall[] = [];
  const base = { inType: t, beta: false } as const;
  for (let l = 0; l < sizes.length - 1; l++) {
    const [fanIn, fanOut] = [sizes[l], sizes[l + 1]];
    const last = l === sizes.length - 2;
    const tag = `B${c.batch} ${c.precision} layer ${l}`;
    calls.push({
      ...base,
      label: `${tag} forward`,
      m: c.batch,
      n: fanOut,
      k: fanIn,
      transA: false,
      transB: false,
      outType: t,
      bias: true,
      relu: !last,
    });
    calls.push({
      ...base,
      label: `${tag} weight gradient`,
      m: fanIn,
      n: fanOut,
      k: c.batch,
      transA: true,
      transB: false,
      outType: "f32",
      bias: false,
      relu: false,
    });
    if (l > 0)
      calls.push({
        ...base,
        label: `${tag} input gradient`,
        m: c.batch,
        n: fanIn,
        k: fanOut,
        transA: false,
        transB: true,
        outType: t,
        bias: false,
        relu: false,
      });
  }
  return calls;
}
