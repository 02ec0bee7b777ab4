// Seeded randomness, one implementation for the whole project (bootstrap resampling, the GEMM
// self-check, test data): a run can be replayed from its printed seed.

/** mulberry32: a small, fast, seedable 32-bit generator, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
