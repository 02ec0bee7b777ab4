import { describe, expect, it } from "vitest";
import { openDevice } from "../../src/gpu/device.js";
import { KernelInputError, MissingFeatureError } from "../../src/gpu/errors.js";
import { softmaxXent } from "../../src/kernels/softmax-xent.js";
import {
  createTensor,
  destroyTensor,
  downloadF32,
  fill,
  type Tensor,
  tensorFrom,
} from "../../src/kernels/tensor.js";
import { expectClose, useGpu } from "../helpers/gpu.js";
import { normal } from "../helpers/rng.js";
import { quantize, softmaxXentRef, stored, unzip } from "./reference.js";

// Bounds (reference.ts softmaxXentRef): the kernel works in f32 for both T, so the bounds are
// those of its f32 ops at WGSL's stated accuracy — exp within (3 + 2|x − max|) ulps, division
// 2.5 ulps, log 2^-21 absolute near 1 else 3 ulps, sums of n positive terms n·2^-24 relative —
// on the reference's quantized logits. An f16 gradient adds one f16 ulp for the store; losses
// are f32.
const env = useGpu("softmax_xent");

const SHAPES: [number, number][] = [
  [1, 1],
  [1, 17],
  [17, 129],
  [256, 525],
  [3, 1000],
];

function randomLabels(rng: () => number, batch: number, classes: number): Uint32Array {
  return Uint32Array.from({ length: batch }, () => Math.floor(rng() * classes));
}

async function poisoned(dtype: "f32" | "f16", shape: number[], label: string): Promise<Tensor> {
  const t = await createTensor(env.ctx, dtype, shape, label);
  fill(env.ctx, t, Number.NaN);
  return t;
}

