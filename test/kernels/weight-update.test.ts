import { describe, expect, it } from "vitest";
import { DEV_TILES } from "../../dev/gemm-tiles.js";
import { KernelInputError } from "../../src/gpu/errors.js";
import { TILES } from "../../src/kernels/gemm.js";
import {
  MATRIX_TILES,
  matrixTile,
  matrixUnsupportedReason,
  updateBlockLayout,
} from "../../src/kernels/gemm-subgroup-matrix.js";
import { createTensor, destroyTensor } from "../../src/kernels/tensor.js";
import {
  describeWeightGradUpdate,
  type WeightGradUpdateOptions,
  weightGradUpdate,
} from "../../src/kernels/weight-update.js";
import { useGpu } from "../helpers/gpu.js";
import {
  ADAM,
  ADAM_L2,
  ADAMW,
  NESTEROV,
  runUpdateCase,
  SGD,
  type UpdateCase,
  type UpdateKernel,
} from "./update-case.js";

// The first layer's weight gradient fused with the optimizer (src/kernels/weight-update.ts)
// against the float64 references of update-case.ts (dW in float64 from exact small-integer
// inputs, one optimizer step by PyTorch's rules, the f16 copy bit-exact). Nothing here comes from
// the kernel.
const env = useGpu("weight-update");

type Case = UpdateCase<WeightGradUpdateOptions>;
const FUSED: UpdateKernel<WeightGradUpdateOptions> = {
  run: async (ctx, args, options) => {
    await weightGradUpdate(ctx, args, options);
    return null;
  },
  describe: (ctx, args, options) => describeWeightGradUpdate(ctx, args.x, args.dz, args.w, options),
};
const runCase = (c: Case, flagValue?: number) => runUpdateCase(env, FUSED, c, flagValue);

