// Seeded randomness for tests: fresh inputs each run, reproducible from the printed seed.
// HALFWATT_SEED=<n> replays a failing run.
import { seededRandom } from "../../src/util/rng.js";

/** The project's seeded generator (src/util/rng.ts). */
export const makeRng = seededRandom;

export function runSeed(): number {
  const env = process.env.HALFWATT_SEED;
  return env ? Number(env) : Math.floor(Math.random() * 2 ** 31);
}

/** Uniform values in [lo, hi), never all zero. */
export function uniform(rng: () => number, n: number, lo = -1, hi = 1): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rng();
  return out;
}

/** Standard normal values (Box–Muller). */
export function normal(rng: () => number, n: number, mean = 0, sd = 1): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = 1 - rng();
    const v = rng();
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = mean + sd * r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = mean + sd * r * Math.sin(2 * Math.PI * v);
  }
  return out;
}
