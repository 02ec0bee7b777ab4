import { describe, expect, it } from "vitest";
import { KernelInputError } from "../../src/gpu/errors.js";
import { biasGrad } from "../../src/kernels/bias-grad.js";
import { createTensor, destroyTensor, downloadF32, fill, tensorFrom } from "../../src/kernels/tensor.js";
import { expectClose, useGpu } from "../helpers/gpu.js";
import { normal } from "../helpers/rng.js";
import { biasGradRef, quantize, unzip } from "./reference.js";

// Bound (reference.ts biasGradRef): the kernel sums in f32 whatever dY's type, so for f16 as for
// f32 the error is only the f32 additions, ≤ (rows + 4)·2^-24·Σ|dY| per column (f16 inputs are
// quantized in the reference, and f16 → f32 is exact); the output is f32, no store rounding.
const env = useGpu("bias_grad");

const SHAPES: [number, number][] = [
  [1, 1],
  [17, 129],
  [129, 17],
  [256, 525],
];

describe("bias_grad", () => {
  for (const dtype of ["f32", "f16"] as const) {
    for (const [rows, cols] of SHAPES)
      it(`${dtype} [${rows}×${cols}]: column sums`, async () => {
        const { ctx, rng, seed } = env;
        const dy = quantize(normal(rng, rows * cols), dtype);
        const tDy = await tensorFrom(ctx, dtype, [rows, cols], dy, "dY");
        const db = await createTensor(ctx, "f32", [cols], "db");
        fill(ctx, db, Number.NaN);
        await biasGrad(ctx, { dY: tDy, db });
        const { want, bound } = unzip(biasGradRef(dy, rows, cols));
        expectClose(await downloadF32(ctx, db), want, bound, `bias_grad ${dtype} ${rows}×${cols}`, seed);
        destroyTensor(tDy, db);
      });

    it(`${dtype} 3-D dY [4×33×70] sums every leading dimension, accumulate adds to db`, async () => {
      const { ctx, rng, seed } = env;
      const [a, b, cols] = [4, 33, 70];
      const dy = quantize(normal(rng, a * b * cols), dtype);
      const db0 = quantize(normal(rng, cols), "f32");
      const tDy = await tensorFrom(ctx, dtype, [a, b, cols], dy, "dY");
      const db = await tensorFrom(ctx, "f32", [cols], db0, "db");
      await biasGrad(ctx, { dY: tDy, db, accumulate: true });
      const { want, bound } = unzip(biasGradRef(dy, a * b, cols, db0));
      expectClose(await downloadF32(ctx, db), want, bound, `bias_grad accumulate ${dtype}`, seed);
      destroyTensor(tDy, db);
    });
  }

  it("rejects bad inputs with KernelInputError", async () => {
    const { ctx } = env;
    const dY = await createTensor(ctx, "f16", [8, 5], "dY");
    const db = await createTensor(ctx, "f32", [5], "db");
    const db4 = await createTensor(ctx, "f32", [4], "db4");
    const dbHalf = await createTensor(ctx, "f16", [5], "dbHalf");
    const ints = await createTensor(ctx, "u32", [8, 5], "ints");
    await expect(biasGrad(ctx, { dY, db: db4 })).rejects.toThrow(/bias_grad: db .*f32\[4\].* must hold 5/);
    await expect(biasGrad(ctx, { dY, db: dbHalf })).rejects.toThrow(KernelInputError);
    await expect(biasGrad(ctx, { dY: ints, db })).rejects.toThrow(/dY .*u32\[8×5\].* must be f32 or f16/);
    const dY32 = await createTensor(ctx, "f32", [1, 5], "dY32");
    await expect(biasGrad(ctx, { dY: dY32, db: dY32 })).rejects.toThrow(KernelInputError);
    destroyTensor(dY, db, db4, dbHalf, ints, dY32);
  });
});
