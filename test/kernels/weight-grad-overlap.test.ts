import { describe, expect, it } from "vitest";
import { KernelInputError } from "../../src/gpu/errors.js";
import { TILES } from "../../src/kernels/gemm.js";
import {
  MATRIX_TILES,
  matrixSpec,
  matrixTile,
  matrixUnsupportedReason,
} from "../../src/kernels/gemm-subgroup-matrix.js";
import { createTensor, destroyTensor, fill } from "../../src/kernels/tensor.js";
import {
  describeWeightGradOverlap,
  type WeightGradOverlapOptions,
  weightGradOverlap,
} from "../../src/kernels/weight-grad-overlap.js";
import { fusedUpdateParts } from "../../src/kernels/weight-update.js";
import { stubMatrixCtx, useGpu } from "../helpers/gpu.js";
import { ADAM, ADAMW, runUpdateCase, SGD, type UpdateCase, type UpdateKernel } from "./update-case.js";

// The weight gradient with the optimizer overlapped beside it (src/kernels/weight-grad-overlap.ts)
// against the float64 references of update-case.ts, as the fused kernel's test: the stored dW must
// equal the float64 product bit for bit, w and the moments one reference optimizer step within
// its f32 bounds. dW's buffer is poisoned with NaN first: a slot the GEMM never stores, or one the
// optimizer reads before its chunk was stored, turns w NaN; a slot updated twice, or never, misses
// the reference's moments. The chunk counts put the interleaved chunks (row of tiles y in chunk
// y % chunks) past several rows of tiles, the last one partial.
const env = useGpu("weight-grad-overlap");

type Case = UpdateCase<WeightGradOverlapOptions>;
const OVERLAPPED: UpdateKernel<WeightGradOverlapOptions> = {
  run: async (ctx, args, options) => {
    const g = await createTensor(ctx, "f32", args.w.shape, "g");
    fill(ctx, g, Number.NaN);
    await weightGradOverlap(ctx, { ...args, g }, options);
    return g;
  },
  describe: (ctx, args, options) => describeWeightGradOverlap(ctx, args.x, args.dz, args.w, options),
};
const runCase = (c: Case, flagValue?: number) => runUpdateCase(env, OVERLAPPED, c, flagValue);

