// The GEMM tuner and its cache: candidates are timed only after agreeing with the heuristic
// kernel, the fastest lands in the cache, gemm()'s automatic choice follows the cache only for the
// adapter and kernels it was measured with, and the call list matches what the model really runs.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import type { GpuContext } from "../../src/gpu/device.js";
import { describeGemm, gemm, observeGemmCalls, resolveVariant } from "../../src/kernels/gemm.js";
import { kSplits } from "../../src/kernels/gemm-split-k.js";
import { chooseMatrixTile, matrixTile, matrixTileDims } from "../../src/kernels/gemm-subgroup-matrix.js";
import {
  type GemmCall,
  gemmCallKey,
  gemmCandidates,
  recordTuning,
  samplesAgree,
  tuneGemm,
} from "../../src/kernels/gemm-tune.js";
import {
  adapterKey,
  readTuneCache,
  shaderCode,
  type TuneCacheFile,
  tuneCacheStatus,
  useTuneCache,
  writeTuneCache,
} from "../../src/kernels/gemm-tune-cache.js";
import { gemmReference } from "../../src/kernels/reference/gemm.js";
import {
  createTensor,
  destroyTensor,
  downloadF32,
  type Tensor,
  tensorFrom,
} from "../../src/kernels/tensor.js";
import { mlpGemmCalls } from "../../src/model/gemm-calls.js";
import { GpuMlp, type GpuSplit } from "../../src/model/mlp.js";
import { optimizerConfig } from "../../src/model/optimizer.js";
import { precisionPolicy } from "../../src/model/policy.js";
import { useGpu } from "../helpers/gpu.js";
import { uniform } from "../helpers/rng.js";

// gemm() as the tuner calls it, with one tile made to write nothing (the test of the poisoned C):
// a candidate that leaves C unwritten must not pass on the previous candidate's result.
const silent = vi.hoisted(() => ({ tile: "" }));
vi.mock("../../src/kernels/gemm.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../src/kernels/gemm.js")>();
  return {
    ...real,
    gemm: (...args: Parameters<typeof real.gemm>) =>
      silent.tile !== "" && args[4]?.tile?.name === silent.tile ? Promise.resolve() : real.gemm(...args),
  };
});

