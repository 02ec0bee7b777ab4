import { describe, expect, it } from "vitest";
import { openDevice } from "../../src/gpu/device.js";
import { KernelInputError } from "../../src/gpu/errors.js";
import { nonfinite } from "../../src/kernels/nonfinite.js";
import { sgd } from "../../src/kernels/sgd.js";
import {
  createTensor,
  destroyTensor,
  downloadF32,
  fill,
  type Tensor,
  tensorFrom,
  upload,
} from "../../src/kernels/tensor.js";
import { expectClose, useGpu } from "../helpers/gpu.js";
import { normal } from "../helpers/rng.js";
import {
  expectBits,
  f16Bits,
  f32Bits,
  quantize,
  rawWords,
  type SgdHyper,
  sgdRef,
  unzip,
} from "./reference.js";

// Expectations: one step of the float64 reference written from PyTorch's SGD rules
// (src/model/reference/optimizers.ts, checked against torch.optim), from the hyper-parameters as
// given. Bounds (reference.ts sgdRef): the update runs in f32 for both gradient types, so each
// f32 hyper-parameter errs by ≤ U relative and each of its ~6 operations by ≤ U·|its result|,
// summed with their propagation through lr and momentum. The f16 gradient is quantized before
// both see it. The f16 weight copy is checked bit-exactly against nearest-even rounding of the
// kernel's own new f32 weights.
const env = useGpu("sgd");

interface State {
  w: Tensor;
  v: Tensor;
  g: Tensor;
  w0: Float64Array;
  v0: Float64Array;
  g0: Float64Array;
}

async function state(dtype: "f32" | "f16", n: number, lossScale: number): Promise<State> {
  const { ctx, rng } = env;
  const w0 = quantize(normal(rng, n), "f32");
  const v0 = quantize(normal(rng, n, 0, 0.1), "f32");
  const g0 = quantize(normal(rng, n, 0, 0.01 * lossScale), dtype);
  return {
    w: await tensorFrom(ctx, "f32", [n], w0, "w"),
    v: await tensorFrom(ctx, "f32", [n], v0, "v"),
    g: await tensorFrom(ctx, dtype, [n], g0, "g"),
    w0,
    v0,
    g0,
  };
}

