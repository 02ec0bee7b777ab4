// The GEMMs of one training step of the dense classifier, as plain data, in one place: mlp.ts
// records its products with these options (stepGemm), and the tuner's call list is derived from
// the same descriptions (mlpGemmCalls), so the two cannot drift apart; a test also compares the
// list with the calls a recorded step makes.
import type { GemmCall } from "../kernels/gemm-tune.js";
import { ModelError } from "./errors.js";

/** Which of a layer's three products. */
export type StepGemmKind = "forward" | "weight gradient" | "input gradient";

/**
 * One GEMM of a training step, as plain data: the options mlp.ts passes to gemm() for it and the
 * tuner's call is made of. Per layer l of `layers`: the forward H·W (+bias, ReLU but on the last
 * layer), the weight gradient Hᵀ·dZ (f32 out: the gradients the optimizer reads, or the fused
 * update's tile) and, past the first layer, the input gradient dZ·Wᵀ.
 */
export interface StepGemm {
  kind: StepGemmKind;
  layer: number;
  transA: boolean;
  transB: boolean;
  bias: boolean;
  relu: boolean;
  /** The output in f32 whatever the compute type (else the compute type). */
  outF32: boolean;
}

/** The GEMMs of layer l of a `layers`-layer MLP's step, in the order mlp.ts records them. */
export function layerStepGemms(l: number, layers: number): StepGemm[] {
  const last = l === layers - 1;
  const g: StepGemm[] = [
    { kind: "forward", layer: l, transA: false, transB: false, bias: true, relu: !last, outF32: false },
    {
      kind: "weight gradient",
      layer: l,
      transA: true,
      transB: false,
      bias: false,
      relu: false,
      outF32: true,
    },
  ];
  if (l > 0)
    g.push({
      kind: "input gradient",
      layer: l,
      transA: false,
      transB: true,
      bias: false,
      relu: false,
      outF32: false,
    });
  return g;
}

/** layerStepGemms' entry of `kind` (mlp.ts: the options of the product it is about to record). */
export function stepGemm(kind: StepGemmKind, l: number, layers: number): StepGemm {
  const g = layerStepGemms(l, layers).find((x) => x.kind === kind);
  if (!g) throw new ModelError("bad-shape", `layer ${l} of ${layers} has no ${kind} GEMM`);
  return g;
}

export interface MlpCallsConfig {
  batch: number;
  /** Input features (224×224×3 = 150528 for the dissertation's images). */
  inputs: number;
  hidden: number[];
  classes: number;
  precision: "f32" | "mixed";
}

/** The tuner's calls: layerStepGemms over every layer, with the step's shapes (M×N×K). */
export function mlpGemmCalls(c: MlpCallsConfig): GemmCall[] {
  const t = c.precision === "mixed" ? "f16" : "f32";
  const sizes = [c.inputs, ...c.hidden, c.classes];
  const layers = sizes.length - 1;
  const calls: GemmCall[] = [];
  for (let l = 0; l < layers; l++) {
    const [fanIn, fanOut] = [sizes[l], sizes[l + 1]];
    // forward [B×fanIn]·[fanIn×fanOut]; weight gradient [fanIn×B]·[B×fanOut];
    // input gradient [B×fanOut]·[fanOut×fanIn].
    const mnk: Record<StepGemmKind, [number, number, number]> = {
      forward: [c.batch, fanOut, fanIn],
      "weight gradient": [fanIn, fanOut, c.batch],
      "input gradient": [c.batch, fanIn, fanOut],
    };
    for (const g of layerStepGemms(l, layers)) {
      const [m, n, k] = mnk[g.kind];
      calls.push({
        label: `B${c.batch} ${c.precision} layer ${l} ${g.kind}`,
        inType: t,
        beta: false,
        m,
        n,
        k,
        transA: g.transA,
        transB: g.transB,
        outType: g.outF32 ? "f32" : t,
        bias: g.bias,
        relu: g.relu,
      });
    }
  }
  return calls;
}
