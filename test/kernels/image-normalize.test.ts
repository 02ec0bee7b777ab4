import { describe, expect, it } from "vitest";
import { openDevice } from "../../src/gpu/device.js";
import { KernelInputError } from "../../src/gpu/errors.js";
import { imageNormalize, type Rgb } from "../../src/kernels/image-normalize.js";
import { createTensor, destroyTensor, downloadF32, fill, tensorFrom } from "../../src/kernels/tensor.js";
import { expectClose, useGpu } from "../helpers/gpu.js";
import { imageNormalizeRef, stored, unzip } from "./reference.js";

// Bound (reference.ts imageNormalizeRef): the kernel computes x·scale + bias in f32 from
// f32-rounded scale = 1/(255·std) and bias = −mean/std: ≤ 4·2^-24·(|x·scale| + |bias|). An f16
// output adds one f16 ulp (the conversion may round to either neighbour); past 65504 the output
// must be ±inf exactly.
const env = useGpu("image_normalize");

const IMAGENET = { mean: [0.485, 0.456, 0.406] as Rgb, std: [0.229, 0.224, 0.225] as Rgb };

function bytes(rng: () => number, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => Math.floor(rng() * 256));
}

describe("image_normalize", () => {
  // [batch, H, W]: one pixel (3 bytes, a partial word), odd sizes, and one 224×224 image.
  const SHAPES: [number, number, number][] = [
    [1, 1, 1],
    [17, 3, 5],
    [3, 129, 1],
    [1, 224, 224],
  ];
  for (const dtype of ["f32", "f16"] as const)
    for (const [batch, h, w] of SHAPES)
      it(`${dtype} ${batch}×${h}×${w}×3, ImageNet mean/std`, async () => {
        const { ctx, rng, seed } = env;
        const px = bytes(rng, batch * h * w * 3);
        const images = await tensorFrom(ctx, "u8", [batch, h, w, 3], px, "images");
        const out = await createTensor(ctx, dtype, [batch, h * w * 3], "out");
        fill(ctx, out, Number.NaN);
        await imageNormalize(ctx, { images, out, ...IMAGENET });
        const { want, bound } = unzip(
          imageNormalizeRef(px, IMAGENET.mean, IMAGENET.std).map((e) => stored(e.want, e.bound, dtype)),
        );
        expectClose(
          await downloadF32(ctx, out),
          want,
          bound,
          `image_normalize ${dtype} ${batch}×${h}×${w}`,
          seed,
        );
        destroyTensor(images, out);
      });

  it("f16: values past 65504 (tiny std) become ±inf, not garbage", async () => {
    const { ctx, rng, seed } = env;
    // std 1e-5: y = x·392.16 − mean·1e5; bytes ≥ 168 overflow (168·392.16 = 65882), 167 does not
    // (65490), so no value sits at the threshold.
    const mean: Rgb = [0, 0, 0];
    const std: Rgb = [1e-5, 1e-5, 1e-5];
    const px = bytes(rng, 2 * 8 * 8 * 3);
    px.set([0, 1, 167, 168, 255]);
    const images = await tensorFrom(ctx, "u8", [2, 8, 8, 3], px, "images");
    const out = await createTensor(ctx, "f16", [2, 8 * 8 * 3], "out");
    fill(ctx, out, Number.NaN);
    await imageNormalize(ctx, { images, out, mean, std });
    const ref = imageNormalizeRef(px, mean, std).map((e) => stored(e.want, e.bound, "f16"));
    expect(ref.filter((e) => e.want === Number.POSITIVE_INFINITY).length).toBeGreaterThan(0);
    const { want, bound } = unzip(ref);
    expectClose(await downloadF32(ctx, out), want, bound, "image_normalize f16 overflow", seed);
    destroyTensor(images, out);
  });

  it("f32 output needs no shader-f16", async () => {
    const { rng, seed } = env;
    const ctx = await openDevice({ disable: ["shader-f16"] });
    try {
      const px = bytes(rng, 2 * 4 * 4 * 3);
      const images = await tensorFrom(ctx, "u8", [2, 4, 4, 3], px, "images");
      const out = await createTensor(ctx, "f32", [2, 48], "out");
      await imageNormalize(ctx, { images, out, ...IMAGENET });
      const { want, bound } = unzip(imageNormalizeRef(px, IMAGENET.mean, IMAGENET.std));
      expectClose(await downloadF32(ctx, out), want, bound, "image_normalize without shader-f16", seed);
    } finally {
      ctx.destroy();
    }
  });

  it("rejects bad inputs with KernelInputError", async () => {
    const { ctx } = env;
    const images = await createTensor(ctx, "u8", [2, 4, 4, 3], "images");
    const out = await createTensor(ctx, "f32", [2, 48], "out");
    const short = await createTensor(ctx, "f32", [2, 45], "short");
    const notRgb = await createTensor(ctx, "f32", [2, 47], "notRgb");
    const asF32 = await createTensor(ctx, "f32", [2, 4, 4, 3], "asF32");
    const { mean, std } = IMAGENET;
    await expect(imageNormalize(ctx, { images, out: short, mean, std })).rejects.toThrow(
      /images .* must hold 90/,
    );
    await expect(imageNormalize(ctx, { images, out: notRgb, mean, std })).rejects.toThrow(
      /must be \[batch, H·W·3\]/,
    );
    await expect(imageNormalize(ctx, { images: asF32, out, mean, std })).rejects.toThrow(/must be u8/);
    await expect(imageNormalize(ctx, { images, out, mean, std: [0.2, 0, 0.2] })).rejects.toThrow(
      KernelInputError,
    );
    await expect(imageNormalize(ctx, { images, out, mean, std: [1e-300, 1, 1] })).rejects.toThrow(
      /overflow f32/,
    );
    destroyTensor(images, out, short, notRgb, asF32);
  });
});
