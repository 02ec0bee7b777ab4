// One case of a weight-gradient kernel with the optimizer (weight-update.ts fused,
// weight-grad-overlap.ts overlapped) against the float64 references, shared by both kernels'
// tests: dW = Xᵀ·dZ in float64, then one optimizer step by PyTorch's rules (adamRef / sgdRef,
// whose bounds cover the f32 optimizer arithmetic). X and dZ are small integers times a power of
// two (times the loss scale for dZ), so every partial sum of the GEMM is exact in f32 in any
// order: the kernel's gradient must be the float64 product itself (bit for bit where it is
// stored) and the bounds are the optimizer's alone. The f16 copy is poisoned with NaN first and
// checked bit-exactly against nearest-even rounding of the kernel's own new f32 weights. With the
// non-finite flag set, w, the moments and the copy must keep their bits.
import type { GpuContext } from "../../src/gpu/device.js";
import {
  createTensor,
  destroyTensor,
  downloadF32,
  fill,
  type Tensor,
  tensorFrom,
} from "../../src/kernels/tensor.js";
import type { UpdateRule, WeightGradUpdateArgs } from "../../src/kernels/weight-update.js";
import { expectClose, type GpuTestEnv } from "../helpers/gpu.js";
import { normal, uniform } from "../helpers/rng.js";
import {
  adamRef,
  expectBits,
  f16Bits,
  f32Bits,
  quantize,
  rawWords,
  sgdRef,
  smallInts,
  unzip,
  xtdz,
} from "./reference.js";

export interface UpdateCase<O> {
  k: number;
  m: number;
  n: number;
  dtype: "f32" | "f16";
  rule: UpdateRule;
  lossScale: number;
  step: number;
  copy: boolean;
  options: O;
}

/**
 * The kernel under test: runs one step on `args` and returns the buffer it stored dW in (checked
 * bit for bit and destroyed here), or null where dW is never stored; `describe` names the case.
 */
export interface UpdateKernel<O> {
  run(ctx: GpuContext, args: WeightGradUpdateArgs, options: O): Promise<Tensor | null>;
  describe(ctx: GpuContext, args: WeightGradUpdateArgs, options: O): string;
}

export async function runUpdateCase<O>(
  env: GpuTestEnv,
  kernel: UpdateKernel<O>,
  c: UpdateCase<O>,
  flagValue?: number,
): Promise<void> {
  const { ctx, rng, seed } = env;
  const { k, m, n } = c;
  const x0 = smallInts(rng, k * m, 2 ** -4);
  const dz0 = smallInts(rng, k * n, 2 ** -6 * c.lossScale);
  const w0 = quantize(normal(rng, m * n, 0, 0.05), "f32");
  const m0 = quantize(normal(rng, m * n, 0, 0.01), "f32");
  const v0 = quantize(uniform(rng, m * n, 1e-6, 1e-3), "f32");
  const x = await tensorFrom(ctx, c.dtype, [k, m], x0, "x");
  const dz = await tensorFrom(ctx, c.dtype, [k, n], dz0, "dz");
  const w = await tensorFrom(ctx, "f32", [m, n], w0, "w");
  const mt = await tensorFrom(ctx, "f32", [m * n], m0, "m");
  const vt = c.rule.name === "adam" ? await tensorFrom(ctx, "f32", [m * n], v0, "v") : undefined;
  let wHalf: Tensor | undefined;
  if (c.copy) {
    wHalf = await createTensor(ctx, "f16", [m * n], "wHalf");
    fill(ctx, wHalf, Number.NaN);
  }
  const flag = flagValue === undefined ? undefined : await tensorFrom(ctx, "u32", [1], [flagValue], "flag");
  const state = [w, mt, vt, wHalf].filter((t) => t) as Tensor[];
  const before = await Promise.all(state.map((t) => rawWords(ctx, t)));
  const args: WeightGradUpdateArgs = {
    x,
    dz,
    w,
    m: mt,
    v: vt,
    rule: c.rule,
    step: c.step,
    lossScale: c.lossScale,
    flag,
    wHalf,
  };
  const what = `${c.dtype} ${k}×${m}×${n} ${c.rule.name} ${kernel.describe(ctx, args, c.options)}`;
  const stored = await kernel.run(ctx, args, c.options);
  if (flagValue) {
    const after = await Promise.all(state.map((t) => rawWords(ctx, t)));
    for (const [i, a] of after.entries()) expectBits(a, before[i], `${what} skipped step, buffer ${i}`, seed);
  } else {
    const g = xtdz(x0, dz0, k, m, n);
    if (stored) expectBits(await rawWords(ctx, stored), Array.from(g, f32Bits), `${what} dW`, seed);
    const got = await downloadF32(ctx, w);
    if (c.rule.name === "adam") {
      const ref = adamRef(w0, m0, v0, g, { ...c.rule, step: c.step, lossScale: c.lossScale });
      for (const [key, t] of [
        ["w", w],
        ["m", mt],
        ["v", vt as Tensor],
      ] as const) {
        const r = unzip(ref[key]);
        expectClose(await downloadF32(ctx, t), r.want, r.bound, `${what} ${key}`, seed);
      }
    } else {
      const h = {
        lr: c.rule.lr,
        momentum: c.rule.momentum ?? 0,
        weightDecay: c.rule.weightDecay ?? 0,
        nesterov: Boolean(c.rule.nesterov),
        lossScale: c.lossScale,
      };
      const ref = sgdRef(w0, m0, g, h);
      const rw = unzip(ref.w);
      const rv = unzip(ref.v);
      expectClose(got, rw.want, rw.bound, `${what} w`, seed);
      expectClose(await downloadF32(ctx, mt), rv.want, rv.bound, `${what} momentum`, seed);
    }
    if (wHalf) expectBits(await rawWords(ctx, wHalf), Array.from(got, f16Bits), `${what} f16 copy`, seed);
  }
  destroyTensor(...([x, dz, w, mt, vt, wHalf, flag, stored].filter((t) => t) as Tensor[]));
}

/** The rules the cases use: Adam, AdamW with every hyper-parameter off its default, Adam + L2, SGD. */
export const ADAM: UpdateRule = { name: "adam", lr: 1e-3 };
export const ADAMW: UpdateRule = {
  name: "adam",
  lr: 1e-2,
  beta1: 0.7,
  beta2: 0.95,
  eps: 3e-3,
  weightDecay: 0.1,
  decoupled: true,
};
export const ADAM_L2: UpdateRule = { name: "adam", lr: 3e-4, weightDecay: 1e-2 };
export const SGD: UpdateRule = { name: "sgd", lr: 0.05, momentum: 0.9, weightDecay: 1e-3 };
export const NESTEROV: UpdateRule = { name: "sgd", lr: 0.05, momentum: 0.8, nesterov: true };
