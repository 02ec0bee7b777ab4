// The portable tiled GEMM (shaders/gemm.wgsl) against a float64 reference: every form, odd
// shapes, long K, every tile variant, f32 and f16, with and without the fused epilogue.
import { describe, expect, it } from "vitest";
import { DEV_MATRIX_TILES, DEV_TILES } from "../../dev/gemm-tiles.js";
import { KernelInputError } from "../../src/gpu/errors.js";
import { roundToF16 } from "../../src/kernels/f16.js";
import { type GemmVariant, gemm, TILES, type TileConfig } from "../../src/kernels/gemm.js";
import {
  MATRIX_TILES,
  type MatrixTile,
  matrixSpec,
  matrixTile,
  matrixUnsupportedReason,
  matrixWorkgroupBytes,
  persistentCallReason,
  tileShapeReason,
  tileUnsupportedReason,
} from "../../src/kernels/gemm-subgroup-matrix.js";
import { shaderBody, sync } from "../../src/kernels/program.js";
import { type GemmCase, gemmBound, gemmReference } from "../../src/kernels/reference/gemm.js";
import { createTensor, type Dtype, downloadF32, fill, tensorFrom } from "../../src/kernels/tensor.js";
import { expectClose, stubMatrixCtx, useGpu } from "../helpers/gpu.js";
import { uniform } from "../helpers/rng.js";

const env = useGpu("gemm.test");

interface CaseOptions {
  bias?: boolean;
  tile?: TileConfig;
  matrixTile?: MatrixTile;
  splitK?: number;
  variant?: GemmVariant;
  skinnyRows?: number;
}

async function runCase(g: GemmCase, inType: "f32" | "f16", outType: "f32" | "f16", opts: CaseOptions) {
  const { ctx, rng, seed } = env;
  const q = (x: Float64Array, t: Dtype) =>
    t === "f16" ? x.map(roundToF16) : Float64Array.from(Float32Array.from(x));
  const A = q(uniform(rng, g.m * g.k, -1, 1), inType);
  const B = q(uniform(rng, g.k * g.n, -1, 1), inType);
  const C0 = q(uniform(rng, g.m * g.n, -2, 2), outType);
  const bias = opts.bias ? q(uniform(rng, g.n, -0.5, 0.5), outType) : null;
  const a = await tensorFrom(ctx, inType, g.transA ? [g.k, g.m] : [g.m, g.k], A, "A");
  const b = await tensorFrom(ctx, inType, g.transB ? [g.n, g.k] : [g.k, g.n], B, "B");
  const c = await createTensor(ctx, outType, [g.m, g.n], "C");
  if (g.beta !== 0) await (await import("../../src/kernels/tensor.js")).upload(ctx, c, C0);
  else fill(ctx, c, Number.NaN); // poison: an element the kernel forgets stays NaN and fails
  const biasT = bias ? await tensorFrom(ctx, outType, [g.n], bias, "bias") : undefined;
  const variant = opts.variant ?? "tiled";
  await gemm(ctx, a, b, c, {
    ...g,
    bias: biasT,
    tile: opts.tile,
    matrixTile: opts.matrixTile,
    splitK: opts.splitK,
    skinnyRows: opts.skinnyRows,
    variant,
  });
  await sync(ctx);
  const got = await downloadF32(ctx, c);
  const ref = gemmReference(A, B, g.beta !== 0 ? C0 : null, bias, g);
  const what = `gemm ${inType}→${outType} ${g.m}×${g.n}×${g.k}${g.transA ? " Aᵀ" : ""}${g.transB ? " Bᵀ" : ""} α=${g.alpha} β=${g.beta}${bias ? " +bias" : ""}${g.relu ? " relu" : ""} ${variant} tile ${opts.tile?.name ?? opts.matrixTile?.name ?? (opts.skinnyRows ? `r${opts.skinnyRows}` : "auto")} splitK ${opts.splitK ?? "auto"}`;
  expectClose(got, ref.c, (i) => gemmBound(g.k, ref.absdot[i], ref.c[i], outType), what, seed);
  for (const t of [a, b, c]) t.buffer.destroy();
}

