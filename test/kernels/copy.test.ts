import { describe, expect, it } from "vitest";
import { KernelInputError } from "../../src/gpu/errors.js";
import { copyWords } from "../../src/kernels/copy.js";
import { sync } from "../../src/kernels/program.js";
import { createTensor, destroyTensor, download, tensorFrom, upload } from "../../src/kernels/tensor.js";
import { useGpu } from "../helpers/gpu.js";

// Bound: bit-exact. The copy of the first `bytes` must equal the source word for word, from
// random words (any bit pattern, NaNs included if read as floats), and every word of dst past
// `bytes` must keep its poison: the odd tails (one word past a workgroup's pair, a lone word)
// are where a wrong bound would copy too much or too little.
const env = useGpu("copy");
const POISON = 0xdeadbeef;

describe("copyWords (16-byte words, the optimizers' memory ceiling)", () => {
  for (const words of [1, 3, 512, 513, 1031, 70001])
    it(`copies ${words} words and nothing past them`, async () => {
      const { ctx, rng } = env;
      const total = 4 * (words + 5); // u32 elements, 5 words of slack
      const values = Array.from({ length: total }, () => Math.floor(rng() * 2 ** 32));
      const src = await tensorFrom(ctx, "u32", [total], values, "src");
      const dst = await createTensor(ctx, "u32", [total], "dst");
      upload(ctx, dst, new Array(total).fill(POISON));
      await copyWords(ctx, { src: src.buffer, dst: dst.buffer, bytes: 16 * words });
      await sync(ctx, "copy");
      const got = Array.from(await download(ctx, dst));
      const want = [...values.slice(0, 4 * words), ...new Array(total - 4 * words).fill(POISON)];
      const bad = got.findIndex((v, i) => v !== want[i]);
      expect(bad, `first wrong word at u32 ${bad} (seed ${env.seed})`).toBe(-1);
      destroyTensor(src, dst);
    });

  it("rejects a byte count that is not a positive multiple of 16, or past a buffer", async () => {
    const { ctx } = env;
    const b = await createTensor(ctx, "u32", [8], "b");
    const a = await createTensor(ctx, "u32", [b.buffer.size], "a"); // 4× b's buffer
    await expect(copyWords(ctx, { src: a.buffer, dst: b.buffer, bytes: 20 })).rejects.toThrow(
      KernelInputError,
    );
    await expect(copyWords(ctx, { src: a.buffer, dst: b.buffer, bytes: 0 })).rejects.toThrow(
      /multiple of 16/,
    );
    await expect(copyWords(ctx, { src: a.buffer, dst: b.buffer, bytes: b.buffer.size + 16 })).rejects.toThrow(
      new RegExp(`dst holds ${b.buffer.size} bytes`),
    );
    await expect(copyWords(ctx, { src: a.buffer, dst: a.buffer, bytes: 16 })).rejects.toThrow(/different/);
    destroyTensor(a, b);
  });
});
