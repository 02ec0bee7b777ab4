import { describe, expect, it } from "vitest";
import { openDevice } from "../../src/gpu/device.js";
import { KernelInputError } from "../../src/gpu/errors.js";
import { f32ToF16Bits } from "../../src/kernels/f16.js";
import { nonfinite } from "../../src/kernels/nonfinite.js";
import {
  createTensor,
  destroyTensor,
  download,
  type Tensor,
  tensorFrom,
  upload,
} from "../../src/kernels/tensor.js";
import { useGpu } from "../helpers/gpu.js";
import { normal } from "../helpers/rng.js";

// No error bound here: the flag is exact. The detector must fire on +inf, −inf and NaN at any
// position (first, last, an odd f16 half) and stay 0 on the largest finite values.
const env = useGpu("nonfinite");

const MAX_FINITE = { f32: 3.4028234663852886e38, f16: 65504 } as const;
const BAD = { "+inf": Number.POSITIVE_INFINITY, "-inf": Number.NEGATIVE_INFINITY, NaN: Number.NaN };

async function flagAfter(x: Tensor, initial = 0, reset = false): Promise<number> {
  const { ctx } = env;
  const flag = await tensorFrom(ctx, "u32", [1], [initial], "flag");
  await nonfinite(ctx, { x, flag, reset });
  const v = (await download(ctx, flag))[0];
  destroyTensor(flag);
  return v;
}

/** Random finite values with the largest finite magnitudes mixed in. */
function finite(rng: () => number, n: number, dtype: "f32" | "f16"): Float64Array {
  const x = normal(rng, n, 0, 100);
  for (let i = 0; i < n; i += 7) x[i] = (i % 2 ? -1 : 1) * MAX_FINITE[dtype];
  return x;
}