const forms = [
  { transA: false, transB: false },
  { transA: false, transB: true },
  { transA: true, transB: false },
];
const shapes = [
  [1, 1, 1],
  [17, 129, 33],
  [129, 17, 65],
  [33, 70, 1],
];
const precisions: ["f32" | "f16", "f32" | "f16"][] = [
  ["f32", "f32"],
  ["f16", "f16"],
  ["f16", "f32"],
];

describe("gemm (tiled)", () => {
  // Every tile variant in f32; the f16 kernels are the same source with another alias, so they
  // get the smallest and the largest-per-thread tile (each new pipeline costs seconds to compile
  // on lavapipe, and CI starts with a cold shader cache).
  for (const [inT, outT] of precisions)
    for (const f of forms)
      it(`${inT}→${outT} ${f.transA ? "Aᵀ·B" : f.transB ? "A·Bᵀ" : "A·B"} on odd shapes, tile variants`, async () => {
        // The dev tiles too: they stay correct while out of the production registry.
        const tiles =
          inT === "f32" ? [...Object.values(TILES), ...Object.values(DEV_TILES)] : [TILES.t32, TILES.t128];
        for (const [m, n, k] of shapes)
          for (const tile of tiles)
            await runCase({ m, n, k, ...f, alpha: 1, beta: 0, relu: false }, inT, outT, { tile });
      });

  // The vector tiles' 4-element loads: shapes whose contiguous directions are multiples of 4 but
  // not of any tile (ragged edges, K splits ending mid-tile), then one that is not (4-at-a-time
  // for one operand only: 70 columns of B).
  for (const [inT, outT] of precisions)
    it(`${inT}→${outT} vector tiles (16-byte loads, next tile fetched ahead) in all three forms`, async () => {
      // f32: every vector tile, the dev ones too (double-buffered staging: t64vd, t128vd); f16: the
      // largest and its double-buffered form (the same staging code, half the width).
      const tiles =
        inT === "f32"
          ? [...Object.values(TILES), ...Object.values(DEV_TILES)].filter((t) => t.vec)
          : [TILES.t128v, DEV_TILES.t128vd];
      for (const f of forms)
        for (const tile of tiles) {
          await runCase({ m: 132, n: 68, k: 36, ...f, alpha: 1, beta: 0, relu: false }, inT, outT, { tile });
          await runCase({ m: 20, n: 260, k: 1028, ...f, alpha: 1, beta: 0, relu: false }, inT, outT, {
            tile,
            splitK: 3,
          });
          await runCase({ m: 36, n: 70, k: 44, ...f, alpha: 0.5, beta: 0, relu: true }, inT, outT, {
            tile,
            bias: true,
          });
        }
    });

  for (const [inT, outT] of precisions)
    it(`${inT}→${outT} long K (4099) in all three forms`, async () => {
      for (const f of forms)
        await runCase({ m: 19, n: 37, k: 4099, ...f, alpha: 1, beta: 0, relu: false }, inT, outT, {});
    });

  for (const [inT, outT] of precisions)
    it(`${inT}→${outT} fused epilogue: alpha, beta, bias, ReLU`, async () => {
      for (const f of forms) {
        await runCase({ m: 45, n: 66, k: 31, ...f, alpha: 0.75, beta: -1.5, relu: false }, inT, outT, {
          bias: true,
        });
        await runCase({ m: 45, n: 66, k: 31, ...f, alpha: 1.25, beta: 0, relu: true }, inT, outT, {
          bias: true,
        });
        await runCase({ m: 130, n: 129, k: 17, ...f, alpha: 2, beta: 0.5, relu: true }, inT, outT, {});
      }
    });

  for (const [inT, outT] of precisions)
    it(`${inT}→${outT} split-K (forced and automatic), with the epilogue in the reduction`, async () => {
      for (const f of forms) {
        await runCase({ m: 7, n: 45, k: 2051, ...f, alpha: 0.5, beta: 1.5, relu: true }, inT, outT, {
          bias: true,
          splitK: 5,
        });
        await runCase({ m: 33, n: 20, k: 777, ...f, alpha: 1, beta: 0, relu: false }, inT, outT, {
          splitK: 64,
        });
      }
      // The classifier's first layer in miniature: few output tiles, long K -> split automatically.
      await runCase(
        { m: 32, n: 64, k: 8195, transA: false, transB: false, alpha: 1, beta: 0, relu: true },
        inT,
        outT,
        { bias: true },
      );
    });

  for (const [inT, outT] of precisions)
    it(`${inT}→${outT} skinny A·B (few rows, one or two row blocks, K splits), with the epilogue`, async () => {
      // [m, n, k, splitK?]: without a split count, the kernel's own.
      const shapes: [number, number, number, number?][] = [
        [1, 1, 1],
        [7, 129, 1031],
        [32, 200, 4099],
        [33, 17, 63],
        [64, 130, 2049],
        // N a multiple of 4: B read 4 columns at a time (one vector load), K past any tile.
        [32, 256, 3001],
        [50, 68, 1030],
        [19, 37, 4099, 1],
        // Vector loads of B with K chunks that end inside a 4-k step (1030 = 3 · 343 + 1).
        [17, 36, 1030, 3],
      ];
      for (const [m, n, k, splitK] of shapes)
        await runCase({ m, n, k, transA: false, transB: false, alpha: 1, beta: 0, relu: false }, inT, outT, {
          variant: "skinny",
          ...(splitK ? { splitK } : {}),
        });
      await runCase(
        { m: 45, n: 66, k: 1031, transA: false, transB: false, alpha: 0.75, beta: -1.5, relu: true },
        inT,
        outT,
        { variant: "skinny", bias: true },
      );
      // 16 rows per workgroup: up to four row blocks, a last one part-filled, vector and scalar B.
      for (const [m, n, k, splitK] of [
        [64, 132, 2051, 3],
        [45, 70, 1030, 2],
        [16, 36, 700, 1],
      ])
        await runCase({ m, n, k, transA: false, transB: false, alpha: 1, beta: 0, relu: true }, inT, outT, {
          variant: "skinny",
          skinnyRows: 16,
          bias: true,
          splitK,
        });
    });

  it("skinny refuses transposed or tall products, naming the shapes", async () => {
    const { ctx } = env;
    const a = await createTensor(ctx, "f32", [65, 8], "A");
    const b = await createTensor(ctx, "f32", [8, 8], "B");
    const c = await createTensor(ctx, "f32", [65, 8], "C");
    await expect(gemm(ctx, a, b, c, { variant: "skinny" })).rejects.toThrow(/skinny.*65×8×8/);
    await expect(gemm(ctx, a, b, c, { variant: "skinny", skinnyRows: 8 })).rejects.toThrow(
      /one of 32, 16, got 8/,
    );
    for (const t of [a, b, c]) t.buffer.destroy();
  });

  it("a large square product with the auto-chosen tile", async () => {
    await runCase(
      { m: 1024, n: 1024, k: 96, transA: false, transB: false, alpha: 1, beta: 0, relu: false },
      "f32",
      "f32",
      {},
    );
  });

  it("rejects shapes that don't fit, naming the op and the shapes", async () => {
    const { ctx } = env;
    const a = await tensorFrom(ctx, "f32", [3, 5], uniform(env.rng, 15), "A");
    const b = await tensorFrom(ctx, "f32", [4, 7], uniform(env.rng, 28), "B");
    const c = await createTensor(ctx, "f32", [3, 7], "C");
    await expect(gemm(ctx, a, b, c)).rejects.toThrow(KernelInputError);
    await expect(gemm(ctx, a, b, c)).rejects.toThrow(
      /gemm: inner dimensions differ \(5 vs 4\).*\[3×5\].*\[4×7\]/,
    );
    const b2 = await tensorFrom(ctx, "f32", [5, 7], uniform(env.rng, 35), "B");
    const cBad = await createTensor(ctx, "f32", [7, 3], "C");
    await expect(gemm(ctx, a, b2, cBad)).rejects.toThrow(/C must be \[3×7\]/);
    const h = await tensorFrom(ctx, "f16", [5, 7], uniform(env.rng, 35), "B16");
    await expect(gemm(ctx, a, h, c)).rejects.toThrow(/share a dtype/);
    const bias = await tensorFrom(ctx, "f32", [6], uniform(env.rng, 6), "bias");
    await expect(gemm(ctx, a, b2, c, { bias })).rejects.toThrow(/bias must be f32\[7\]/);
  });

  it("refuses tensors past the device's buffer limits", async () => {
    const { ctx } = env;
    const limit = Math.min(ctx.device.limits.maxBufferSize, ctx.device.limits.maxStorageBufferBindingSize);
    const rows = Math.ceil(limit / 4 / 1024) + 1;
    await expect(createTensor(ctx, "f32", [rows, 1024], "huge")).rejects.toThrow(
      /past this device's storage-buffer limit/,
    );
  });
});