describe("weightGradUpdate, portable kernel (dW = Xᵀ·dZ with the optimizer in the epilogue)", () => {
  const tiled = (tile?: keyof typeof TILES): WeightGradUpdateOptions => ({
    variant: "tiled",
    tuned: false,
    ...(tile ? { tile: TILES[tile] } : {}),
  });
  const cases: [string, Omit<Case, "dtype">][] = [
    [
      "Adam t=1, S=1024, odd M and K",
      { k: 7, m: 37, n: 22, rule: ADAM, lossScale: 1024, step: 1, copy: true, options: tiled() },
    ],
    [
      "AdamW t=3, S=3, 8×8 register tile",
      {
        k: 9,
        m: 70,
        n: 66,
        rule: ADAMW,
        lossScale: 3,
        step: 3,
        copy: true,
        options: { ...tiled(), tile: DEV_TILES.t64x8 },
      },
    ],
    [
      "Adam + L2 t=1000, odd N, no copy",
      { k: 5, m: 19, n: 13, rule: ADAM_L2, lossScale: 1, step: 1000, copy: false, options: tiled() },
    ],
    [
      "SGD momentum, S=512",
      { k: 11, m: 33, n: 18, rule: SGD, lossScale: 512, step: 1, copy: true, options: tiled("t64") },
    ],
    [
      "SGD Nesterov, odd N, no copy",
      { k: 3, m: 21, n: 9, rule: NESTEROV, lossScale: 1, step: 1, copy: false, options: tiled() },
    ],
    // N a multiple of 4: the 16-byte-slot epilogue (lib/fused_update_quad.wgsl).
    [
      "Adam t=1, S=1024, odd M and K, 16-byte slots",
      { k: 7, m: 37, n: 20, rule: ADAM, lossScale: 1024, step: 1, copy: true, options: tiled() },
    ],
    [
      "AdamW t=3, 8×8 register tile, 16-byte slots",
      {
        k: 9,
        m: 70,
        n: 68,
        rule: ADAMW,
        lossScale: 3,
        step: 3,
        copy: true,
        options: { ...tiled(), tile: DEV_TILES.t64x8 },
      },
    ],
    [
      "Adam + L2 t=1000, 16-byte slots, no copy",
      { k: 5, m: 19, n: 12, rule: ADAM_L2, lossScale: 1, step: 1000, copy: false, options: tiled() },
    ],
    [
      "SGD Nesterov, 16-byte slots",
      { k: 3, m: 21, n: 36, rule: NESTEROV, lossScale: 64, step: 1, copy: true, options: tiled("t64") },
    ],
    // The vector tile: Xᵀ and dZ fetched 4 at a time, the next k tile ahead (lib/gemm_stage.wgsl);
    // K past two tiles and ragged, then M not a multiple of 4 (dZ only 4 at a time).
    [
      "Adam t=2, S=256, vector tile, 16-byte slots",
      { k: 37, m: 68, n: 20, rule: ADAM, lossScale: 256, step: 2, copy: true, options: tiled("t64v") },
    ],
    // Double-buffered staging: K over three k tiles, so the first buffer is filled twice.
    [
      "Adam t=4, S=512, double-buffered vector tile, 16-byte slots",
      {
        k: 45,
        m: 72,
        n: 28,
        rule: ADAM,
        lossScale: 512,
        step: 4,
        copy: true,
        options: { ...tiled(), tile: TILES.t64vd },
      },
    ],
    [
      // A dev tile tried for the f32 fused update at batch 256 (lost on an H100, dev/gemm-tiles.ts;
      // kept right while it stays there): 8 × 4 outputs a thread, M past one 128-row tile, N past
      // one 64-column tile.
      "Adam t=2, S=1, oblong 8×4 vector tile (dev), 16-byte slots",
      {
        k: 37,
        m: 150,
        n: 76,
        rule: ADAM,
        lossScale: 1,
        step: 2,
        copy: false,
        options: { ...tiled(), tile: DEV_TILES.t128x64v },
      },
    ],
    [
      "SGD momentum, vector tile, M not a multiple of 4",
      { k: 19, m: 37, n: 24, rule: SGD, lossScale: 8, step: 1, copy: true, options: tiled("t64v") },
    ],
    // No variant or tile: a short K takes the default portable tile of its input type
    // (PORTABLE_FUSED_TILE: t64v for f32, t64 for f16), the model's fused first layer.
    [
      "AdamW t=3, S=128, the default short-K tile, 16-byte slots",
      { k: 29, m: 45, n: 28, rule: ADAMW, lossScale: 128, step: 3, copy: true, options: { tuned: false } },
    ],
  ];
  // The 8×8 register tile (64 generated updates a thread: 20–40 s to compile on lavapipe) once
  // per epilogue form, f32 on 16-byte slots and f16 element by element: its groups g, cg > 0 are
  // where a wrong index in the generated epilogue would show.
  const eightByEightOnce = (dtype: string, name: string) =>
    dtype === "f32" ? name.includes("16-byte slots") : !name.includes("16-byte slots");
  for (const dtype of ["f32", "f16"] as const)
    for (const [name, c] of cases) {
      if (c.options.tile?.TM === 8 && !eightByEightOnce(dtype, name)) continue;
      it(`${dtype}: ${name}`, async () => {
        if (dtype === "f16" && !env.ctx.caps.f16) return;
        await runCase({ ...c, dtype });
      });
    }

  it("skips the step when the non-finite flag is set: w, m, v and the copy untouched", async () => {
    await runCase(
      {
        k: 7,
        m: 37,
        n: 22,
        dtype: "f32",
        rule: ADAM,
        lossScale: 1024,
        step: 2,
        copy: true,
        options: tiled(),
      },
      1,
    );
    await runCase(
      { k: 7, m: 37, n: 22, dtype: "f32", rule: SGD, lossScale: 1024, step: 2, copy: true, options: tiled() },
      1,
    );
  });

  it("skips the step on 16-byte slots too", async () => {
    for (const rule of [ADAM, SGD])
      await runCase(
        { k: 7, m: 37, n: 24, dtype: "f32", rule, lossScale: 1024, step: 2, copy: true, options: tiled() },
        1,
      );
  });

  it("takes the 16-byte-slot epilogue exactly where N is a multiple of 4", async () => {
    const { ctx } = env;
    const kinds: string[] = [];
    for (const n of [20, 22, 9, 1024]) {
      const x = await createTensor(ctx, "f32", [4, 6], "x");
      const dz = await createTensor(ctx, "f32", [4, n], "dz");
      const w = await createTensor(ctx, "f32", [6, n], "w");
      kinds.push(describeWeightGradUpdate(ctx, x, dz, w, tiled()));
      destroyTensor(x, dz, w);
    }
    expect(kinds.map((k) => k.includes("16-byte slots"))).toEqual([true, false, false, true]);
  });

  it("runs a short K on the measured default tile of its input type, a longer K on the GEMM's choice", async () => {
    const { ctx } = env;
    const plan = async (dtype: "f32" | "f16", k: number) => {
      const x = await createTensor(ctx, dtype, [k, 6], "x");
      const dz = await createTensor(ctx, dtype, [k, 8], "dz");
      const w = await createTensor(ctx, "f32", [6, 8], "w");
      const kind = describeWeightGradUpdate(ctx, x, dz, w, { tuned: false }).split(",")[0];
      destroyTensor(x, dz, w);
      return kind;
    };
    // H100, 2026-12-07 (docs/performance.md): f32's vector tile won at K = 32 and 256, f16's lost.
    expect(await plan("f32", 256)).toBe("tiled t64v");
    expect(await plan("f32", 32)).toBe("tiled t64v");
    expect(await plan("f32", 257)).not.toContain("t64v");
    if (ctx.caps.f16) expect(await plan("f16", 64)).toBe("tiled t64");
  });

  it("updates when the flag is clear", async () => {
    await runCase(
      { k: 7, m: 37, n: 22, dtype: "f32", rule: ADAM, lossScale: 8, step: 2, copy: true, options: tiled() },
      0,
    );
  });

  it("rejects bad inputs with KernelInputError", async () => {
    const { ctx } = env;
    const x = await createTensor(ctx, "f32", [4, 6], "x");
    const dz = await createTensor(ctx, "f32", [4, 5], "dz");
    const dz8 = await createTensor(ctx, "f32", [3, 5], "dz8");
    const w = await createTensor(ctx, "f32", [6, 5], "w");
    const mm = await createTensor(ctx, "f32", [30], "m");
    const vv = await createTensor(ctx, "f32", [30], "v");
    const half = await createTensor(ctx, "f16", [30], "wHalf");
    const o = tiled();
    await expect(weightGradUpdate(ctx, { x, dz, w, m: mm, rule: ADAM }, o)).rejects.toThrow(/second moment/);
    await expect(weightGradUpdate(ctx, { x, dz: dz8, w, m: mm, v: vv, rule: ADAM }, o)).rejects.toThrow(
      KernelInputError,
    );
    if (ctx.caps.f16)
      await expect(
        weightGradUpdate(ctx, { x, dz, w, m: mm, v: vv, rule: ADAM, wHalf: half }, o),
      ).rejects.toThrow(/N must be even/);
    await expect(
      weightGradUpdate(ctx, { x, dz, w, m: mm, v: vv, rule: { name: "adam", lr: -1 } }, o),
    ).rejects.toThrow(KernelInputError);
    await expect(weightGradUpdate(ctx, { x, dz, w, m: w, v: vv, rule: ADAM }, o)).rejects.toThrow(
      KernelInputError,
    );
    destroyTensor(x, dz, dz8, w, mm, vv, half);
  });
});