describe("weightGradOverlap, portable kernel (dW stored, the optimizer beside the GEMM)", () => {
  const tiled = (tile: keyof typeof TILES, chunks: number): WeightGradOverlapOptions => ({
    variant: "tiled",
    tuned: false,
    tile: TILES[tile],
    chunks,
  });
  const cases: [string, Omit<Case, "dtype">][] = [
    // 300 rows on 32-row tiles: 10 rows of tiles, the last 12 rows long.
    [
      "Adam t=1, S=1024, 3 chunks over 10 rows of tiles, odd K",
      { k: 7, m: 300, n: 20, rule: ADAM, lossScale: 1024, step: 1, copy: true, options: tiled("t32", 3) },
    ],
    [
      "AdamW t=3, 2 chunks, N past one column tile",
      { k: 9, m: 150, n: 68, rule: ADAMW, lossScale: 3, step: 3, copy: true, options: tiled("t32", 2) },
    ],
    [
      "Adam t=2, one chunk (GEMM, then the update)",
      { k: 5, m: 70, n: 12, rule: ADAM, lossScale: 1, step: 2, copy: false, options: tiled("t32", 1) },
    ],
    [
      "Adam t=4, more chunks asked than rows of tiles (one a row)",
      { k: 11, m: 97, n: 24, rule: ADAM, lossScale: 256, step: 4, copy: true, options: tiled("t32", 9) },
    ],
    // The f32 weight gradient's tuned tile at batch 256 (H100): 8 × 8 outputs a thread, K 16
    // deep, 128-row tiles, so 300 rows are 3 rows of tiles in 2 chunks. f32 only (compiling an
    // 8 × 8 tile takes lavapipe 20–40 s).
    [
      "Adam t=3, S=16, the 8×8 register tile, 2 chunks",
      { k: 19, m: 300, n: 136, rule: ADAM, lossScale: 16, step: 3, copy: true, options: tiled("t128k16", 2) },
    ],
    // Slots each worker thread loads together: 8 and 1 (the default is 4).
    [
      "AdamW t=2, 3 chunks, 8 slots a worker thread",
      {
        k: 7,
        m: 300,
        n: 28,
        rule: ADAMW,
        lossScale: 2,
        step: 2,
        copy: true,
        options: { ...tiled("t32", 3), slotsInFlight: 8 },
      },
    ],
    [
      "Adam t=1, 2 chunks, 1 slot a worker thread",
      {
        k: 5,
        m: 130,
        n: 16,
        rule: ADAM,
        lossScale: 64,
        step: 1,
        copy: true,
        options: { ...tiled("t32", 2), slotsInFlight: 1 },
      },
    ],
    [
      "SGD momentum, 4 chunks on the vector tile",
      { k: 37, m: 333, n: 36, rule: SGD, lossScale: 512, step: 1, copy: true, options: tiled("t64v", 4) },
    ],
  ];
  for (const dtype of ["f32", "f16"] as const)
    for (const [name, c] of cases) {
      if (dtype === "f16" && c.options.tile?.TM === 8) continue;
      it(`${dtype}: ${name}`, async () => {
        if (dtype === "f16" && !env.ctx.caps.f16) return;
        await runCase({ ...c, dtype });
      });
    }

  it("skips the update when the non-finite flag is set: w, m, v and the copy untouched", async () => {
    for (const rule of [ADAM, SGD])
      await runCase(
        {
          k: 7,
          m: 150,
          n: 24,
          dtype: "f32",
          rule,
          lossScale: 1024,
          step: 2,
          copy: true,
          options: tiled("t32", 3),
        },
        1,
      );
  });

  it("names its tile and chunks, at most one chunk a row of tiles", async () => {
    const { ctx } = env;
    const x = await createTensor(ctx, "f32", [4, 100], "x");
    const dz = await createTensor(ctx, "f32", [4, 8], "dz");
    const g = await createTensor(ctx, "f32", [100, 8], "g");
    expect(describeWeightGradOverlap(ctx, x, dz, g, tiled("t32", 3))).toBe(
      "tiled t32, optimizer overlapped in 3 chunks",
    );
    // 100 rows are 4 rows of 32-row tiles.
    expect(describeWeightGradOverlap(ctx, x, dz, g, tiled("t32", 8))).toBe(
      "tiled t32, optimizer overlapped in 4 chunks",
    );
    destroyTensor(x, dz, g);
  });

  it("rejects bad inputs with KernelInputError", async () => {
    const { ctx } = env;
    const x = await createTensor(ctx, "f32", [4, 6], "x");
    const dz = await createTensor(ctx, "f32", [4, 6], "dz");
    const w = await createTensor(ctx, "f32", [6, 6], "w");
    const g = await createTensor(ctx, "f32", [6, 6], "g");
    const g5 = await createTensor(ctx, "f32", [6, 5], "g5");
    const mm = await createTensor(ctx, "f32", [36], "m");
    const vv = await createTensor(ctx, "f32", [36], "v");
    const o = tiled("t32", 2);
    await expect(weightGradOverlap(ctx, { x, dz, w, g, m: mm, v: vv, rule: ADAM }, o)).rejects.toThrow(
      /multiple of 4/,
    );
    await expect(weightGradOverlap(ctx, { x, dz, w, g: g5, m: mm, v: vv, rule: ADAM }, o)).rejects.toThrow(
      KernelInputError,
    );
    await expect(
      weightGradOverlap(ctx, { x, dz, w, g, m: mm, v: vv, rule: ADAM }, { ...o, chunks: 0 }),
    ).rejects.toThrow(/chunks/);
    const dz8 = await createTensor(ctx, "f32", [4, 8], "dz8");
    const w8 = await createTensor(ctx, "f32", [6, 8], "w8");
    const g8 = await createTensor(ctx, "f32", [6, 8], "g8");
    const m8 = await createTensor(ctx, "f32", [48], "m8");
    const v8 = await createTensor(ctx, "f32", [48], "v8");
    await expect(
      weightGradOverlap(
        ctx,
        { x, dz: dz8, w: w8, g: g8, m: m8, v: v8, rule: ADAM },
        { ...o, slotsInFlight: 3 },
      ),
    ).rejects.toThrow(/slotsInFlight/);
    destroyTensor(dz8, w8, g8, m8, v8);
    await expect(weightGradOverlap(ctx, { x, dz, w, g: w, m: mm, v: vv, rule: ADAM }, o)).rejects.toThrow(
      KernelInputError,
    );
    destroyTensor(x, dz, w, g, g5, mm, vv);
  });
});

