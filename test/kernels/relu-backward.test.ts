import { describe, expect, it } from "vitest";
import { KernelInputError } from "../../src/gpu/errors.js";
import { reluBackward } from "../../src/kernels/relu-backward.js";
import { createTensor, destroyTensor, downloadF32, fill, tensorFrom } from "../../src/kernels/tensor.js";
import { expectClose, useGpu } from "../helpers/gpu.js";
import { normal } from "../helpers/rng.js";
import { quantize } from "./reference.js";

// Bound 0 in both precisions: the kernel only selects dY or 0, no arithmetic, and dY is stored
// in the output's own type.
const env = useGpu("relu_backward");

describe("relu_backward", () => {
  for (const dtype of ["f32", "f16"] as const)
    for (const n of [1, 17, 129, 100_003])
      for (const input of ["output", "pre-activation"] as const)
        it(`${dtype} n=${n}, y = ${input}`, async () => {
          const { ctx, rng, seed } = env;
          const z = quantize(normal(rng, n), dtype);
          if (n === 1) z[0] = Math.abs(z[0]); // one element: make it pass through, not 0
          const y = input === "output" ? z.map((v) => Math.max(v, 0)) : z;
          const dy = quantize(normal(rng, n, 0, 10), dtype);
          const tY = await tensorFrom(ctx, dtype, [n], y, "y");
          const tDy = await tensorFrom(ctx, dtype, [n], dy, "dY");
          const dX = await createTensor(ctx, dtype, [n], "dX");
          fill(ctx, dX, Number.NaN);
          await reluBackward(ctx, { dY: tDy, y: tY, dX });
          const want = dy.map((g, i) => (z[i] > 0 ? g : 0));
          expectClose(await downloadF32(ctx, dX), want, () => 0, `relu_backward ${dtype} n=${n}`, seed);
          destroyTensor(tY, tDy, dX);
        });

  it("masks an inf/NaN gradient where y ≤ 0 (PyTorch), passes it where y > 0", async () => {
    const { ctx, seed } = env;
    const y = [1, 0, -1, 2, 0];
    const dy = [Number.POSITIVE_INFINITY, Number.NaN, Number.NEGATIVE_INFINITY, Number.NaN, 3];
    const tY = await tensorFrom(ctx, "f16", [5], y, "y");
    const tDy = await tensorFrom(ctx, "f16", [5], dy, "dY");
    const dX = await createTensor(ctx, "f16", [5], "dX");
    await reluBackward(ctx, { dY: tDy, y: tY, dX });
    const want = [Number.POSITIVE_INFINITY, 0, 0, Number.NaN, 0];
    expectClose(await downloadF32(ctx, dX), want, () => 0, "relu_backward non-finite", seed);
    destroyTensor(tY, tDy, dX);
  });

  it("f16 past 65535 workgroups (2-D grid): every element written", async () => {
    const { ctx, rng, seed } = env;
    const n = 65535 * 256 + 333;
    const y = Float32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 0 : 1));
    const dy = Float32Array.from({ length: n }, () => 1 + Math.floor(rng() * 1000));
    const tY = await tensorFrom(ctx, "f16", [n], y, "y");
    const tDy = await tensorFrom(ctx, "f16", [n], dy, "dY");
    const dX = await createTensor(ctx, "f16", [n], "dX");
    fill(ctx, dX, Number.NaN);
    await reluBackward(ctx, { dY: tDy, y: tY, dX });
    const want = dy.map((g, i) => (y[i] > 0 ? g : 0));
    expectClose(await downloadF32(ctx, dX), want, () => 0, "relu_backward 2-D grid", seed);
    destroyTensor(tY, tDy, dX);
  });

  it("rejects bad inputs with KernelInputError", async () => {
    const { ctx } = env;
    const a = await createTensor(ctx, "f32", [10], "a");
    const b = await createTensor(ctx, "f32", [10], "b");
    const short = await createTensor(ctx, "f32", [9], "short");
    const half = await createTensor(ctx, "f16", [10], "half");
    await expect(reluBackward(ctx, { dY: a, y: b, dX: short })).rejects.toThrow(
      /dX .*f32\[9\].* must hold 10/,
    );
    await expect(reluBackward(ctx, { dY: a, y: half, dX: b })).rejects.toThrow(/y .*f16\[10\].* must be f32/);
    await expect(reluBackward(ctx, { dY: a, y: b, dX: a })).rejects.toThrow(KernelInputError);
    destroyTensor(a, b, short, half);
  });
});