/** Shapes every staged tensor-core tile runs: the odd ones, a ragged K over tiles, whole tiles. */
const STAGED_SIZES = [...shapes, [130, 257, 200], [256, 256, 96]];

/** 272×48×2048 split 3 ways, with bias, β and ReLU: K chunks of whole and part tiles. */
function stagedOddCase(f: (typeof forms)[number], outT: "f32" | "f16", matrixTile: MatrixTile) {
  return runCase({ m: 272, n: 48, k: 2048, ...f, alpha: 0.5, beta: 2, relu: true }, "f16", outT, {
    variant: "subgroup-matrix",
    bias: true,
    matrixTile,
    splitK: 3,
  });
}

describe("gemm (subgroup-matrix, tensor cores)", () => {
  it("refuses a direct tile for shapes that are not multiples of 16", async (t) => {
    if (matrixUnsupportedReason(env.ctx)) {
      t.skip();
      return;
    }
    const { ctx } = env;
    const a = await tensorFrom(ctx, "f16", [17, 32], uniform(env.rng, 17 * 32), "A");
    const b = await tensorFrom(ctx, "f16", [32, 16], uniform(env.rng, 32 * 16), "B");
    const c = await createTensor(ctx, "f16", [17, 16], "C");
    await expect(
      gemm(ctx, a, b, c, { variant: "subgroup-matrix", matrixTile: MATRIX_TILES.u1x1a4x4 }),
    ).rejects.toThrow(/multiples of 16/);
  });

  const outs: ("f32" | "f16")[] = ["f32", "f16"];
  for (const outT of outs)
    it(`f16→${outT} agrees with the reference on odd shapes, every form and tile, split-K and epilogue`, async (t) => {
      const why = matrixUnsupportedReason(env.ctx);
      if (why) {
        console.log(`gemm subgroup-matrix f16→${outT}: skipped: ${why}`);
        t.skip();
        return;
      }
      for (const f of forms) {
        for (const tile of Object.values(MATRIX_TILES).filter(
          (x) => tileUnsupportedReason(env.ctx, x) === null,
        )) {
          // The direct tiles serve only multiples of 16 (gemm() refuses others; tested below).
          // Kind c too (it stages whole fragments; refused elsewhere, tested below).
          const sizes =
            tile.direct || tile.multiplesOf16
              ? [
                  [16, 16, 16],
                  [48, 80, 272],
                  [144, 32, 1040],
                  // Whole workgroup tiles (up to 128×256): results stored straight from the
                  // accumulators when the epilogue is a plain f32 store.
                  [256, 256, 96],
                ]
              : STAGED_SIZES;
          for (const [m, n, k] of sizes)
            await runCase({ m, n, k, ...f, alpha: 1, beta: 0, relu: false }, "f16", outT, {
              variant: "subgroup-matrix",
              matrixTile: tile,
            });
        }
        await stagedOddCase(f, outT, DEV_MATRIX_TILES.s2x2a4x4);
        // Split-K over whole tiles: partial sums stored straight to the workspace.
        for (const tile of [MATRIX_TILES.u1x1a4x4, MATRIX_TILES.p1x1a4x4, MATRIX_TILES.b2x4a4x4])
          await runCase({ m: 256, n: 256, k: 1536, ...f, alpha: 1, beta: 0, relu: false }, "f16", outT, {
            variant: "subgroup-matrix",
            matrixTile: tile,
            splitK: 3,
          });
        await runCase({ m: 45, n: 66, k: 4099, ...f, alpha: 0.75, beta: -1.5, relu: true }, "f16", outT, {
          variant: "subgroup-matrix",
          bias: true,
        });
        await runCase({ m: 32, n: 64, k: 8195, ...f, alpha: 1, beta: 0, relu: true }, "f16", outT, {
          variant: "subgroup-matrix",
          bias: true,
          splitK: 7,
        });
      }
    });
});

