import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/util/rng.js";

// mulberry32 written independently in exact unsigned 32-bit arithmetic (BigInt): the fast
// Int32Array-state form must give the same sequence, so every seeded dataset, bootstrap and test
// input of the project stays what it was.
function mulberry32Reference(seed: number): () => number {
  const M = 0xffffffffn;
  let s = BigInt(seed >>> 0);
  const mul = (a: bigint, b: bigint) => (a * b) & M;
  return () => {
    s = (s + 0x6d2b79f5n) & M;
    let t = s;
    t = mul(t ^ (t >> 15n), t | 1n);
    t = (t ^ ((t + mul(t ^ (t >> 7n), t | 61n)) & M)) & M;
    return Number((t ^ (t >> 14n)) & M) / 4294967296;
  };
}

describe("seededRandom (mulberry32)", () => {
  for (const seed of [0, 1, 42, 0x7fffffff, 0x80000000, 0xdeadbeef, 4294967295, -1, 2 ** 40 + 3])
    it(`seed ${seed}: the first 20,000 draws equal the BigInt reference`, () => {
      const fast = seededRandom(seed);
      const ref = mulberry32Reference(seed);
      for (let i = 0; i < 20_000; i++) {
        const a = fast();
        const b = ref();
        if (a !== b) expect(a, `draw ${i}`).toBe(b);
      }
    });

  it("draws lie in [0, 1)", () => {
    const r = seededRandom(7);
    for (let i = 0; i < 10_000; i++) {
      const x = r();
      expect(x >= 0 && x < 1).toBe(true);
    }
  });
});
