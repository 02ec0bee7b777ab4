// The lanes GEMM (shaders/gemm_lanes.wgsl, the CPU adapter's kernel) against the float64
// reference: every form, odd shapes (edges in M, N and K of every tile), long K, split-K, the
// fused epilogue, f32 and f16, with NaN-poisoned outputs.
import { describe, expect, it } from "vitest";
import { DEV_LANES_TILES } from "../../dev/gemm-tiles.js";
import { roundToF16 } from "../../src/kernels/f16.js";
import { describeGemm, gemm } from "../../src/kernels/gemm.js";
import { isCpuAdapter, LANES_TILES, type LanesTile, parseLanesTile } from "../../src/kernels/gemm-lanes.js";
import { sync } from "../../src/kernels/program.js";
import { type GemmCase, gemmBound, gemmReference } from "../../src/kernels/reference/gemm.js";
import { createTensor, type Dtype, downloadF32, fill, tensorFrom, upload } from "../../src/kernels/tensor.js";
import { expectClose, useGpu } from "../helpers/gpu.js";
import { uniform } from "../helpers/rng.js";

const env = useGpu("gemm-lanes.test");

async function runCase(
  g: GemmCase,
  inType: "f32" | "f16",
  outType: "f32" | "f16",
  tile: LanesTile,
  o: { bias?: boolean; splitK?: number } = {},
) {
  const { ctx, rng, seed } = env;
  if (inType === "f16" && !ctx.caps.f16) return;
  const q = (x: Float64Array, t: Dtype) =>
    t === "f16" ? x.map(roundToF16) : Float64Array.from(Float32Array.from(x));
  const A = q(uniform(rng, g.m * g.k, -1, 1), inType);
  const B = q(uniform(rng, g.k * g.n, -1, 1), inType);
  const C0 = q(uniform(rng, g.m * g.n, -2, 2), outType);
  const bias = o.bias ? q(uniform(rng, g.n, -0.5, 0.5), outType) : null;
  const a = await tensorFrom(ctx, inType, g.transA ? [g.k, g.m] : [g.m, g.k], A, "A");
  const b = await tensorFrom(ctx, inType, g.transB ? [g.n, g.k] : [g.k, g.n], B, "B");
  const c = await createTensor(ctx, outType, [g.m, g.n], "C");
  if (g.beta !== 0) upload(ctx, c, C0);
  else fill(ctx, c, Number.NaN); // poison: an element the kernel forgets stays NaN and fails
  const biasT = bias ? await tensorFrom(ctx, outType, [g.n], bias, "bias") : undefined;
  await gemm(ctx, a, b, c, { ...g, bias: biasT, variant: "lanes", lanesTile: tile, splitK: o.splitK });
  await sync(ctx);
  const got = await downloadF32(ctx, c);
  const ref = gemmReference(A, B, g.beta !== 0 ? C0 : null, bias, g);
  const what = `gemm lanes ${tile.name} ${inType}→${outType} ${g.m}×${g.n}×${g.k}${g.transA ? " Aᵀ" : ""}${g.transB ? " Bᵀ" : ""} α=${g.alpha} β=${g.beta}${bias ? " +bias" : ""}${g.relu ? " relu" : ""} splitK ${o.splitK ?? "auto"}`;
  expectClose(got, ref.c, (i) => gemmBound(g.k, ref.absdot[i], ref.c[i], outType), what, seed);
  for (const t of [a, b, c, ...(biasT ? [biasT] : [])]) t.buffer.destroy();
}

const forms = [
  { transA: false, transB: false },
  { transA: false, transB: true },
  { transA: true, transB: false },
];
// Edges: M below, at and past a tile's rows; N not a multiple of 4 or of a workgroup's 4·lanes.
const shapes = [
  [1, 1, 1],
  [17, 129, 33],
  [33, 70, 5],
  [65, 3, 19],
];
const plain = { alpha: 1, beta: 0, relu: false };