// Tensor cores: only where the adapter has subgroup matrices (the GPU run, not lavapipe).
describe("weightGradOverlap, tensor-core kernel", () => {
  const sm = (tile: string, chunks: number): WeightGradOverlapOptions => ({
    variant: "subgroup-matrix",
    tuned: false,
    matrixTile: MATRIX_TILES[tile],
    chunks,
  });
  const cases: [string, Omit<Case, "dtype">][] = [
    // 700 rows on 128-row tiles: 6 rows of tiles, the last 60 rows long (the scratch epilogue).
    [
      "staged 128×128 tile (the weight gradients'), 4 chunks, M, N and K past its multiples, Adam",
      { k: 40, m: 700, n: 140, rule: ADAM, lossScale: 1024, step: 2, copy: true, options: sm("b2x2a4x4", 4) },
    ],
    [
      "direct tile, 3 chunks, AdamW",
      { k: 32, m: 448, n: 64, rule: ADAMW, lossScale: 4, step: 3, copy: true, options: sm("p1x1a4x4", 3) },
    ],
  ];
  for (const [name, c] of cases)
    it(`f16: ${name}`, async (t) => {
      const why = matrixUnsupportedReason(env.ctx);
      if (why) {
        console.log(`skipped: ${why}`);
        t.skip();
        return;
      }
      await runCase({ ...c, dtype: "f16" });
    });
});

// The tensor-core form's spec, generated without a GPU (a stub device of 32-lane subgroups and
// 48 KiB of workgroup memory): what the GPU-only cases above compile.
describe("weightGradOverlap, tensor-core spec (no GPU needed)", () => {
  const ctx = stubMatrixCtx();
  const flags = { transA: true, transB: false, useBeta: false, hasBias: false, relu: false, splitK: false };
  const parts = (slots: number) => fusedUpdateParts("adam", false, true, true, slots);

  it("stores dW straight from the accumulators, its workers on the optimizer's 16-byte slots", () => {
    const spec = matrixSpec(
      ctx,
      "f32",
      matrixTile("b2x2a4x4"),
      flags,
      { vecA: true, vecB: true },
      true,
      parts(8),
    );
    expect(spec.op.startsWith("weight_grad_overlap_")).toBe(true);
    // 2×2 subgroups of 32 lanes; 8 slots a worker thread; C stored whole where a tile allows.
    expect(spec.consts).toMatchObject({ OV_THREADS: 128, OV_UQ: 8, STORE_C: true, WRITE_COPY: true });
    expect(spec.includes).toContain("lib/overlap_update");
    expect(spec.includes).not.toContain("lib/fused_update_block");
    // The skip check, then the workers' branch, before the accumulators: no fused epilogue.
    expect(spec.snippets?.UPDATE_PROLOGUE).toBe(
      "if (update_skipped(tid)) { return; }\n  if (!overlap_gemm_row(wid.y)) { overlap_update(wid, tid); return; }",
    );
    expect(spec.snippets?.UPDATE_EPILOGUE).toBeUndefined();
    expect(spec.uniforms?.slice(-3).map(([n]) => n)).toEqual(["chunks", "gemm_chunk", "adam_chunk"]);
    expect(spec.bindings.map((b) => b.name)).toEqual([
      "a",
      "b",
      "c",
      "bias",
      "ws",
      "a4",
      "b4",
      "w",
      "m",
      "v",
      "flag",
      "copy",
      "state",
    ]);
  });

  it("refuses a tile past the device's workgroup memory under its own name", () => {
    expect(() => matrixSpec(ctx, "f32", matrixTile("b2x4a4x4k64"), flags, undefined, true, parts(4))).toThrow(
      /weight_grad_overlap \(subgroup-matrix\).*needs .* bytes of workgroup memory; test adapter allows 49152/,
    );
  });
});
