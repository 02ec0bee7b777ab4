// The run plan: replicates as blocks, every configuration once per block in a seeded random order
// (so drift in temperature or clocks over the suite spreads over all configurations alike), and a
// seed per run derived from (master seed, configuration id, replicate) alone, so that resuming,
// reordering or adding replicates never changes the seed of a run already planned.
import { createHash } from "node:crypto";
import { seededRandom } from "../util/rng.js";
import type { PlannedRun, SuiteSpec } from "./types.js";

/** A 32-bit unsigned integer from SHA-256 of the parts (NUL-separated, so "a","bc" ≠ "ab","c"). */
export function hashSeed(...parts: (string | number)[]): number {
  return createHash("sha256").update(parts.map(String).join("\u0000")).digest().readUInt32BE(0);
}

/** The seed of one run: depends on nothing but the master seed, the configuration and the replicate. */
export function runSeed(masterSeed: number, configId: string, replicate: number): number {
  return hashSeed("run", masterSeed, configId, replicate);
}

/** Fisher–Yates shuffle of a copy, drawing from `rng`. */
export function shuffled<T>(items: readonly T[], rng: () => number): T[] {
  const a = items.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** The order of block `block`: its own generator, so a block's order ignores how many follow. */
export function blockOrder(masterSeed: number, block: number, configIds: readonly string[]): string[] {
  return shuffled(configIds, seededRandom(hashSeed("block", masterSeed, block)));
}

export function planRuns(spec: SuiteSpec): PlannedRun[] {
  const ids = spec.configurations.map((c) => c.id);
  const out: PlannedRun[] = [];
  for (let block = 0; block < spec.replicates; block++)
    for (const configId of blockOrder(spec.seed, block, ids))
      out.push({
        index: out.length,
        block,
        configId,
        replicate: block + 1,
        seed: runSeed(spec.seed, configId, block + 1),
      });
  return out;
}
