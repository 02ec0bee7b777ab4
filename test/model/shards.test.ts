// Resident splits past one storage binding, forced small with HALFWATT_SHARD_BYTES: uploadSplit
// cuts them into whole-image shards, a training run on them gives the single-buffer run's losses
// and weights bit for bit (same seed), and ResidentData keeps them across runs (this-run, then
// earlier-run) instead of streaming them per run.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadDataset } from "../../src/data/index.js";
import { ResidentData } from "../../src/experiment/resident-data.js";
import { download } from "../../src/kernels/tensor.js";
import { freeGpuSplit } from "../../src/model/mlp.js";
import { type TrainConfig, train, uploadSplit } from "../../src/model/trainer.js";
import { useGpu } from "../helpers/gpu.js";

const env = useGpu("shards");
const dir = mkdtempSync(join(tmpdir(), "halfwatt-shards-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// 16×16×3 = 768-byte images; 130 per shard: train 1000 → 8 shards (the last of 90), valid and
// test 200 → 2 each, so evaluation reads across shards too.
const DATA = "synthetic:classes=10,size=16,train=1000,valid=200,test=200,seed=3";
const SHARD_BYTES = String(130 * 768 + 100); // not a whole number of images: the cap rounds down
const base = (over: Partial<TrainConfig> = {}): TrainConfig => ({
  data: DATA,
  precision: "mixed",
  batch: 64,
  neurons: [32],
  epochs: 2,
  optimizer: { name: "adam", lr: 1e-3 },
  seed: 11,
  cacheDir: join(dir, "cache"),
  ...over,
});

async function withShardBytes<T>(f: () => Promise<T>): Promise<T> {
  process.env.HALFWATT_SHARD_BYTES = SHARD_BYTES;
  try {
    return await f();
  } finally {
    delete process.env.HALFWATT_SHARD_BYTES;
  }
}

describe("sharded resident splits", () => {
  it("uploadSplit cuts a split into whole-image shards that hold its bytes in order", async () => {
    const { ctx } = env;
    const data = await loadDataset(DATA, { cacheDir: join(dir, "cache") });
    try {
      const s = await withShardBytes(() => uploadSplit(ctx, data.train, 64));
      expect(s.stream).toBeUndefined();
      expect(s.imagesPerShard).toBe(130);
      expect(s.shards?.map((t) => t.shape[0])).toEqual([130, 130, 130, 130, 130, 130, 130, 90]);
      const want = new Uint8Array(1000 * 768);
      data.train.readRange(0, 1000, want);
      const got = new Uint8Array(1000 * 768);
      let at = 0;
      for (const t of s.shards ?? []) {
        const b = (await download(ctx, t)) as Uint8Array;
        got.set(b, at);
        at += b.length;
      }
      expect(Buffer.from(got).equals(Buffer.from(want))).toBe(true);
      freeGpuSplit(s);
    } finally {
      data.close();
    }
  });

  it("a run on sharded splits gives the single-buffer run's losses, metrics and weights bit for bit", async () => {
    const run = async () => {
      const losses: number[] = [];
      const valid: number[] = [];
      let w: Record<string, Float32Array> = {};
      const r = await train(
        base(),
        {
          onEpochEnd: (e) => {
            losses.push(e.train.loss);
            valid.push(e.valid?.loss ?? Number.NaN);
          },
        },
        {
          ctx: env.ctx,
          onModel: async (m) => {
            w = await m.readSlab(m.params);
          },
        },
      );
      return { losses, valid, w, test: r.test };
    };
    const single = await run();
    const sharded = await withShardBytes(run);
    expect(sharded.losses).toEqual(single.losses);
    expect(sharded.valid).toEqual(single.valid);
    expect(sharded.test).toEqual(single.test);
    for (const k of Object.keys(single.w))
      expect(Buffer.from(sharded.w[k].buffer).equals(Buffer.from(single.w[k].buffer)), k).toBe(true);
  });

  it("ResidentData keeps a set past one binding on the device: this-run, then earlier-run", async () => {
    const data = await loadDataset(DATA, { cacheDir: join(dir, "cache") });
    await withShardBytes(async () => {
      const rd = new ResidentData(env.ctx, data);
      try {
        const first = await rd.acquire(64);
        expect(first.upload).toBe("this-run");
        expect(first.uploadBytes).toBe(1400 * 768);
        expect(first.splits.train.shards?.length).toBe(8);
        const second = await rd.acquire(32);
        expect(second.upload).toBe("earlier-run");
        expect(second.splits.train).toBe(first.splits.train);
      } finally {
        rd.dispose();
        data.close();
      }
    });
  });
});
