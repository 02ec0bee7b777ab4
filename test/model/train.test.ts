// train(config, hooks) end to end on the built-in synthetic set: both precisions learn, runs are
// deterministic, a stop signal ends the run at a step boundary, checkpoints round-trip through
// evaluateCheckpoint, and the per-kernel precision table says what ran in which type.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadCheckpoint, saveCheckpoint } from "../../src/model/checkpoint.js";
import { evaluateCheckpoint } from "../../src/model/evaluate.js";
import { type TrainConfig, train } from "../../src/model/trainer.js";
import { useGpu } from "../helpers/gpu.js";

const env = useGpu("train");
const dir = mkdtempSync(join(tmpdir(), "halfwatt-train-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DATA = "synthetic:classes=10,size=16,train=1000,valid=200,test=200,seed=3";
const base = (over: Partial<TrainConfig> = {}): TrainConfig => ({
  data: DATA,
  precision: "f32",
  batch: 50,
  neurons: [64],
  epochs: 3,
  optimizer: { name: "adam", lr: 1e-3 },
  seed: 7,
  cacheDir: join(dir, "cache"),
  ...over,
});

describe("train", () => {
  for (const precision of ["f32", "mixed"] as const)
    it(`${precision}: learns the synthetic set (test top-1 ≥ 0.9), loss falls, metrics are consistent`, async () => {
      const epochs: number[] = [];
      const r = await train(
        base({ precision }),
        { onEpochEnd: (e) => void epochs.push(e.train.loss) },
        { ctx: env.ctx },
      );
      expect(r.epochs).toHaveLength(3);
      expect(r.test?.accuracy).toBeGreaterThanOrEqual(0.9);
      expect(r.test?.samples).toBe(200);
      expect(r.test?.top5).toBeGreaterThanOrEqual(r.test?.accuracy ?? 1);
      expect(epochs[2]).toBeLessThan(epochs[0]);
      for (const e of r.epochs) {
        expect(e.train.samples).toBe(1000);
        expect(e.valid.samples).toBe(200);
        expect(e.steps).toBe(20);
      }
      expect(r.steps).toBe(60);
      expect(r.lossScale.enabled).toBe(precision === "mixed");
      const gemm = r.kernels.find((k) => k.op === "gemm" && k.role.startsWith("forward layer 0"));
      expect(gemm?.input).toBe(precision === "mixed" ? "f16" : "f32");
      expect(r.kernels.find((k) => k.op === "adam")?.input).toBe("f32");
      expect(r.kernels.some((k) => k.op === "nonfinite")).toBe(precision === "mixed");
    });

  it("same seed, adapter and precision: bit-identical f32 weights; another seed differs", async () => {
    const weights = async (seed: number) => {
      let w: Record<string, Float32Array> = {};
      await train(
        base({ epochs: 1, seed, batch: 64 }),
        {},
        {
          ctx: env.ctx,
          onModel: async (m) => {
            w = await m.readSlab(m.params);
          },
        },
      );
      return w;
    };
    const a = await weights(11);
    const b = await weights(11);
    const c = await weights(12);
    for (const k of Object.keys(a))
      expect(Buffer.from(a[k].buffer).equals(Buffer.from(b[k].buffer)), k).toBe(true);
    expect(Buffer.from(a["layers.0.weight"].buffer).equals(Buffer.from(c["layers.0.weight"].buffer))).toBe(
      false,
    );
  });

  it("a split streamed batch by batch from the pixel cache trains to the same weights as a resident one", async () => {
    const weights = async () => {
      let w: Record<string, Float32Array> = {};
      const r = await train(
        base({ epochs: 1, batch: 64 }),
        {},
        {
          ctx: env.ctx,
          onModel: async (m) => {
            w = await m.readSlab(m.params);
          },
        },
      );
      return { w, test: r.test };
    };
    const resident = await weights();
    process.env.HALFWATT_STREAM = "1";
    let streamed: Awaited<ReturnType<typeof weights>>;
    try {
      streamed = await weights();
    } finally {
      delete process.env.HALFWATT_STREAM;
    }
    for (const k of Object.keys(resident.w))
      expect(Buffer.from(streamed.w[k].buffer).equals(Buffer.from(resident.w[k].buffer)), k).toBe(true);
    expect(streamed.test).toEqual(resident.test);
  });

  it("hooks fire in order: run start, each epoch's start/end with its validation, test, run end", async () => {
    const order: string[] = [];
    const r = await train(
      base({ epochs: 2, batch: 100 }),
      {
        onRunStart: (i) => void order.push(`start:${i.stepsPerEpoch}`),
        onEpochStart: (e) => void order.push(`epoch${e}`),
        onEvaluation: (split, m, e) => void order.push(`${split}${e}:${m.samples}`),
        onEpochEnd: (e) => void order.push(`end${e.epoch}`),
        onTestStart: () => void order.push("test-start"),
        onRunEnd: (res) => void order.push(`run-end:${res.steps}`),
      },
      { ctx: env.ctx },
    );
    expect(order).toEqual([
      "start:10",
      "epoch1",
      "valid1:200",
      "end1",
      "epoch2",
      "valid2:200",
      "end2",
      "test-start",
      "test2:200",
      "run-end:20",
    ]);
    expect(r.steps).toBe(20);
  });

  it("a stop signal ends the run at a step boundary and the result says so", async () => {
    const stop = new AbortController();
    const r = await train(
      base({ epochs: 5 }),
      { signal: stop.signal, onEpochEnd: (e) => void (e.epoch === 2 && stop.abort()) },
      { ctx: env.ctx },
    );
    expect(r.stopped).toBe(true);
    expect(r.epochs).toHaveLength(2);
    expect(r.test).toBeNull();
  });

  it("a checkpoint holds weights, optimizer state and metadata; eval reproduces the test accuracy", async () => {
    const file = join(dir, "m.safetensors");
    const config = base({ precision: "mixed", epochs: 2 });
    let saved: Record<string, Float32Array> = {};
    const r = await train(
      config,
      {},
      {
        ctx: env.ctx,
        onModel: async (m, res) => {
          saved = await m.readSlab(m.params);
          await saveCheckpoint(file, m, {
            config,
            shape: m.shape,
            classes: res.classes,
            imageSize: res.dataset.imageSize,
            normalization: res.normalization,
          });
        },
      },
    );
    const ck = loadCheckpoint(file);
    expect(ck.config).toEqual(config);
    expect(ck.classes).toHaveLength(10);
    expect(ck.state.steps).toBe(r.steps - r.lossScale.skippedSteps);
    expect(ck.state.scale).toBe(r.lossScale.final);
    for (const k of Object.keys(saved)) expect(ck.params[k]).toEqual(saved[k]);
    expect(ck.m && ck.v).toBeTruthy();
    const ev = await evaluateCheckpoint(file, DATA, { ctx: env.ctx, cacheDir: config.cacheDir });
    expect(ev.splits.test?.accuracy).toBe(r.test?.accuracy);
    expect(ev.splits.test?.loss).toBeCloseTo(r.test?.loss ?? Number.NaN, 6);
    await expect(
      evaluateCheckpoint(file, "synthetic:classes=4,size=16,train=40,valid=8,test=8,seed=3", {
        ctx: env.ctx,
        cacheDir: config.cacheDir,
      }),
    ).rejects.toThrow(/classes/);
  });

  it("bad configurations are refused before any work, naming the field", async () => {
    await expect(train(base({ batch: 0 }), {}, { ctx: env.ctx })).rejects.toThrow(/batch = 0/);
    await expect(train(base({ neurons: [] }), {}, { ctx: env.ctx })).rejects.toThrow(/neurons/);
    await expect(train(base({ precision: "bf16" as "f32" }), {}, { ctx: env.ctx })).rejects.toThrow(
      /precision "bf16"/,
    );
    await expect(
      train(base({ optimizer: { name: "rmsprop" as "adam" } }), {}, { ctx: env.ctx }),
    ).rejects.toThrow(/rmsprop/);
    await expect(
      train(base({ lossScaling: { initial: -1 }, precision: "mixed" }), {}, { ctx: env.ctx }),
    ).rejects.toThrow(/loss scale/);
  });
});