describe("gemm (lanes, for CPU adapters)", () => {
  for (const [inT, outT] of [
    ["f32", "f32"],
    ["f16", "f16"],
    ["f16", "f32"],
  ] as const)
    it(`${inT}→${outT} every form on odd shapes, the tall and the short tiles`, async () => {
      for (const f of forms)
        for (const [m, n, k] of shapes)
          for (const tile of inT === "f32" ? [LANES_TILES.l8r32, LANES_TILES.l64r4] : [LANES_TILES.l8r16])
            await runCase({ m, n, k, ...f, ...plain }, inT, outT, tile);
    });

  it("f32 every other tile (the dev ones too), long K (4099), forced and automatic split-K", async () => {
    for (const tile of [DEV_LANES_TILES.l16r16, DEV_LANES_TILES.l32r8])
      await runCase({ m: 19, n: 37, k: 4099, transA: false, transB: false, ...plain }, "f32", "f32", tile);
    for (const f of forms) {
      await runCase({ m: 7, n: 45, k: 2051, ...f, ...plain }, "f32", "f32", LANES_TILES.l8r16, { splitK: 5 });
      await runCase({ m: 40, n: 20, k: 777, ...f, ...plain }, "f32", "f32", DEV_LANES_TILES.l16r32);
    }
  });

  for (const f of forms)
    it(`the fused epilogue (alpha, beta, bias, ReLU) ${f.transA ? "Aᵀ·B" : f.transB ? "A·Bᵀ" : "A·B"}`, async () => {
      const t = LANES_TILES.l8r32;
      await runCase({ m: 45, n: 66, k: 31, ...f, alpha: 0.75, beta: -1.5, relu: false }, "f32", "f32", t, {
        bias: true,
      });
      await runCase({ m: 45, n: 66, k: 31, ...f, alpha: 1.25, beta: 0, relu: true }, "f32", "f32", t, {
        bias: true,
      });
    });

  it("the fused epilogue through the split-K reduction", async () => {
    await runCase(
      { m: 13, n: 30, k: 900, transA: false, transB: false, alpha: 0.5, beta: 1.5, relu: true },
      "f32",
      "f32",
      LANES_TILES.l8r16,
      {
        bias: true,
        splitK: 3,
      },
    );
  });

  it("tile names: parsed when well-formed, refused otherwise; the choice is described", () => {
    expect(parseLanesTile("l8r32")).toEqual({ name: "l8r32", lanes: 8, rows: 32 });
    for (const bad of ["l0r4", "l8r0", "l8r65", "x8r4", "l8"]) expect(parseLanesTile(bad)).toBeNull();
    expect(isCpuAdapter({ adapterName: "llvmpipe: Mesa 25.0.7" })).toBe(true);
    expect(isCpuAdapter({ adapterName: "NVIDIA: 580.159.04" })).toBe(false);
  });

  it("describeGemm names the lanes tile and its K split", async () => {
    const { ctx } = env;
    const a = await createTensor(ctx, "f32", [32, 2352], "A");
    const b = await createTensor(ctx, "f32", [2352, 256], "B");
    const c = await createTensor(ctx, "f32", [32, 256], "C");
    expect(describeGemm(ctx, a, b, c, { variant: "lanes", lanesTile: LANES_TILES.l8r32, splitK: 4 })).toBe(
      "lanes l8r32 split-K 4",
    );
    for (const t of [a, b, c]) t.buffer.destroy();
  });
});

describe("a tuned lanes choice is what gemm() then runs", () => {
  it("recordTuning writes it, useTuneCache reads it, gemm()'s automatic choice is it", async () => {
    const { ctx } = env;
    const { mkdtempSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { recordTuning } = await import("../../src/kernels/gemm-tune.js");
    const { gemmCallKey, readTuneCache, useTuneCache, writeTuneCache } = await import(
      "../../src/kernels/gemm-tune-cache.js"
    );
    const dir = mkdtempSync(join(tmpdir(), "halfwatt-lanes-tune-"));
    const path = join(dir, "tune.json");
    const call = {
      m: 21,
      n: 38,
      k: 50,
      transA: true,
      transB: false,
      inType: "f32",
      outType: "f32",
      bias: false,
      relu: false,
      beta: false,
    } as const;
    const choice = { variant: "lanes" as const, lanesTile: "l8r16", splitK: 2 };
    const timed = { choice, seconds: 1e-4 };
    writeTuneCache(
      recordTuning(ctx, readTuneCache(path), [
        {
          call,
          key: gemmCallKey(call),
          flops: 0,
          heuristic: { choice: { variant: "tiled" }, seconds: 2e-4 },
          best: timed,
          candidates: [timed],
        },
      ]),
      path,
    );
    try {
      expect(useTuneCache(ctx, path).get(gemmCallKey(call))).toEqual(choice);
      const a = await createTensor(ctx, "f32", [call.k, call.m], "A");
      const b = await createTensor(ctx, "f32", [call.k, call.n], "B");
      const c = await createTensor(ctx, "f32", [call.m, call.n], "C");
      expect(describeGemm(ctx, a, b, c, { transA: true })).toBe("lanes l8r16 split-K 2 (tuned)");
      for (const t of [a, b, c]) t.buffer.destroy();
    } finally {
      useTuneCache(ctx, "off");
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