const env = useGpu("gemm-tune.test");
const dir = mkdtempSync(join(tmpdir(), "halfwatt-tune-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const call: GemmCall = {
  m: 37,
  n: 70,
  k: 129,
  transA: false,
  transB: true,
  inType: "f32",
  outType: "f32",
  bias: true,
  relu: true,
  beta: false,
};

describe("samplesAgree", () => {
  it("accepts rounding noise and refuses a misplaced value", () => {
    const ref = Float64Array.from([1, -2, 3.5, 0]);
    expect(samplesAgree(ref, Float64Array.from([1 + 1e-4, -2, 3.5, 1e-5]), 256)).toBeNull();
    expect(samplesAgree(ref, Float64Array.from([1, -2, 0, 0]), 256)).toMatch(/element 2/);
    expect(samplesAgree(ref, Float64Array.from([1, -2, Number.NaN, 0]), 256)).toMatch(/element 2/);
    expect(samplesAgree(ref, ref.subarray(1), 256)).toMatch(/sizes differ/);
  });
});

describe("tuneGemm", () => {
  it("times the candidates, records failures, and the best is the fastest that worked", async () => {
    const { ctx } = env;
    const candidates = [
      { variant: "tiled" as const, tile: "t32", splitK: 1 },
      { variant: "tiled" as const, tile: "t64", splitK: 2 },
      // The skinny kernel refuses Bᵀ: an error, never the choice.
      { variant: "skinny" as const },
    ];
    const r = await tuneGemm(ctx, call, { candidates, samples: 1, sampleSeconds: 0.001 });
    expect(r.key).toBe("f32>f32 37x70x129 tB +bias relu");
    expect(r.candidates).toHaveLength(3);
    expect(r.candidates[2].seconds).toBeNull();
    expect(r.candidates[2].error).toMatch(/skinny/);
    const ok = [r.heuristic, ...r.candidates].filter((c) => c.seconds !== null);
    expect(ok.length).toBe(3);
    expect(r.best.seconds).toBe(Math.min(...ok.map((c) => c.seconds as number)));
    expect(r.flops).toBe(2 * 37 * 70 * 129);
  });

  it("refuses a candidate that leaves C unwritten (C is poisoned before each check)", async () => {
    silent.tile = "t64";
    try {
      for (const beta of [false, true]) {
        const r = await tuneGemm(
          env.ctx,
          { ...call, beta },
          {
            candidates: [
              { variant: "tiled", tile: "t32", splitK: 1 },
              { variant: "tiled", tile: "t64", splitK: 1 },
            ],
            samples: 1,
            sampleSeconds: 0.001,
          },
        );
        expect(r.candidates[0].seconds).not.toBeNull();
        expect(r.candidates[1].seconds).toBeNull();
        expect(r.candidates[1].error).toMatch(/disagrees/);
      }
    } finally {
      silent.tile = "";
    }
  });

  it("lists split-K and tile candidates for the portable kernel, the skinny one only where it fits", () => {
    const cands = gemmCandidates(env.ctx, { ...call, transB: false, m: 16, k: 4096 });
    expect(cands.some((c) => c.variant === "skinny")).toBe(true);
    // Both row counts of the skinny kernel, each with its K splits.
    expect(new Set(cands.filter((c) => c.variant === "skinny").map((c) => c.skinnyRows ?? 32))).toEqual(
      new Set([32, 16]),
    );
    expect(new Set(cands.filter((c) => c.variant === "tiled").map((c) => c.splitK)).size).toBeGreaterThan(1);
    expect(gemmCandidates(env.ctx, call).some((c) => c.variant === "skinny")).toBe(false);
  });
});

describe("the kernel hash's view of a shader (shaderCode)", () => {
  const src = [
    "// header comment",
    "const BM: u32 = 64u;   // rows",
    "",
    "fn main() {",
    "  /*@MAIN_LOOP@*/",
    "  x = a / b;",
    "}",
  ].join("\n");
  it("ignores comments, trailing blanks and empty lines", () => {
    const edited = src
      .replace("// header comment", "// a longer header\n// over two lines")
      .replace("// rows", "// rows of the tile  ")
      .replace("fn main() {", "\nfn main() {   ");
    expect(shaderCode(edited)).toBe(shaderCode(src));
  });
  it("sees every change of code, and keeps the generator's markers", () => {
    expect(shaderCode(src.replace("64u", "128u"))).not.toBe(shaderCode(src));
    expect(shaderCode(src.replace("a / b", "a * b"))).not.toBe(shaderCode(src));
    expect(shaderCode(src)).toBe("const BM: u32 = 64u;\nfn main() {\n  /*@MAIN_LOOP@*/\n  x = a / b;\n}");
  });
});

describe("the tune cache", () => {
  const path = join(dir, "gemm-tune.json");
  const empty: TuneCacheFile = { format: "halfwatt-gemm-tune", version: 1, adapters: {} };
  const tuned = { variant: "tiled" as const, tile: "t32", splitK: 3 };
  const fakeResult = (choice = tuned) => ({
    call,
    key: gemmCallKey(call),
    flops: 1,
    heuristic: { choice: { variant: "tiled" as const, tile: "t64" }, seconds: 2e-3 },
    best: { choice, seconds: 1e-3 },
    candidates: [],
  });

  async function describeAndRun() {
    const { ctx, rng } = env;
    const A = uniform(rng, call.m * call.k, -1, 1).map((x) => Math.fround(x));
    const B = uniform(rng, call.n * call.k, -1, 1).map((x) => Math.fround(x));
    const bias = uniform(rng, call.n, -1, 1).map((x) => Math.fround(x));
    const a = await tensorFrom(ctx, "f32", [call.m, call.k], A, "A");
    const b = await tensorFrom(ctx, "f32", [call.n, call.k], B, "B");
    const bi = await tensorFrom(ctx, "f32", [call.n], bias, "bias");
    const c = await createTensor(ctx, "f32", [call.m, call.n], "C");
    const opts = { transB: true, bias: bi, relu: true };
    const what = describeGemm(ctx, a, b, c, opts);
    await gemm(ctx, a, b, c, opts);
    const got = await downloadF32(ctx, c);
    const ref = gemmReference(A, B, null, bias, { ...call, alpha: 1, beta: 0 });
    const worst = Math.max(...Array.from(got, (g, i) => Math.abs(g - ref.c[i])));
    destroyTensor(a, b, bi, c);
    return { what, worst };
  }

  it("is what the automatic choice follows, for this adapter and these kernels only", async () => {
    const { ctx } = env;
    writeTuneCache(recordTuning(ctx, empty, [fakeResult()]), path);
    useTuneCache(ctx, path);
    expect(tuneCacheStatus(ctx).entries).toBe(1);
    const on = await describeAndRun();
    expect(on.what).toBe("tiled t32 split-K 3 (tuned)");
    expect(on.worst).toBeLessThan(1e-4); // the tuned kernel computes the same product

    // Another adapter's section: ignored.
    const other = readTuneCache(path);
    other.adapters = { "Some Other GPU | nvidia": { ...other.adapters[adapterKey(ctx)], adapter: "x" } };
    writeTuneCache(other, path);
    useTuneCache(ctx, path);
    expect((await describeAndRun()).what).not.toMatch(/tuned/);

    // Measured with other kernels (the shader hash differs): ignored.
    const stale = recordTuning(ctx, empty, [fakeResult()]);
    stale.adapters[adapterKey(ctx)].kernels = "0000000000000000";
    writeTuneCache(stale, path);
    useTuneCache(ctx, path);
    expect((await describeAndRun()).what).not.toMatch(/tuned/);

    // A tile this build lacks: ignored where gemm() applies it.
    writeTuneCache(
      recordTuning(ctx, empty, [fakeResult({ variant: "tiled", tile: "t999", splitK: 1 })]),
      path,
    );
    useTuneCache(ctx, path);
    expect((await describeAndRun()).what).not.toMatch(/tuned/);

    // Off: the heuristics.
    useTuneCache(ctx, "off");
    expect(tuneCacheStatus(ctx).entries).toBe(0);
    expect((await describeAndRun()).what).not.toMatch(/tuned/);
  });

  it("names the file when it is not a tune cache", () => {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, "{ not json");
    expect(() => readTuneCache(bad)).toThrow(/bad\.json is not valid JSON/);
    writeFileSync(bad, JSON.stringify({ format: "something", version: 1, adapters: {} }));
    expect(() => readTuneCache(bad)).toThrow(/bad\.json is not a halfwatt GEMM tune cache/);
  });
});