describe("gemm (subgroup-matrix) tiles staged 64 deep, through fragments, by words and rotated", () => {
  // Dev tiles (dev/gemm-tiles.ts), kept right while they are kept at all. k64: K ragged against 64, K ≤
  // one tile, split-K chunks of whole and part tiles, every form and epilogue. Kind c (multiples
  // of 16 only): a K that ends half-way into a k tile (48, 1040), edge tiles whose clamped
  // fragments duplicate rows and columns, whole tiles stored straight from the accumulators,
  // split-K. Kinds n and r: the staged shapes (the odd ones take the element path) and one whose
  // contiguous directions are multiples of 8 with every edge ragged (their own path).
  it("k64 and kind-c, -n, -r tiles agree with the reference, every form, split-K and epilogue", async (t) => {
    const why = matrixUnsupportedReason(env.ctx);
    if (why) {
      console.log(`gemm subgroup-matrix k64 and kind-c, -n, -r tiles: skipped: ${why}`);
      t.skip();
      return;
    }
    const multiples = [
      [16, 16, 16],
      [48, 80, 272],
      [144, 32, 1040],
      [128, 128, 48],
      [256, 256, 96],
    ];
    const devTiles = ["b2x2a4x4k64", "c2x2a4x4", "c2x4a4x4", "n2x2a4x4", "n2x4a4x4", "r2x2a4x4", "r2x4a4x4"];
    for (const tile of devTiles.map((n) => DEV_MATRIX_TILES[n]))
      for (const outT of ["f32", "f16"] as const)
        for (const f of forms) {
          // Kinds n and r stage their way only where the contiguous directions are multiples of 8:
          // 136 × 264 × 200 is that with every edge ragged (K = 200 ends a quarter into a k tile).
          const sizes = tile.multiplesOf16
            ? multiples
            : [...STAGED_SIZES, [128, 128, 64], ...(tile.stores !== "chunks" ? [[136, 264, 200]] : [])];
          for (const [m, n, k] of sizes)
            await runCase({ m, n, k, ...f, alpha: 1, beta: 0, relu: false }, "f16", outT, {
              variant: "subgroup-matrix",
              matrixTile: tile,
            });
          if (tile.multiplesOf16)
            await runCase({ m: 256, n: 256, k: 1552, ...f, alpha: 0.5, beta: 2, relu: true }, "f16", outT, {
              variant: "subgroup-matrix",
              bias: true,
              matrixTile: tile,
              splitK: 3,
            });
          else await stagedOddCase(f, outT, tile);
        }
  });

  // Kind q (persistent, dev): whole tiles, plain f32 results; grids of fewer workgroups than tiles
  // (w3 over 6 tiles, w1 over 4, w2 over 4 of 128 × 256), K ragged against the k tile.
  it("persistent tiles (kind q) agree with the reference, every form, and refuse what they can't store", async (t) => {
    const why = matrixUnsupportedReason(env.ctx);
    if (why) {
      console.log(`gemm subgroup-matrix kind-q tiles: skipped: ${why}`);
      t.skip();
      return;
    }
    const cases: [string, number, number, number][] = [
      ["q2x2a4x4w3", 384, 256, 264],
      ["q2x2a4x4w1", 256, 256, 96],
      ["q2x2a4x4", 256, 256, 96],
      ["q2x4a4x4w2", 256, 512, 200],
      ["qr2x2a4x4w3", 384, 256, 264],
      ["qn2x2a4x4w3", 384, 256, 264],
    ];
    for (const f of forms)
      for (const [name, m, n, k] of cases)
        await runCase({ m, n, k, ...f, alpha: 1, beta: 0, relu: false }, "f16", "f32", {
          variant: "subgroup-matrix",
          matrixTile: matrixTile(name),
        });
    const { ctx } = env;
    const a = await tensorFrom(ctx, "f16", [256, 64], uniform(env.rng, 256 * 64), "A");
    const b = await tensorFrom(ctx, "f16", [64, 256], uniform(env.rng, 64 * 256), "B");
    const c = await createTensor(ctx, "f32", [256, 256], "C");
    const q = { variant: "subgroup-matrix" as const, matrixTile: matrixTile("q2x2a4x4w3") };
    await expect(gemm(ctx, a, b, c, { ...q, alpha: 0.5 })).rejects.toThrow(
      /stores plain f32 results; this call has α = 0.5/,
    );
    await expect(gemm(ctx, a, b, c, { ...q, splitK: 2 })).rejects.toThrow(/split-K/);
  });
});