// The vector epilogue's passes: every subgroup's block in 16 KiB of workgroup memory at 4 bytes a
// float, 16 rows per accumulator row, FN·AN columns; worked out by hand here, not by the code.
describe("updateBlockLayout (tensor-core vector epilogue)", () => {
  it("takes the whole block where it fits, else strips of accumulator rows", () => {
    // 1 subgroup × 64×64 floats = 16 KiB: one pass; 1024 slots / 32 lanes = 32 a lane.
    expect(updateBlockLayout(matrixTile("p1x1a4x4"), 32)).toEqual({ urows: 64, uw: 64, passes: 1, uq: 4 });
    // 4 subgroups × 64×64 = 64 KiB: one 16×64 strip each (4 × 4 KiB), 4 passes, 8 slots a lane.
    expect(updateBlockLayout(matrixTile("b2x2a4x4"), 32)).toEqual({ urows: 16, uw: 64, passes: 4, uq: 4 });
    expect(updateBlockLayout(matrixTile("b2x2a4x4"), 32, 8)).toEqual({ urows: 16, uw: 64, passes: 4, uq: 8 });
    // 4 × 64×32 = 32 KiB: two passes of 32×32 (4 × 4 KiB), 8 slots a lane.
    expect(updateBlockLayout(matrixTile("b2x2a4x2"), 32)).toEqual({ urows: 32, uw: 32, passes: 2, uq: 4 });
    // 4 × 32×32 = 16 KiB: one pass; 256 slots / 32 lanes = 8.
    expect(updateBlockLayout(matrixTile("p2x2a2x2"), 32)).toEqual({ urows: 32, uw: 32, passes: 1, uq: 4 });
    // 8 subgroups × one 16×64 strip = 32 KiB: no pass fits.
    expect(updateBlockLayout(matrixTile("b2x4a4x4"), 32)).toBeNull();
    // 4 × 16×16 = 4 KiB: one pass; 64 slots / 32 lanes = 2 a lane.
    expect(updateBlockLayout(matrixTile("p2x2a1x1"), 32)).toEqual({ urows: 16, uw: 16, passes: 1, uq: 2 });
    // 16×8 fragments: 1 × 16×8 floats = 32 slots, 1 a lane; on 64 lanes they do not split.
    expect(updateBlockLayout(matrixTile("p1x1a1x1n8"), 32)).toEqual({ urows: 16, uw: 8, passes: 1, uq: 1 });
    expect(updateBlockLayout(matrixTile("p1x1a1x1n8"), 64)).toBeNull();
  });
});

