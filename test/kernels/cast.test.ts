import { describe, expect, it } from "vitest";
import { openDevice } from "../../src/gpu/device.js";
import { KernelInputError } from "../../src/gpu/errors.js";
import { cast } from "../../src/kernels/cast.js";
import { f16BitsToF32 } from "../../src/kernels/f16.js";
import { createTensor, destroyTensor, fill, tensorFrom, upload } from "../../src/kernels/tensor.js";
import { useGpu } from "../helpers/gpu.js";
import { normal } from "../helpers/rng.js";
import { expectBits, f16Bits, f32Bits, rawWords } from "./reference.js";

// Bound: bit-exact. The kernel converts with integer arithmetic, so its f16 bits must equal
// IEEE round-to-nearest-even (src/kernels/f16.ts, f32ToF16Bits) for every input — ties,
// subnormals, overflow to ±inf, NaN payloads, signed zeros — and f16 → f32 is exact.
const env = useGpu("cast");

/** Values that exercise every branch of f32 → f16. */
const SPECIAL = [
  0,
  -0,
  1,
  -1,
  65504,
  -65504,
  65519.996,
  65520,
  -65520,
  1e6,
  -3.4e38,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Number.NaN,
  2 ** -14,
  2 ** -24,
  -(2 ** -24),
  2 ** -25,
  2 ** -25 * 1.0001,
  2 ** -26,
  1 + 2 ** -11,
  1 + 3 * 2 ** -11,
  2049,
  2051,
  1e-45,
  6.1e-5,
  3 * 2 ** -25,
];

/** Random f32 values over f16's whole range and past it: sign·normal·2^k, k in [-30, 20]. */
function spread(rng: () => number, n: number): Float32Array {
  const z = normal(rng, n);
  return Float32Array.from(z, (v) => v * 2 ** Math.floor(rng() * 51 - 30));
}

/** The f32 bits of f16 bits h: exact, NaN payload shifted up (what the kernel must give). */
function f16ToF32Bits(h: number): number {
  if ((h & 0x7c00) === 0x7c00) return (((h & 0x8000) << 16) | 0x7f800000 | ((h & 0x3ff) << 13)) >>> 0;
  return f32Bits(f16BitsToF32(h));
}

describe("cast", () => {
  for (const n of [1, 17, 129, 100_001])
    it(`f32 → f16, n=${n}: IEEE nearest-even bits, overflow to ±inf`, async () => {
      const { ctx, rng, seed } = env;
      const x = spread(rng, n);
      x.set(SPECIAL.slice(0, Math.min(n, SPECIAL.length)));
      const src = await tensorFrom(ctx, "f32", [n], x, "src");
      const dst = await createTensor(ctx, "f16", [n], "dst");
      fill(ctx, dst, Number.NaN);
      await cast(ctx, { src, dst });
      expectBits(await rawWords(ctx, dst), Array.from(x, f16Bits), `cast f32→f16 n=${n}`, seed);
      destroyTensor(src, dst);
    });

  it("f32 → f16: overflowing values become ±inf, 65504 < |x| < 65520 rounds to ±65504", async () => {
    const { ctx, seed } = env;
    const x = [65505, -65519, 65520, -65520, 70000, 1e30];
    const src = await tensorFrom(ctx, "f32", [x.length], x, "src");
    const dst = await createTensor(ctx, "f16", [x.length], "dst");
    await cast(ctx, { src, dst });
    expectBits(
      await rawWords(ctx, dst),
      [0x7bff, 0xfbff, 0x7c00, 0xfc00, 0x7c00, 0x7c00],
      "cast overflow",
      seed,
    );
    destroyTensor(src, dst);
  });

  it("f16 → f32: all 65536 f16 bit patterns, exact (subnormals, ±inf, NaN payloads)", async () => {
    const { ctx, seed } = env;
    const bits = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const src = await createTensor(ctx, "f16", [65536], "src");
    ctx.device.queue.writeBuffer(src.buffer, 0, bits);
    const dst = await createTensor(ctx, "f32", [65536], "dst");
    fill(ctx, dst, Number.NaN);
    await cast(ctx, { src, dst });
    expectBits(await rawWords(ctx, dst), Array.from(bits, f16ToF32Bits), "cast f16→f32 all patterns", seed);
    destroyTensor(src, dst);
  });

  for (const n of [1, 17, 129])
    it(`f16 → f32 → f16 round trip, n=${n}`, async () => {
      const { ctx, rng, seed } = env;
      const x = spread(rng, n);
      const half = await tensorFrom(ctx, "f16", [n], x, "half");
      const full = await createTensor(ctx, "f32", [n], "full");
      const back = await createTensor(ctx, "f16", [n], "back");
      fill(ctx, full, Number.NaN);
      fill(ctx, back, Number.NaN);
      await cast(ctx, { src: half, dst: full });
      await cast(ctx, { src: full, dst: back });
      expectBits(await rawWords(ctx, back), Array.from(x, f16Bits), `round trip n=${n}`, seed);
      destroyTensor(half, full, back);
    });

  it("needs no shader-f16: runs on a device without it", async () => {
    const { rng, seed } = env;
    const ctx = await openDevice({ disable: ["shader-f16"] });
    try {
      const x = spread(rng, 33);
      const src = await tensorFrom(ctx, "f32", [33], x, "src");
      const half = await createTensor(ctx, "f16", [33], "half");
      await cast(ctx, { src, dst: half });
      expectBits(await rawWords(ctx, half), Array.from(x, f16Bits), "cast without shader-f16", seed);
    } finally {
      ctx.destroy();
    }
  });

  it("rejects bad inputs with KernelInputError", async () => {
    const { ctx } = env;
    const a = await createTensor(ctx, "f32", [10], "a");
    const b = await createTensor(ctx, "f32", [10], "b");
    const h9 = await createTensor(ctx, "f16", [9], "h9");
    const u = await createTensor(ctx, "u32", [10], "u");
    upload(ctx, u, new Uint32Array(10));
    await expect(cast(ctx, { src: a, dst: b })).rejects.toThrow(/cast: dst .*f32\[10\].* must be f16/);
    await expect(cast(ctx, { src: a, dst: h9 })).rejects.toThrow(/dst .*f16\[9\].* must hold 10/);
    await expect(cast(ctx, { src: u, dst: a })).rejects.toThrow(KernelInputError);
    destroyTensor(a, b, h9, u);
  });
});
