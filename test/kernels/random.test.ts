// The GPU random fill: every element written, inside [lo, hi), roughly uniform, seed-reproducible.
import { describe, expect, it } from "vitest";
import { fillUniform } from "../../src/kernels/random.js";
import { createTensor, downloadF32, fill } from "../../src/kernels/tensor.js";
import { useGpu } from "../helpers/gpu.js";

const env = useGpu("random.test");

describe("fillUniform", () => {
  for (const dtype of ["f32", "f16"] as const)
    it(`${dtype}: fills every element of an odd-sized tensor within [lo, hi), uniformly`, async () => {
      const { ctx, seed } = env;
      const n = 100_003;
      const t = await createTensor(ctx, dtype, [n], "r");
      fill(ctx, t, Number.NaN);
      await fillUniform(ctx, t, seed, -3, 5);
      const v = await downloadF32(ctx, t);
      let sum = 0;
      const bins = new Array(8).fill(0);
      for (const x of v) {
        expect(Number.isFinite(x) && x >= -3 && x <= 5, `value ${x} (seed ${seed})`).toBe(true);
        sum += x;
        bins[Math.min(7, Math.floor(x + 3))]++;
      }
      // Mean of U(-3,5) is 1 with sd 8/sqrt(12)=2.31; over 1e5 samples the SE is 0.0073: 6 SE = 0.044.
      expect(Math.abs(sum / n - 1), `mean (seed ${seed})`).toBeLessThan(0.044);
      for (const b of bins) expect(Math.abs(b / n - 1 / 8), `bins ${bins} (seed ${seed})`).toBeLessThan(0.01);
      const again = await createTensor(ctx, dtype, [n], "r2");
      await fillUniform(ctx, again, seed, -3, 5);
      expect(Array.from(await downloadF32(ctx, again))).toEqual(Array.from(v));
      await fillUniform(ctx, again, seed + 1, -3, 5);
      expect(Array.from(await downloadF32(ctx, again))).not.toEqual(Array.from(v));
    });
});
