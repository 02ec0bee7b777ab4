import { describe, expect, it } from "vitest";
import { KernelInputError } from "../../src/gpu/errors.js";
import { spin } from "../../src/kernels/spin.js";
import { destroyTensor, download, tensorFrom } from "../../src/kernels/tensor.js";
import { useGpu } from "../helpers/gpu.js";

// The clock ramp's load must really run (its stored result is what keeps a compiler from
// dropping the loop): every element equals the LCG iterated on the host in exact 32-bit
// arithmetic (BigInt, not the shader's own formula restated in floats).
const env = useGpu("spin");

function lcg(start: number, iters: number): number {
  let x = BigInt(start >>> 0);
  for (let i = 0; i < iters; i++) x = (x * 1664525n + 1013904223n) & 0xffffffffn;
  return Number(x);
}

describe("spin", () => {
  for (const [n, iters, seed] of [
    [1, 0, 0],
    [257, 1, 7],
    [1000, 37, 0xdeadbeef],
    [70_001, 300, 12345],
  ] as const)
    it(`n=${n}, ${iters} iterations, seed ${seed}: out[j] = LCG^iters(j ^ seed), every element`, async () => {
      const { ctx } = env;
      // Poisoned: a value no element can hold after the kernel unless it wrote nothing.
      const out = await tensorFrom(ctx, "u32", [n], new Uint32Array(n).fill(0xa5a5a5a5), "out");
      await spin(ctx, { out, iters, seed });
      const got = await download(ctx, out);
      for (let j = 0; j < n; j++)
        if (got[j] !== lcg((j ^ seed) >>> 0, iters))
          expect(got[j], `j=${j}`).toBe(lcg((j ^ seed) >>> 0, iters));
      destroyTensor(out);
    });

  it("refuses a non-u32 output and a fractional or negative iteration count, naming the op", async () => {
    const { ctx } = env;
    const f = await tensorFrom(ctx, "f32", [4], [1, 2, 3, 4], "f");
    const u = await tensorFrom(ctx, "u32", [4], [1, 2, 3, 4], "u");
    await expect(spin(ctx, { out: f, iters: 1 })).rejects.toThrow(/^spin: /);
    await expect(spin(ctx, { out: u, iters: 1.5 })).rejects.toBeInstanceOf(KernelInputError);
    await expect(spin(ctx, { out: u, iters: -1 })).rejects.toThrow(/iters/);
    destroyTensor(f, u);
  });
});