describe("mlpGemmCalls", () => {
  for (const precision of ["f32", "mixed"] as const)
    it(`lists exactly the GEMM calls a ${precision} training step records`, async () => {
      const { ctx } = env;
      if (precision === "mixed" && !ctx.caps.f16) return;
      const shape = { inputs: 27, hidden: [19, 11], classes: 5 };
      const batch = 6;
      const count = 12;
      const tp = await createTensor(ctx, "u8", [count, shape.inputs], "pixels");
      const tl = await createTensor(ctx, "u32", [count], "labels");
      const to = await createTensor(ctx, "u32", [count], "order");
      const split: GpuSplit = { name: "t", count, pixels: tp, labels: tl, order: to };
      const model = await GpuMlp.create(
        ctx,
        shape,
        precisionPolicy(precision),
        optimizerConfig({ name: "adam" }),
        batch,
      );
      const seen: GemmCall[] = [];
      observeGemmCalls((c) => seen.push(c));
      try {
        await model.trainPlan(split, batch, [0.5, 0.5, 0.5], [0.25, 0.25, 0.25]);
      } finally {
        observeGemmCalls(null);
        model.destroy();
        destroyTensor(tp, tl, to);
      }
      const listed = mlpGemmCalls({ batch, ...shape, precision })
        .map(gemmCallKey)
        .sort();
      expect(seen.map(gemmCallKey).sort()).toEqual(listed);
    });
});