describe("softmax_xent", () => {
  for (const dtype of ["f32", "f16"] as const)
    for (const [batch, classes] of SHAPES)
      it(`${dtype} [${batch}×${classes}]: mean loss, row losses and the scaled gradient`, async () => {
        const { ctx, rng, seed } = env;
        const lossScale = dtype === "f16" ? 1024 : 1;
        const x = quantize(normal(rng, batch * classes, 0, 3), dtype);
        const labels = randomLabels(rng, batch, classes);
        const logits = await tensorFrom(ctx, dtype, [batch, classes], x, "logits");
        const tLabels = await tensorFrom(ctx, "u32", [batch], labels, "labels");
        const dLogits = await poisoned(dtype, [batch, classes], "dLogits");
        const loss = await poisoned("f32", [1], "loss");
        const rowLoss = await poisoned("f32", [batch], "rowLoss");
        await softmaxXent(ctx, { logits, labels: tLabels, dLogits, loss, rowLoss, lossScale });
        const ref = softmaxXentRef(x, labels, batch, classes, lossScale);
        const what = `softmax_xent ${dtype} ${batch}×${classes}`;
        const g = unzip(ref.grad.map((e) => stored(e.want, e.bound, dtype)));
        expectClose(await downloadF32(ctx, dLogits), g.want, g.bound, `${what} dLogits`, seed);
        const r = unzip(ref.rows);
        expectClose(await downloadF32(ctx, rowLoss), r.want, r.bound, `${what} rowLoss`, seed);
        const m = unzip([ref.mean]);
        expectClose(await downloadF32(ctx, loss), m.want, m.bound, `${what} loss`, seed);
        destroyTensor(logits, tLabels, dLogits, loss, rowLoss);
      });

  it("loss alone (row losses in scratch), and gradient alone", async () => {
    const { ctx, rng, seed } = env;
    const [batch, classes] = [33, 70];
    const x = quantize(normal(rng, batch * classes, 0, 3), "f16");
    const labels = randomLabels(rng, batch, classes);
    const logits = await tensorFrom(ctx, "f16", [batch, classes], x, "logits");
    const tLabels = await tensorFrom(ctx, "u32", [batch], labels, "labels");
    const loss = await poisoned("f32", [1], "loss");
    const dLogits = await poisoned("f16", [batch, classes], "dLogits");
    await softmaxXent(ctx, { logits, labels: tLabels, loss });
    await softmaxXent(ctx, { logits, labels: tLabels, dLogits });
    const ref = softmaxXentRef(x, labels, batch, classes, 1);
    const m = unzip([ref.mean]);
    expectClose(await downloadF32(ctx, loss), m.want, m.bound, "loss alone", seed);
    const g = unzip(ref.grad.map((e) => stored(e.want, e.bound, "f16")));
    expectClose(await downloadF32(ctx, dLogits), g.want, g.bound, "gradient alone", seed);
    destroyTensor(logits, tLabels, loss, dLogits);
  });

  it("f16: a gradient that overflows under the loss scale becomes ±inf", async () => {
    const { ctx, rng, seed } = env;
    // batch 1, scale 2^20: the label's entry (p − 1)·2^20 ≈ −10^6 is far past −65504, and so is
    // every entry with p > 1/16; smaller p stay finite. Logits are drawn again until no entry is
    // within rounding of the threshold (where inf and 65504 would both be right).
    const classes = 40;
    const labels = Uint32Array.of(7);
    const scale = 2 ** 20;
    let x = quantize(normal(rng, classes, 0, 1), "f16");
    let ref = softmaxXentRef(x, labels, 1, classes, scale);
    const straddles = (r: typeof ref) =>
      r.grad.some((e) => {
        try {
          stored(e.want, e.bound, "f16");
          return false;
        } catch {
          return true;
        }
      });
    while (straddles(ref)) {
      x = quantize(normal(rng, classes, 0, 1), "f16");
      ref = softmaxXentRef(x, labels, 1, classes, scale);
    }
    const logits = await tensorFrom(ctx, "f16", [1, classes], x, "logits");
    const tLabels = await tensorFrom(ctx, "u32", [1], labels, "labels");
    const dLogits = await poisoned("f16", [1, classes], "dLogits");
    await softmaxXent(ctx, { logits, labels: tLabels, dLogits, lossScale: scale });
    const got = await downloadF32(ctx, dLogits);
    expect(got[7]).toBe(Number.NEGATIVE_INFINITY);
    const g = unzip(ref.grad.map((e) => stored(e.want, e.bound, "f16")));
    expectClose(got, g.want, g.bound, "overflowing gradient", seed);
    destroyTensor(logits, tLabels, dLogits);
  });

  it("a label out of range gives a NaN row loss and a NaN gradient row, other rows intact", async () => {
    const { ctx, rng, seed } = env;
    const [batch, classes] = [3, 10];
    const x = quantize(normal(rng, batch * classes), "f16");
    const labels = Uint32Array.of(2, 10, 9);
    const tLabels = await tensorFrom(ctx, "u32", [batch], labels, "labels");
    const dLogits = await poisoned("f16", [batch, classes], "dLogits");
    const logits = await tensorFrom(ctx, "f16", [batch, classes], x, "logits");
    const rowLoss = await poisoned("f32", [batch], "rowLoss");
    const loss = await poisoned("f32", [1], "loss");
    await softmaxXent(ctx, { logits, labels: tLabels, dLogits, rowLoss, loss });
    const ref = softmaxXentRef(x, labels, batch, classes, 1);
    const r = unzip(ref.rows);
    expectClose(await downloadF32(ctx, rowLoss), r.want, r.bound, "rows with a bad label", seed);
    expect((await downloadF32(ctx, loss))[0]).toBeNaN();
    const g = unzip(ref.grad.map((e) => stored(e.want, e.bound, "f16")));
    expectClose(await downloadF32(ctx, dLogits), g.want, g.bound, "gradient with a bad label", seed);
    destroyTensor(logits, tLabels, dLogits, rowLoss, loss);
  });

  it("f32 needs no shader-f16; f16 logits on such a device throw MissingFeatureError", async () => {
    const { rng, seed } = env;
    const ctx = await openDevice({ disable: ["shader-f16"] });
    try {
      const x = quantize(normal(rng, 2 * 9), "f32");
      const labels = Uint32Array.of(3, 8);
      const logits = await tensorFrom(ctx, "f32", [2, 9], x, "logits");
      const tLabels = await tensorFrom(ctx, "u32", [2], labels, "labels");
      const loss = await createTensor(ctx, "f32", [1], "loss");
      await softmaxXent(ctx, { logits, labels: tLabels, loss });
      const m = unzip([softmaxXentRef(x, labels, 2, 9, 1).mean]);
      expectClose(await downloadF32(ctx, loss), m.want, m.bound, "softmax_xent without shader-f16", seed);
      const logits16 = await createTensor(ctx, "f16", [2, 9], "logits16");
      await expect(softmaxXent(ctx, { logits: logits16, labels: tLabels, loss })).rejects.toThrow(
        MissingFeatureError,
      );
    } finally {
      ctx.destroy();
    }
  });

  it("rejects bad inputs with KernelInputError", async () => {
    const { ctx } = env;
    const logits = await createTensor(ctx, "f32", [4, 10], "logits");
    const flat = await createTensor(ctx, "f32", [40], "flat");
    const labels = await createTensor(ctx, "u32", [4], "labels");
    const labels5 = await createTensor(ctx, "u32", [5], "labels5");
    const labelsI = await createTensor(ctx, "i32", [4], "labelsI");
    const dHalf = await createTensor(ctx, "f16", [4, 10], "dHalf");
    const loss = await createTensor(ctx, "f32", [1], "loss");
    await expect(softmaxXent(ctx, { logits, labels: labels5, loss })).rejects.toThrow(
      /labels .*u32\[5\].* must hold 4 elements \(one per row of logits/,
    );
    await expect(softmaxXent(ctx, { logits, labels: labelsI, loss })).rejects.toThrow(/must be u32/);
    await expect(softmaxXent(ctx, { logits: flat, labels, loss })).rejects.toThrow(/\[batch, classes\]/);
    await expect(softmaxXent(ctx, { logits, labels, dLogits: dHalf })).rejects.toThrow(
      /dLogits .* must be f32/,
    );
    await expect(softmaxXent(ctx, { logits, labels })).rejects.toThrow(/no output/);
    await expect(softmaxXent(ctx, { logits, labels, loss, lossScale: 0 })).rejects.toThrow(KernelInputError);
    await expect(softmaxXent(ctx, { logits, labels, loss: logits })).rejects.toThrow(KernelInputError);
    destroyTensor(logits, flat, labels, labels5, labelsI, dHalf, loss);
  });
});
