import { describe, expect, it } from "vitest";
import { openDevice } from "../../src/gpu/device.js";
import { KernelInputError } from "../../src/gpu/errors.js";
import { type AdamArgs, adam } from "../../src/kernels/adam.js";
import {
  createTensor,
  destroyTensor,
  downloadF32,
  fill,
  type Tensor,
  tensorFrom,
} from "../../src/kernels/tensor.js";
import { expectClose, useGpu } from "../helpers/gpu.js";
import { normal, uniform } from "../helpers/rng.js";
import { adamRef, expectBits, f16Bits, quantize, rawWords, unzip } from "./reference.js";

// Expectations: one step of the float64 reference written from PyTorch's Adam/AdamW rules
// (src/model/reference/optimizers.ts, checked against torch.optim), from the hyper-parameters as
// given — nothing computed by src/kernels/adam.ts. Bounds (reference.ts adamRef): an error
// analysis of the f32 step from the reference's own values — f32 hyper-parameters (U each; 1 − β
// from f32 β), bias corrections formed in f32, sqrt at 4.5 ulps and divisions at 2.5 ulps
// (WGSL's accuracy), U per other operation. The f16 gradient is quantized before both see it.
// The f16 weight copy is checked bit-exactly against nearest-even rounding of the kernel's own
// new f32 weights (src/kernels/f16.ts, itself checked against an IEEE table in f16.test.ts).
const env = useGpu("adam");

interface State {
  w: Tensor;
  m: Tensor;
  v: Tensor;
  g: Tensor;
  w0: Float64Array;
  m0: Float64Array;
  v0: Float64Array;
  g0: Float64Array;
}

async function state(dtype: "f32" | "f16", n: number, lossScale: number): Promise<State> {
  const { ctx, rng } = env;
  const w0 = quantize(normal(rng, n), "f32");
  const m0 = quantize(normal(rng, n, 0, 0.01), "f32");
  const v0 = quantize(uniform(rng, n, 1e-6, 1e-3), "f32");
  const g0 = quantize(normal(rng, n, 0, 0.01 * lossScale), dtype);
  return {
    w: await tensorFrom(ctx, "f32", [n], w0, "w"),
    m: await tensorFrom(ctx, "f32", [n], m0, "m"),
    v: await tensorFrom(ctx, "f32", [n], v0, "v"),
    g: await tensorFrom(ctx, dtype, [n], g0, "g"),
    w0,
    m0,
    v0,
    g0,
  };
}

type Hyper = Omit<AdamArgs, "w" | "m" | "v" | "g" | "flag" | "wHalf">;