describe("subgroup-matrix shader generation", () => {
  it("places each generated part once, in code, never inside a comment", () => {
    const body = shaderBody("gemm_subgroup_matrix");
    for (const marker of ["ACC_DECL", "MAIN_LOOP", "STORE_DIRECT", "ACC_OUT"]) {
      const lines = body.split("\n").filter((l) => l.includes(`/*@${marker}@*/`));
      expect(lines, marker).toHaveLength(1);
      expect(lines[0].trim(), marker).toBe(`/*@${marker}@*/`);
    }
  });
});

describe("subgroup-matrix tile names", () => {
  it("describe the tile completely", () => {
    expect(matrixTile("u2x4a4x8n8")).toEqual({
      name: "u2x4a4x8n8",
      sgRows: 2,
      sgCols: 4,
      am: 4,
      an: 8,
      bk: 16,
      pad: 0,
      direct: true,
      pipelined: false,
      prefetch: false,
      fragmentStaged: false,
      stores: "chunks",
      persistentWorkgroups: null,
      multiplesOf16: true,
      fn: 8,
    });
    expect(matrixTile("p1x1a2x2")).toMatchObject({ direct: true, pipelined: true, prefetch: false });
    expect(matrixTile("b2x2a4x4")).toMatchObject({ direct: false, prefetch: true, bk: 32, pad: 8, fn: 16 });
    expect(matrixTile("b2x2a4x4k64")).toMatchObject({ direct: false, prefetch: true, bk: 64, am: 4, an: 4 });
    expect(() => matrixTile("p1x1a2x4k64")).toThrow(/direct tiles stage nothing/);
    expect(matrixTile("c2x2a4x4")).toMatchObject({
      fragmentStaged: true,
      multiplesOf16: true,
      direct: false,
      bk: 32,
    });
    expect(matrixTile("b2x2a4x4")).toMatchObject({
      fragmentStaged: false,
      multiplesOf16: false,
      stores: "chunks",
    });
    expect(matrixTile("r2x2a4x4")).toMatchObject({ stores: "rotated", prefetch: true, bk: 32 });
    expect(matrixTile("q2x2a4x4")).toMatchObject({
      persistentWorkgroups: 264,
      prefetch: true,
      stores: "chunks",
    });
    expect(matrixTile("q2x4a4x4w3")).toMatchObject({ persistentWorkgroups: 3, sgCols: 4 });
    expect(matrixTile("qr2x2a4x4w132")).toMatchObject({ persistentWorkgroups: 132, stores: "rotated" });
    expect(matrixTile("qn2x2a4x4")).toMatchObject({ persistentWorkgroups: 264, stores: "words" });
    expect(() => matrixTile("qb2x2a4x4")).toThrow(/not a subgroup-matrix tile name/);
    expect(matrixTile("b2x2a4x4")).toMatchObject({ persistentWorkgroups: null });
    expect(() => matrixTile("b2x2a4x4w3")).toThrow(/workgroup count of a persistent tile/);
    expect(() => matrixTile("q2x2a4x4w0")).toThrow(/workgroup count of a persistent tile/);
    expect(matrixTile("n2x4a4x4")).toMatchObject({
      stores: "words",
      prefetch: true,
      fragmentStaged: false,
      multiplesOf16: false,
      direct: false,
      bk: 32,
      sgCols: 4,
    });
    // 1×2 subgroups, one accumulator row: 2 A fragments a k tile for 2 subgroups, 8 B for 2 — even;
    // 2×1 subgroups with 2×1 accumulators: 8 A for 2, 2 B for 2 — even; 3×1 with 1×1: 6 A, 2 B for 3.
    expect(() => matrixTile("c1x2a1x4")).not.toThrow();
    expect(() => matrixTile("c3x1a1x1")).toThrow(/do not split evenly over 3 subgroups/);
    expect(matrixTile("s1x1a2x2")).toMatchObject({ direct: false, prefetch: false, pipelined: false });
    // The array-indexed kinds (m, d) left the registry: their names are no longer tiles.
    expect(() => matrixTile("m1x1a2x2")).toThrow(/not a subgroup-matrix tile name/);
    expect(() => matrixTile("x2x2a4x4")).toThrow(/not a subgroup-matrix tile name/);
  });
});