// Tensor cores: only where the adapter has subgroup matrices (the GPU run, not lavapipe).
describe("weightGradUpdate, tensor-core kernel", () => {
  const sm = (tile: string): WeightGradUpdateOptions => ({
    variant: "subgroup-matrix",
    tuned: false,
    matrixTile: MATRIX_TILES[tile] ?? matrixTile(tile),
  });
  const cases: [string, Omit<Case, "dtype">][] = [
    [
      "direct pipelined tile, Adam S=1024",
      { k: 32, m: 64, n: 48, rule: ADAM, lossScale: 1024, step: 1, copy: true, options: sm("p1x1a4x4") },
    ],
    [
      "staged tile, odd M and K, AdamW",
      { k: 7, m: 37, n: 22, rule: ADAMW, lossScale: 3, step: 3, copy: true, options: sm("b2x2a2x2") },
    ],
    [
      "large staged tile, vector staging, SGD (blocks too large: element path)",
      { k: 24, m: 136, n: 272, rule: SGD, lossScale: 512, step: 1, copy: true, options: sm("b2x4a4x4") },
    ],
    // The block epilogue (lib/fused_update_block.wgsl): M past the last 64-row tile, N past the
    // last 64-column one (the direct tile's clamped fragments), a staged tile with odd M and K.
    [
      "direct pipelined tile, block epilogue, M and N not tile multiples, AdamW",
      { k: 48, m: 80, n: 112, rule: ADAMW, lossScale: 256, step: 2, copy: true, options: sm("p1x1a4x4") },
    ],
    [
      "four subgroups sharing the block epilogue (direct, 2×2 subgroups), Adam",
      { k: 32, m: 80, n: 96, rule: ADAM, lossScale: 1024, step: 1, copy: true, options: sm("p2x2a2x2") },
    ],
    [
      "four subgroups, direct without look-ahead, AdamW",
      { k: 16, m: 96, n: 64, rule: ADAMW, lossScale: 2, step: 4, copy: true, options: sm("u2x2a2x2") },
    ],
    // Blocks too large for one pass go through in strips of accumulator rows: b2x2a4x4 (one
    // 16×64 strip per subgroup, 4 passes), b2x2a4x2 (2 passes of 32×32); M, N and K past their
    // tiles' multiples, so the staged tiles' zero-filled edges are dropped.
    [
      "staged 128×128 tile, block epilogue in 4 strips, M and N not tile multiples, Adam",
      { k: 40, m: 150, n: 140, rule: ADAM, lossScale: 1024, step: 2, copy: true, options: sm("b2x2a4x4") },
    ],
    [
      "staged 128×64 tile, block epilogue in 2 strips, odd M and K, AdamW",
      { k: 33, m: 141, n: 68, rule: ADAMW, lossScale: 4, step: 5, copy: true, options: sm("b2x2a4x2") },
    ],
    [
      "staged tile, block epilogue, odd M and K, Nesterov, no copy",
      { k: 13, m: 45, n: 36, rule: NESTEROV, lossScale: 8, step: 1, copy: false, options: sm("b1x1a2x2") },
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

  it("skips the step when the flag is set", async (t) => {
    if (matrixUnsupportedReason(env.ctx)) {
      t.skip();
      return;
    }
    await runCase(
      {
        k: 32,
        m: 64,
        n: 48,
        dtype: "f16",
        rule: ADAM,
        lossScale: 1024,
        step: 2,
        copy: true,
        options: sm("p1x1a4x4"),
      },
      1,
    );
  });
});