describe("adam", () => {
  const HYPER: Hyper[] = [
    { step: 1, lr: 1e-3, lossScale: 1024 },
    { step: 7, lr: 3e-4, weightDecay: 1e-2, decoupled: false, lossScale: 3 },
    { step: 1000, lr: 1e-3, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.05, decoupled: true },
    // A large ε early on, while 1 − β2^t is far from 1: ε's place (after the bias correction,
    // outside the sqrt) shows.
    {
      step: 3,
      lr: 1e-2,
      beta1: 0.7,
      beta2: 0.95,
      eps: 3e-3,
      weightDecay: 0.1,
      decoupled: true,
      lossScale: 0.5,
    },
  ];
  const name = (h: Hyper) => `t=${h.step}${h.weightDecay ? (h.decoupled ? " AdamW" : " Adam+L2") : ""}`;
  for (const dtype of ["f32", "f16"] as const)
    for (const n of [1, 17, 129, 10_007])
      for (const h of HYPER)
        it(`${dtype} grad, n=${n}, ${name(h)}, with the f16 copy`, async () => {
          const { ctx, seed } = env;
          const s = await state(dtype, n, h.lossScale ?? 1);
          const wHalf = await createTensor(ctx, "f16", [n], "wHalf");
          fill(ctx, wHalf, Number.NaN);
          const args: AdamArgs = { w: s.w, m: s.m, v: s.v, g: s.g, ...h, wHalf };
          await adam(ctx, args);
          const ref = adamRef(s.w0, s.m0, s.v0, s.g0, h);
          const what = `adam ${dtype} n=${n} ${name(h)}`;
          const w = await downloadF32(ctx, s.w);
          for (const [key, got] of [
            ["w", w],
            ["m", await downloadF32(ctx, s.m)],
            ["v", await downloadF32(ctx, s.v)],
          ] as const) {
            const r = unzip(ref[key]);
            expectClose(got, r.want, r.bound, `${what} ${key}`, seed);
          }
          expectBits(await rawWords(ctx, wHalf), Array.from(w, f16Bits), `${what} f16 copy`, seed);
          destroyTensor(s.w, s.m, s.v, s.g, wHalf);
        });

  it("skips the step when the non-finite flag is set: w, m, v and the copy untouched", async () => {
    const { ctx, seed } = env;
    const n = 129;
    const s = await state("f16", n, 1024);
    const wHalf = await tensorFrom(ctx, "f16", [n], s.w0, "wHalf");
    const all = [s.w, s.m, s.v, wHalf];
    const before = await Promise.all(all.map((t) => rawWords(ctx, t)));
    const flag = await tensorFrom(ctx, "u32", [1], [1], "flag");
    await adam(ctx, { w: s.w, m: s.m, v: s.v, g: s.g, step: 3, lr: 1e-3, lossScale: 1024, flag, wHalf });
    const after = await Promise.all(all.map((t) => rawWords(ctx, t)));
    for (const [i, k] of ["w", "m", "v", "wHalf"].entries())
      expectBits(after[i], before[i], `skipped step: ${k}`, seed);
    destroyTensor(s.w, s.m, s.v, s.g, wHalf, flag);
  });

  it("f32 gradient and the f16 copy need no shader-f16", async () => {
    const { seed } = env;
    const ctx = await openDevice({ disable: ["shader-f16"] });
    try {
      const [w0, m0, v0, g0] = [
        [1, -2, 3],
        [0.01, 0, -0.01],
        [1e-4, 2e-4, 3e-4],
        [0.1, 0.2, 0.3],
      ].map((a) => quantize(a, "f32"));
      const [w, m, v, g] = await Promise.all([w0, m0, v0, g0].map((a) => tensorFrom(ctx, "f32", [3], a)));
      const wHalf = await createTensor(ctx, "f16", [3], "wHalf");
      const args: AdamArgs = { w, m, v, g, step: 2, lr: 1e-3, wHalf };
      await adam(ctx, args);
      const rw = unzip(adamRef(w0, m0, v0, g0, args).w);
      const got = await downloadF32(ctx, w);
      expectClose(got, rw.want, rw.bound, "adam without shader-f16", seed);
      expectBits(await rawWords(ctx, wHalf), Array.from(got, f16Bits), "f16 copy without shader-f16", seed);
    } finally {
      ctx.destroy();
    }
  });

  it("rejects bad inputs with KernelInputError", async () => {
    const { ctx } = env;
    const t = (dtype: "f32" | "f16" | "u32", n: number, label: string) =>
      createTensor(ctx, dtype, [n], label);
    const [w, m, v, g, g9, flag2] = await Promise.all([
      t("f32", 10, "w"),
      t("f32", 10, "m"),
      t("f32", 10, "v"),
      t("f16", 10, "g"),
      t("f16", 9, "g9"),
      t("u32", 2, "flag2"),
    ]);
    const ok = { w, m, v, g, step: 1, lr: 1e-3 };
    await expect(adam(ctx, { ...ok, g: g9 })).rejects.toThrow(/adam: g .*f16\[9\].* must hold 10/);
    await expect(adam(ctx, { ...ok, m: g })).rejects.toThrow(/m .* must be f32/);
    await expect(adam(ctx, { ...ok, flag: flag2 })).rejects.toThrow(/flag .*u32\[2\].* must hold 1/);
    await expect(adam(ctx, { ...ok, v: m })).rejects.toThrow(KernelInputError);
    await expect(adam(ctx, { ...ok, step: 0 })).rejects.toThrow(/step = 0/);
    await expect(adam(ctx, { ...ok, beta2: 1 })).rejects.toThrow(/beta2/);
    await expect(adam(ctx, { ...ok, eps: 0 })).rejects.toThrow(KernelInputError);
    destroyTensor(w, m, v, g, g9, flag2);
  });
});
