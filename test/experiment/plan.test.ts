// The run plan: blocks of every configuration once in a seeded random order, uniform over the
// permutations (Fisher–Yates, checked by a chi-square test over many blocks), and run seeds that
// depend only on (master seed, configuration id, replicate), so resuming or reordering keeps them.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { blockOrder, planRuns, shuffled } from "../../src/experiment/plan.js";
import { parseSuiteSpec } from "../../src/experiment/spec.js";
import type { SuiteSpec } from "../../src/experiment/types.js";
import { makeRng, runSeed as testSeed } from "../helpers/rng.js";

function spec(over: { seed?: number; replicates?: number; configurations?: unknown[] } = {}): SuiteSpec {
  return parseSuiteSpec(
    {
      name: "p",
      data: "synthetic",
      epochs: 2,
      seed: over.seed ?? 1,
      replicates: over.replicates ?? 5,
      configurations: over.configurations ?? [
        { precision: "f32", batch: 32, neurons: [1024] },
        { precision: "mixed", batch: 32, neurons: [1024] },
        { precision: "mixed", batch: 256, neurons: [1024] },
        { precision: "mixed", batch: 256, neurons: [2048] },
        { precision: "f32", batch: 64, neurons: [512] },
      ],
      carbon: { intensity: 100 },
    },
    "test",
  );
}

const orderOfBlocks = (plan: ReturnType<typeof planRuns>) => {
  const blocks: string[][] = [];
  for (const r of plan) {
    blocks[r.block] ??= [];
    blocks[r.block].push(r.configId);
  }
  return blocks;
};

/** The documented derivation, recomputed here: SHA-256 of "run", seed, id, replicate, NUL-joined. */
function expectedSeed(master: number, id: string, replicate: number): number {
  return createHash("sha256")
    .update(`run\u0000${master}\u0000${id}\u0000${replicate}`)
    .digest()
    .readUInt32BE(0);
}

describe("planRuns", () => {
  it("has replicates blocks, each a permutation of the configurations, indices 0..n-1 in order", () => {
    const s = spec();
    const plan = planRuns(s);
    const ids = s.configurations.map((c) => c.id);
    expect(plan).toHaveLength(5 * ids.length);
    expect(plan.map((r) => r.index)).toEqual([...plan.keys()]);
    const blocks = orderOfBlocks(plan);
    expect(blocks).toHaveLength(5);
    blocks.forEach((b, i) => {
      expect([...b].sort()).toEqual([...ids].sort());
      for (const r of plan.filter((r) => r.block === i)) expect(r.replicate).toBe(i + 1);
    });
    // Each configuration: replicates 1..5, once each.
    for (const id of ids)
      expect(plan.filter((r) => r.configId === id).map((r) => r.replicate)).toEqual([1, 2, 3, 4, 5]);
  });

  it("is a random order, not the file's: blocks differ from each other and from the listed order", () => {
    const s = spec();
    const blocks = orderOfBlocks(planRuns(s));
    const listed = s.configurations.map((c) => c.id).join();
    // 5 configurations: 120 orders per block; all five blocks equal, or all listed, is a bug.
    expect(new Set(blocks.map((b) => b.join())).size).toBeGreaterThan(1);
    expect(blocks.every((b) => b.join() === listed)).toBe(false);
  });

  it("same spec → same plan; another seed → another order", () => {
    const a = planRuns(spec({ seed: 1 }));
    expect(planRuns(spec({ seed: 1 }))).toEqual(a);
    const b = planRuns(spec({ seed: 2 }));
    expect(b.map((r) => r.configId)).not.toEqual(a.map((r) => r.configId));
  });

  it("seeds are SHA-256 of (seed, configuration id, replicate): distinct, and unchanged by replicates or listing order", () => {
    const master = testSeed() >>> 0;
    const s = spec({ seed: master });
    const plan = planRuns(s);
    for (const r of plan) expect(r.seed).toBe(expectedSeed(master, r.configId, r.replicate));
    expect(new Set(plan.map((r) => r.seed)).size).toBe(plan.length);
    // Resuming with more replicates, or the configurations listed in another order: every run
    // that exists in both plans keeps its seed.
    const key = (r: { configId: string; replicate: number }) => `${r.configId}#${r.replicate}`;
    const seeds = new Map(plan.map((r) => [key(r), r.seed]));
    const more = planRuns(spec({ seed: master, replicates: 7 }));
    const reordered = planRuns(
      spec({
        seed: master,
        configurations: [
          { precision: "f32", batch: 64, neurons: [512] },
          { precision: "mixed", batch: 256, neurons: [2048] },
          { precision: "mixed", batch: 32, neurons: [1024] },
          { precision: "f32", batch: 32, neurons: [1024] },
          { precision: "mixed", batch: 256, neurons: [1024] },
        ],
      }),
    );
    for (const p of [more, reordered])
      for (const r of p) if (seeds.has(key(r))) expect(r.seed).toBe(seeds.get(key(r)));
    // A block's order does not depend on how many blocks follow.
    expect(orderOfBlocks(more).slice(0, 5)).toEqual(orderOfBlocks(plan));
  });

  it("blockOrder: a different order per block and per master seed", () => {
    const ids = ["a", "b", "c", "d", "e", "f"];
    const orders = new Set<string>();
    for (let b = 0; b < 20; b++) orders.add(blockOrder(1, b, ids).join());
    expect(orders.size).toBeGreaterThan(15); // 720 orders: repeats among 20 are rare
    expect(blockOrder(1, 0, ids)).not.toEqual(blockOrder(2, 0, ids));
  });
});

describe("shuffled (Fisher–Yates)", () => {
  it("is uniform over the 24 orders of 4 items (chi-square, 24000 shuffles)", () => {
    const seed = testSeed();
    const rng = makeRng(seed);
    const counts = new Map<string, number>();
    const n = 24000;
    for (let i = 0; i < n; i++) {
      const k = shuffled([0, 1, 2, 3], rng).join("");
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    expect(counts.size, `seed ${seed}`).toBe(24);
    const e = n / 24;
    let chi2 = 0;
    for (const c of counts.values()) chi2 += (c - e) ** 2 / e;
    // χ²(23) upper 0.0001 quantile is 57.07: a uniform shuffle fails this once in 10,000 runs.
    expect(chi2, `seed ${seed}`).toBeLessThan(57.07);
  });

  it("leaves its input alone", () => {
    const a = [1, 2, 3, 4, 5];
    shuffled(a, makeRng(3));
    expect(a).toEqual([1, 2, 3, 4, 5]);
  });
});