describe("nonfinite", () => {
  for (const dtype of ["f32", "f16"] as const)
    for (const n of [1, 17, 129, 4097]) {
      it(`${dtype} n=${n}: silent on finite values up to ±${MAX_FINITE[dtype]}`, async () => {
        const { ctx, rng, seed } = env;
        const x = await tensorFrom(ctx, dtype, [n], finite(rng, n, dtype), "x");
        expect(await flagAfter(x), `seed ${seed}`).toBe(0);
        destroyTensor(x);
      });

      for (const [name, bad] of Object.entries(BAD))
        it(`${dtype} n=${n}: fires on ${name} at the first, last and a random position`, async () => {
          const { ctx, rng, seed } = env;
          const values = finite(rng, n, dtype);
          const x = await tensorFrom(ctx, dtype, [n], values, "x");
          for (const at of new Set([0, n - 1, Math.floor(rng() * n)])) {
            const v = Float64Array.from(values);
            v[at] = bad;
            upload(ctx, x, v);
            expect(await flagAfter(x), `${name} at ${at} (seed ${seed})`).toBe(1);
          }
          destroyTensor(x);
        });
    }

  it("f16 of odd length: ignores a NaN in the padding half of the last word", async () => {
    const { ctx } = env;
    const x = await createTensor(ctx, "f16", [5], "x");
    const words = Uint16Array.from([1, 2, 3, 4, 5, Number.NaN], (v) => f32ToF16Bits(v));
    ctx.device.queue.writeBuffer(x.buffer, 0, words);
    expect(await flagAfter(x)).toBe(0);
    destroyTensor(x);
  });

  it("never clears a raised flag unless asked to reset", async () => {
    const { ctx, rng } = env;
    const x = await tensorFrom(ctx, "f32", [33], finite(rng, 33, "f32"), "x");
    expect(await flagAfter(x, 1)).toBe(1);
    expect(await flagAfter(x, 1, true)).toBe(0);
    destroyTensor(x);
  });

  it("f32 past 65535 workgroups (2-D grid): finds an inf in the last element", async () => {
    const { ctx, rng, seed } = env;
    const n = 65535 * 256 + 77;
    const values = new Float32Array(n).fill(1.5);
    for (let i = 0; i < 1000; i++) values[Math.floor(rng() * n)] = -MAX_FINITE.f32;
    const x = await tensorFrom(ctx, "f32", [n], values, "x");
    expect(await flagAfter(x), `finite (seed ${seed})`).toBe(0);
    values[n - 1] = Number.POSITIVE_INFINITY;
    upload(ctx, x, values);
    expect(await flagAfter(x), `inf at the end (seed ${seed})`).toBe(1);
    destroyTensor(x);
  });

  it("needs no shader-f16: checks an f16 tensor on a device without it", async () => {
    const ctx = await openDevice({ disable: ["shader-f16"] });
    try {
      const x = await tensorFrom(ctx, "f16", [3], [1, Number.NEGATIVE_INFINITY, 2], "x");
      const flag = await tensorFrom(ctx, "u32", [1], [0], "flag");
      await nonfinite(ctx, { x, flag });
      expect((await download(ctx, flag))[0]).toBe(1);
    } finally {
      ctx.destroy();
    }
  });

  // Several tensors in one dispatch (the mixed step's dLogits, H and dH): of different lengths,
  // so the shorter ones end inside the grid; odd f16 lengths, their padding halves poisoned.
  for (const dtype of ["f32", "f16"] as const)
    it(`${dtype}, three tensors in one dispatch: fires on a bad value in any one, nowhere else`, async () => {
      const { ctx, rng, seed } = env;
      const lengths = [37, 4097, 515];
      const values = lengths.map((n) => finite(rng, n, dtype));
      const xs = await Promise.all(values.map((v, i) => tensorFrom(ctx, dtype, [v.length], v, `x${i}`)));
      const check = async () => {
        const flag = await tensorFrom(ctx, "u32", [1], [0], "flag");
        await nonfinite(ctx, { x: xs, flag });
        const v = (await download(ctx, flag))[0];
        destroyTensor(flag);
        return v;
      };
      // f16: NaN in the padding half after each (odd-length) tensor's last element, still silent.
      if (dtype === "f16")
        for (const [i, x] of xs.entries()) {
          const bits = Uint16Array.from([...values[i], Number.NaN], (v) => f32ToF16Bits(v));
          ctx.device.queue.writeBuffer(x.buffer, x.byteOffset ?? 0, bits);
        }
      expect(await check(), `all finite (seed ${seed})`).toBe(0);
      for (const [i, x] of xs.entries())
        for (const at of [0, lengths[i] - 1, Math.floor(rng() * lengths[i])]) {
          const v = Float64Array.from(values[i]);
          v[at] = Number.POSITIVE_INFINITY;
          upload(ctx, x, v);
          expect(await check(), `inf in tensor ${i} at ${at} (seed ${seed})`).toBe(1);
          upload(ctx, x, values[i]);
        }
      expect(await check(), `finite again (seed ${seed})`).toBe(0);
      destroyTensor(...xs);
    });

  it("rejects bad inputs with KernelInputError", async () => {
    const { ctx } = env;
    const x = await createTensor(ctx, "f32", [4], "x");
    const u = await createTensor(ctx, "u32", [4], "u");
    const flag2 = await createTensor(ctx, "u32", [2], "flag2");
    const flagF = await createTensor(ctx, "f32", [1], "flagF");
    await expect(nonfinite(ctx, { x: u, flag: flag2 })).rejects.toThrow(/x .*u32\[4\].* must be f32 or f16/);
    await expect(nonfinite(ctx, { x, flag: flag2 })).rejects.toThrow(/flag .*u32\[2\].* must hold 1/);
    await expect(nonfinite(ctx, { x, flag: flagF })).rejects.toThrow(KernelInputError);
    await expect(nonfinite(ctx, { x: [], flag: flag2 })).rejects.toThrow(/no tensor/);
    await expect(nonfinite(ctx, { x: [x, u], flag: flag2 })).rejects.toThrow(/x\[1\] .*u32\[4\]/);
    destroyTensor(x, u, flag2, flagF);
  });
});