describe("the automatic choice without a tune cache (heuristics)", () => {
  // An adapter with NVIDIA's tensor-core config (what an H100 reports), and one without.
  const caps = (matrices: boolean) =>
    ({
      caps: {
        f16: true,
        subgroups: true,
        timestamps: true,
        subgroupMatrix: matrices,
        f16f32Matrix: matrices
          ? [{ M: 16, N: 16, K: 16, componentType: "f16", resultComponentType: "f32" }]
          : [],
        subgroupMinSize: 32,
        subgroupMaxSize: 32,
      },
    }) as unknown as GpuContext;
  const f16 = { dtype: "f16" } as Tensor;
  const f32 = { dtype: "f32" } as Tensor;
  const fwd = (m: number, n: number) => ({ m, n, k: 150528 });

  it("runs the f16 batch-32 forward on tensor cores (p1x1a2x4), split to about 1,024 workgroups", () => {
    // Measured on an H100 (bench/results/h100-2026-12-07b/): p1x1a2x4 took 208 µs at
    // 32×1024×150528 split 64 ways (1,024 workgroups) and 386 µs at N = 2048 split 32 ways, where
    // the skinny kernel took 580 and 1,080 µs, and 16 splits took 550 and 596 µs.
    for (const [n, splits] of [
      [1024, 64],
      [2048, 33],
    ]) {
      const s = fwd(32, n);
      expect(resolveVariant(caps(true), f16, {}, s)).toBe("subgroup-matrix");
      const tile = chooseMatrixTile(s);
      expect(tile.name).toBe("p1x1a2x4");
      expect(kSplits(s, matrixTileDims(tile)).used).toBe(splits);
    }
  });

  it("keeps the skinny kernel for f32, for f16 without tensor cores, and past 32 rows", () => {
    expect(resolveVariant(caps(true), f32, {}, fwd(32, 1024))).toBe("skinny");
    expect(resolveVariant(caps(false), f16, {}, fwd(32, 1024))).toBe("skinny");
    expect(resolveVariant(caps(true), f16, {}, fwd(48, 1024))).toBe("skinny");
    // M not a multiple of 16: the direct tile can't load it.
    expect(resolveVariant(caps(true), f16, {}, fwd(20, 1024))).toBe("skinny");
  });

  it("runs the first layer's weight gradient on p1x1a4x4 at batch 32 and b2x2a4x4 at batch 256", () => {
    // H100 (bench/results/h100-2026-12-07c/): 150528×1024×32 Xᵀ·dZ p1x1a4x4 502 µs, b2x2a4x4 716;
    // at K = 256 b2x2a4x4 986 µs, p1x1a4x4 1,122 (N = 2048: 1,889 against 2,199).
    for (const n of [1024, 2048]) {
      expect(chooseMatrixTile({ m: 150528, n, k: 32 }).name).toBe("p1x1a4x4");
      expect(chooseMatrixTile({ m: 150528, n, k: 256 }).name).toBe("b2x2a4x4");
    }
  });

  it("aims split-K at the usual 264 workgroups for tiles of four or more subgroups", () => {
    expect(matrixTileDims(matrixTile("b2x4a4x4")).target).toBe(264);
    expect(matrixTileDims(matrixTile("b2x2a2x2")).target).toBe(264);
    expect(matrixTileDims(matrixTile("p1x1a2x4")).target).toBeGreaterThanOrEqual(1024);
  });
});