describe("subgroup-matrix workgroup memory", () => {
  // Expected bytes worked out by hand from the shader's declarations (f16 staging rows padded by
  // 8 halves, an f32 16×16 scratch per subgroup, the update's blocks and skip flag).
  it("counts each tile's staging, scratch and update blocks", () => {
    // b2x4a4x4k64, A not transposed: A 128×(64+8), B 64×(256+8), 8 scratch matrices.
    expect(matrixWorkgroupBytes(matrixTile("b2x4a4x4k64"), false, null)).toBe(
      128 * 72 * 2 + 64 * 264 * 2 + 8 * 256 * 4,
    );
    // b2x2a4x4 with Aᵀ: Aᵀ 32×(128+8) and B 32×(128+8), 4 scratch matrices.
    expect(matrixWorkgroupBytes(matrixTile("b2x2a4x4"), true, null)).toBe(
      32 * 136 * 2 + 32 * 136 * 2 + 4 * 256 * 4,
    );
    // Direct tiles keep 16 rows of each; the element update adds the skip flag only.
    expect(matrixWorkgroupBytes(matrixTile("u1x1a4x4"), false, { block: null })).toBe(
      16 * 16 * 2 + 16 * 64 * 2 + 256 * 4 + 4,
    );
    // b2x2a4x4 with the vector update in 16×64 strips: 4 blocks of 16×64 floats.
    expect(
      matrixWorkgroupBytes(matrixTile("b2x2a4x4"), true, { block: { urows: 16, uw: 64, passes: 4, uq: 4 } }),
    ).toBe(32 * 136 * 2 + 32 * 136 * 2 + 4 * 256 * 4 + 4 * 16 * 64 * 4 + 4);
  });

  it("refuses a tile past the device's limit by name before compiling", () => {
    const ctx = stubMatrixCtx();
    const flags = {
      transA: false,
      transB: false,
      useBeta: false,
      hasBias: false,
      relu: false,
      splitK: false,
    };
    expect(() => matrixSpec(ctx, "f32", matrixTile("b2x4a4x4k64"), flags)).toThrow(
      /tile b2x4a4x4k64 needs 60416 bytes of workgroup memory; test adapter allows 49152/,
    );
    expect(() => matrixSpec(ctx, "f32", matrixTile("b2x2a4x4k64"), flags)).not.toThrow();
  });

  it("generates kinds n, r and q their way (staging calls, library, persistent walk) and kind b as before", () => {
    const ctx = stubMatrixCtx();
    const flags = { transA: true, transB: false, useBeta: false, hasBias: false, relu: false, splitK: false };
    const vec = { vecA: true, vecB: true };
    const n = matrixSpec(ctx, "f32", matrixTile("n2x2a4x4"), flags, vec, true);
    const b = matrixSpec(ctx, "f32", matrixTile("b2x2a4x4"), flags, vec, true);
    expect(n.includes).toContain("lib/gemm_stage_words");
    expect(b.includes).not.toContain("lib/gemm_stage_words");
    const calls = (loop: string | undefined) => (loop ?? "").match(/\b(fetch|store)\w*[AB]\(/g);
    // The next tile fetched ahead, as kind b: a first fetch, then store, barrier, fetch, multiply.
    expect(calls(n.snippets?.MAIN_LOOP)).toEqual([
      "fetchWordsA(",
      "fetchWordsB(",
      "storeWordsA(",
      "storeWordsB(",
      "fetchWordsA(",
      "fetchWordsB(",
    ]);
    expect(calls(b.snippets?.MAIN_LOOP)).toEqual([
      "fetchA(",
      "fetchB(",
      "storeA(",
      "storeB(",
      "fetchA(",
      "fetchB(",
    ]);
    // Apart from the staging calls, the two tiles' shaders are the same.
    const plain = (loop: string | undefined) => (loop ?? "").replace(/(fetch|store)Words/g, "$1");
    expect(plain(n.snippets?.MAIN_LOOP)).toBe(b.snippets?.MAIN_LOOP);
    expect(n.op).toContain("subgroup_matrix_n2x2a4x4");
    // Kind q: the persistent walk in the k loop's place, the grid's workgroup count a uniform;
    // only plain f32 stores of whole tiles.
    const q = matrixSpec(ctx, "f32", matrixTile("q2x2a4x4w3"), flags, vec, true);
    expect(q.snippets?.MAIN_LOOP).toContain("for (; t < tiles; t += params.wgs) {");
    expect(q.snippets?.MAIN_LOOP).toContain(
      "subgroupMatrixStore<row_major>(&c, (row0 + sgRow + 48u) * params.n",
    );
    expect(q.uniforms?.at(-1)).toEqual(["wgs", "u32"]);
    expect(q.includes).not.toContain("lib/gemm_stage_words");
    const qr = matrixSpec(ctx, "f32", matrixTile("qr2x2a4x4"), flags, vec, true);
    expect(qr.includes).toContain("lib/gemm_stage_words");
    expect(calls(qr.snippets?.MAIN_LOOP)).toEqual([
      "fetchA(",
      "fetchB(",
      "storeRotA(",
      "storeRotB(",
      "fetchA(",
      "fetchB(",
      "fetchA(",
      "fetchB(",
    ]);
    expect(b.uniforms?.map(([u]) => u)).not.toContain("wgs");
    expect(() => matrixSpec(ctx, "f16", matrixTile("q2x2a4x4"), flags, vec, true)).toThrow(
      /plain GEMM storing whole f32 tiles/,
    );
    expect(tileShapeReason(matrixTile("q2x2a4x4"), { m: 130, n: 128, k: 64 })).toMatch(
      /M a multiple of 128 and N of 128/,
    );
    expect(tileShapeReason(matrixTile("q2x4a4x4"), { m: 256, n: 512, k: 72 })).toBeNull();
    const plainFlags = { ...flags, transA: false };
    expect(persistentCallReason(matrixTile("q2x2a4x4"), "f32", plainFlags, 1)).toBeNull();
    expect(persistentCallReason(matrixTile("b2x2a4x4"), "f16", { ...plainFlags, relu: true }, 2)).toBeNull();
    expect(
      persistentCallReason(
        matrixTile("q2x2a4x4"),
        "f16",
        { ...plainFlags, splitK: true, hasBias: true, relu: true, useBeta: true },
        2,
      ),
    ).toBe(
      "tile q2x2a4x4 (persistent) stores plain f32 results; this call has an f16 output, split-K, α = 2, β, a bias, ReLU",
    );
    // Kind r: kind b's fetches, its own stores.
    const r = matrixSpec(ctx, "f32", matrixTile("r2x2a4x4"), flags, vec, true);
    expect(r.includes).toContain("lib/gemm_stage_words");
    expect(calls(r.snippets?.MAIN_LOOP)).toEqual([
      "fetchA(",
      "fetchB(",
      "storeRotA(",
      "storeRotB(",
      "fetchA(",
      "fetchB(",
    ]);
  });
});