describe("sgd", () => {
  const HYPER: SgdHyper[] = [
    { lr: 0.1, momentum: 0.9, weightDecay: 5e-4, lossScale: 1024, nesterov: false },
    { lr: 0.03, momentum: 0.9, weightDecay: 1e-4, lossScale: 3, nesterov: true },
    { lr: 0.5, momentum: 0, weightDecay: 0, lossScale: 1, nesterov: false },
  ];
  for (const dtype of ["f32", "f16"] as const)
    for (const n of [1, 17, 129, 10_007])
      for (const [k, h] of HYPER.entries())
        it(`${dtype} grad, n=${n}, hyper #${k}${h.nesterov ? " (Nesterov)" : ""}, with the f16 copy`, async () => {
          const { ctx, seed } = env;
          const s = await state(dtype, n, h.lossScale);
          const wHalf = await createTensor(ctx, "f16", [n], "wHalf");
          fill(ctx, wHalf, Number.NaN);
          await sgd(ctx, { w: s.w, v: s.v, g: s.g, ...h, wHalf });
          const ref = sgdRef(s.w0, s.v0, s.g0, h);
          const what = `sgd ${dtype} n=${n} #${k}`;
          const w = await downloadF32(ctx, s.w);
          const rw = unzip(ref.w);
          expectClose(w, rw.want, rw.bound, `${what} w`, seed);
          const rv = unzip(ref.v);
          expectClose(await downloadF32(ctx, s.v), rv.want, rv.bound, `${what} v`, seed);
          expectBits(await rawWords(ctx, wHalf), Array.from(w, f16Bits), `${what} f16 copy`, seed);
          destroyTensor(s.w, s.v, s.g, wHalf);
        });

  it("skips the step when the non-finite flag is set: w, v and the copy untouched", async () => {
    const { ctx, seed } = env;
    const n = 129;
    const s = await state("f16", n, 1024);
    const wHalf = await tensorFrom(ctx, "f16", [n], s.w0, "wHalf");
    const before = [await rawWords(ctx, s.w), await rawWords(ctx, s.v), await rawWords(ctx, wHalf)];
    const flag = await tensorFrom(ctx, "u32", [1], [1], "flag");
    await sgd(ctx, { w: s.w, v: s.v, g: s.g, lr: 0.1, momentum: 0.9, lossScale: 1024, flag, wHalf });
    const after = [await rawWords(ctx, s.w), await rawWords(ctx, s.v), await rawWords(ctx, wHalf)];
    for (const [i, name] of ["w", "v", "wHalf"].entries())
      expectBits(after[i], before[i], `skipped step: ${name}`, seed);
    destroyTensor(s.w, s.v, s.g, wHalf, flag);
  });

  it("one encoder: nonfinite(reset) then sgd — skips on an inf gradient, steps on a finite one", async () => {
    const { ctx, seed } = env;
    const n = 64;
    const h: SgdHyper = { lr: 0.1, momentum: 0.9, weightDecay: 0, lossScale: 256, nesterov: false };
    const flag = await tensorFrom(ctx, "u32", [1], [1], "flag"); // stale: reset must clear it
    for (const poisoned of [true, false]) {
      const s = await state("f16", n, h.lossScale);
      if (poisoned) {
        s.g0[5] = Number.POSITIVE_INFINITY;
        upload(ctx, s.g, s.g0);
      }
      const enc = ctx.device.createCommandEncoder();
      await nonfinite(ctx, { x: s.g, flag, reset: true }, { encoder: enc });
      await sgd(ctx, { w: s.w, v: s.v, g: s.g, ...h, flag }, { encoder: enc });
      ctx.device.queue.submit([enc.finish()]);
      if (poisoned)
        expectBits(await rawWords(ctx, s.w), Array.from(s.w0, f32Bits), "w after an inf gradient", seed);
      else {
        const rw = unzip(sgdRef(s.w0, s.v0, s.g0, h).w);
        expectClose(await downloadF32(ctx, s.w), rw.want, rw.bound, "sgd after a clean check", seed);
      }
      destroyTensor(s.w, s.v, s.g);
    }
    destroyTensor(flag);
  });

  it("f32 gradient and the f16 copy need no shader-f16", async () => {
    const { seed } = env;
    const ctx = await openDevice({ disable: ["shader-f16"] });
    try {
      const h: SgdHyper = { lr: 0.1, momentum: 0.9, weightDecay: 0, lossScale: 1, nesterov: false };
      const w0 = [1, -2, 3];
      const w = await tensorFrom(ctx, "f32", [3], w0, "w");
      const v = await tensorFrom(ctx, "f32", [3], [0.5, 0.25, -1], "v");
      const g = await tensorFrom(ctx, "f32", [3], [0.1, 0.2, 0.3], "g");
      const wHalf = await createTensor(ctx, "f16", [3], "wHalf");
      await sgd(ctx, { w, v, g, ...h, wHalf });
      const rw = unzip(
        sgdRef(Float64Array.from(w0), Float64Array.of(0.5, 0.25, -1), quantize([0.1, 0.2, 0.3], "f32"), h).w,
      );
      const got = await downloadF32(ctx, w);
      expectClose(got, rw.want, rw.bound, "sgd without shader-f16", seed);
      expectBits(await rawWords(ctx, wHalf), Array.from(got, f16Bits), "f16 copy without shader-f16", seed);
    } finally {
      ctx.destroy();
    }
  });

  it("rejects bad inputs with KernelInputError", async () => {
    const { ctx } = env;
    const w = await createTensor(ctx, "f32", [10], "w");
    const v = await createTensor(ctx, "f32", [10], "v");
    const g = await createTensor(ctx, "f16", [10], "g");
    const g9 = await createTensor(ctx, "f16", [9], "g9");
    const w16 = await createTensor(ctx, "f16", [10], "w16");
    const copy32 = await createTensor(ctx, "f32", [10], "copy32");
    await expect(sgd(ctx, { w, v, g: g9, lr: 0.1 })).rejects.toThrow(/sgd: g .*f16\[9\].* must hold 10/);
    await expect(sgd(ctx, { w: w16, v, g, lr: 0.1 })).rejects.toThrow(/w .* must be f32/);
    await expect(sgd(ctx, { w, v, g, lr: 0.1, wHalf: copy32 })).rejects.toThrow(/wHalf .* must be f16/);
    await expect(sgd(ctx, { w, v: w, g, lr: 0.1 })).rejects.toThrow(KernelInputError);
    await expect(sgd(ctx, { w, v, g, lr: -1 })).rejects.toThrow(/lr = -1/);
    await expect(sgd(ctx, { w, v, g, lr: 0.1, lossScale: 0 })).rejects.toThrow(KernelInputError);
    destroyTensor(w, v, g, g9, w16, copy32);
  });
});
