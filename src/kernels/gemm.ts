// GEMM, the op that dominates a dense classifier's training: forward Y = X·W (+bias, ReLU),
// and the two backward products dX = dY·Wᵀ (transB) and dW = Xᵀ·dY (transA).
// This module is the entry point: it checks shapes, decides which kernel runs (the caller's
// options, else the tuned choice, else the heuristics) and dispatches it. The kernels:
//   - "tiled": portable, register-tiled, f32 or f16 inputs, f32 accumulation (gemm-tiled.ts);
//   - "subgroup-matrix": tensor cores through chromium-experimental-subgroup-matrix, f16 inputs,
//     f32 accumulation (gemm-subgroup-matrix.ts), chosen for f16 where the device has it;
//   - "lanes": for CPU adapters (gemm-lanes.ts);
//   - "skinny": A·B with few rows and a long K (the batch-32 forward; gemm-skinny.ts).
// All split K over workgroups when the output has too few tiles to fill the GPU (gemm-split-k.ts).
// What the kernels share lives in gemm-common.ts; their scratch buffers in gemm-scratch.ts.
import type { GpuContext } from "../gpu/device.js";
import { KernelInputError } from "../gpu/errors.js";
import {
  type EpilogueFlags,
  epilogueConsts,
  GEMM_BINDINGS,
  GEMM_UNIFORMS,
  type GemmProductOptions,
  type GemmShape,
  gemmOpName,
} from "./gemm-common.js";
import { chooseLanesTile, type LanesTile, lanesSpec, lanesTileDims, parseLanesTile } from "./gemm-lanes.js";
import { dummyBuffer, vectorViews, workspace } from "./gemm-scratch.js";
import { SKINNY_MAX_M, skinnyGemm, skinnyOk, skinnyRowsOk } from "./gemm-skinny.js";
import {
  dispatchReduce,
  kSplits,
  passTimestamps,
  planSplitK,
  reduceSpec,
  type SplitTile,
} from "./gemm-split-k.js";
import {
  chooseMatrixTile,
  MATRIX_TILES,
  type MatrixTile,
  matrixSpec,
  matrixTileDims,
  matrixUnsupportedReason,
  persistentCallReason,
  tileShapeReason,
  tileUnsupportedReason,
  vectorStaging,
} from "./gemm-subgroup-matrix.js";
import { chooseTile, TILES, type TileConfig, tiledSpec, vectorStagingTiled } from "./gemm-tiled.js";
import { type GemmCall, type GemmChoice, tunedChoice } from "./gemm-tune-cache.js";
import { dispatch, getProgram, opEncoder, type ProgramSpec } from "./program.js";
import { shapeStr, type Tensor } from "./tensor.js";

export {
  chooseTile,
  dummyBuffer,
  type EpilogueFlags,
  epilogueConsts,
  GEMM_BINDINGS,
  GEMM_UNIFORMS,
  type GemmShape,
  gemmOpName,
  kSplits,
  planSplitK,
  SKINNY_MAX_M,
  skinnyOk,
  TILES,
  type TileConfig,
  tiledSpec,
};

export interface GemmOptions extends GemmProductOptions {
  /** "auto" picks subgroup-matrix for f16 inputs where the device has it, else "tiled". */
  variant?: "auto" | GemmVariant;
  /** Tile configuration of the tiled kernel (default: chosen from the shape). */
  tile?: TileConfig;
  /** Tile configuration of the subgroup-matrix kernel (default: chosen from the shape). */
  matrixTile?: MatrixTile;
  /** Tile of the lanes kernel (CPU adapters; default: chosen from the shape). */
  lanesTile?: LanesTile;
  /** Rows per workgroup of the skinny kernel (SKINNY_ROWS; default 32). */
  skinnyRows?: number;
  /** With false, the tune cache is not consulted (the heuristics decide what is not given). */
  tuned?: boolean;
}

export type GemmVariant = "tiled" | "subgroup-matrix" | "skinny" | "lanes";

/** Checks shapes and dtypes; returns M, N, K. Errors name the op and every shape. */
export function gemmShape(a: Tensor, b: Tensor, c: Tensor, opts: GemmOptions = {}): GemmShape {
  const desc = () =>
    `A ${a.dtype}${shapeStr(a.shape)}${opts.transA ? "ᵀ" : ""} · B ${b.dtype}${shapeStr(b.shape)}${opts.transB ? "ᵀ" : ""} → C ${c.dtype}${shapeStr(c.shape)}`;
  if (a.shape.length !== 2 || b.shape.length !== 2 || c.shape.length !== 2)
    throw new KernelInputError("gemm", `needs 2-D tensors: ${desc()}`);
  const [m, ka] = opts.transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [kb, n] = opts.transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (ka !== kb) throw new KernelInputError("gemm", `inner dimensions differ (${ka} vs ${kb}): ${desc()}`);
  if (c.shape[0] !== m || c.shape[1] !== n)
    throw new KernelInputError("gemm", `C must be [${m}×${n}]: ${desc()}`);
  if (a.dtype !== b.dtype) throw new KernelInputError("gemm", `A and B must share a dtype: ${desc()}`);
  for (const t of [a, c])
    if (t.dtype !== "f32" && t.dtype !== "f16")
      throw new KernelInputError("gemm", `only f32 and f16 are supported: ${desc()}`);
  if (opts.bias) {
    const bi = opts.bias;
    if (bi.size !== n || bi.dtype !== c.dtype)
      throw new KernelInputError(
        "gemm",
        `bias must be ${c.dtype}[${n}], got ${bi.dtype}${shapeStr(bi.shape)}: ${desc()}`,
      );
  }
  if (m * n * Math.max(1, opts.splitK ?? 1) >= 2 ** 32 || m * ka >= 2 ** 32 || ka * n >= 2 ** 32)
    throw new KernelInputError("gemm", `too many elements for 32-bit indexing: ${desc()}`);
  return { m, n, k: ka };
}

/** The options a choice gives gemm(). */
export function choiceOptions(c: GemmChoice): GemmOptions {
  return {
    variant: c.variant,
    ...(c.tile ? { tile: TILES[c.tile] } : {}),
    ...(c.matrixTile ? { matrixTile: MATRIX_TILES[c.matrixTile] } : {}),
    ...(c.lanesTile ? { lanesTile: parseLanesTile(c.lanesTile) as LanesTile } : {}),
    ...(c.skinnyRows !== undefined ? { skinnyRows: c.skinnyRows } : {}),
    ...(c.splitK !== undefined ? { splitK: c.splitK } : {}),
  };
}

/** Whether a stored choice still names kernels this build has. */
function choiceValid(c: GemmChoice): boolean {
  if (c.variant === "tiled") return !c.tile || c.tile in TILES;
  if (c.variant === "subgroup-matrix") return !c.matrixTile || c.matrixTile in MATRIX_TILES;
  if (c.variant === "lanes") return !c.lanesTile || parseLanesTile(c.lanesTile) !== null;
  return c.variant === "skinny" && (c.skinnyRows === undefined || skinnyRowsOk(c.skinnyRows));
}

/** Whether a tuned choice can serve this call here (its tile exists, fits the shape and the device). */
function choiceUsable(ctx: GpuContext, c: GemmChoice, a: Tensor, s: GemmShape, opts: GemmOptions): boolean {
  if (!choiceValid(c)) return false;
  if (c.variant === "skinny") return skinnyOk(s, opts);
  if (c.variant === "tiled" || c.variant === "lanes") return true;
  const tile = c.matrixTile ? MATRIX_TILES[c.matrixTile] : chooseMatrixTile(s);
  return (
    a.dtype === "f16" &&
    matrixUnsupportedReason(ctx) === null &&
    tileUnsupportedReason(ctx, tile) === null &&
    tileShapeReason(tile, s) === null
  );
}

/**
 * The options gemm() runs with: the caller's where they name a kernel, tile or split; else the
 * tuned choice for this call on this device (\`halfwatt tune\`), if the cache has one that applies.
 */
export function effectiveOptions(
  ctx: GpuContext,
  a: Tensor,
  c: Tensor,
  shape: GemmShape,
  opts: GemmOptions,
): { opts: GemmOptions; tuned: boolean } {
  const explicit =
    (opts.variant !== undefined && opts.variant !== "auto") ||
    opts.tile !== undefined ||
    opts.matrixTile !== undefined ||
    opts.lanesTile !== undefined ||
    opts.splitK !== undefined;
  if (explicit || opts.tuned === false || (a.dtype !== "f32" && a.dtype !== "f16"))
    return { opts, tuned: false };
  const choice = tunedChoice(ctx, {
    ...shape,
    transA: Boolean(opts.transA),
    transB: Boolean(opts.transB),
    inType: a.dtype,
    outType: c.dtype as "f32" | "f16",
    bias: Boolean(opts.bias),
    relu: Boolean(opts.relu),
    beta: (opts.beta ?? 0) !== 0,
  });
  if (!choice || !choiceUsable(ctx, choice, a, shape, opts)) return { opts, tuned: false };
  return { opts: { ...opts, ...choiceOptions(choice) }, tuned: true };
}

/** What gemm() will run for these inputs: "subgroup-matrix u2x2a4x4 split-K 17 (tuned)". */
export function describeGemm(
  ctx: GpuContext,
  a: Tensor,
  b: Tensor,
  c: Tensor,
  opts: GemmOptions = {},
): string {
  const shape = gemmShape(a, b, c, opts);
  const eff = effectiveOptions(ctx, a, c, shape, opts);
  const o = eff.opts;
  const variant = resolveVariant(ctx, a, o, shape);
  let what: string = variant;
  let dims: SplitTile | null = null;
  if (variant === "subgroup-matrix") {
    const tile = o.matrixTile ?? chooseMatrixTile(shape);
    const d = matrixTileDims(tile);
    what += ` ${tile.name}`;
    dims = d;
  } else if (variant === "tiled") {
    const tile = o.tile ?? chooseTile(shape.m, shape.n);
    what += ` ${tile.name}`;
    dims = { bm: tile.BM, bn: tile.BN, bk: tile.BK };
  } else if (variant === "lanes") {
    const tile = o.lanesTile ?? chooseLanesTile(shape);
    const d = lanesTileDims(tile);
    what += ` ${tile.name}`;
    dims = d;
  }
  if (dims) {
    const { used } = kSplits(shape, dims, o.splitK);
    if (used > 1) what += ` split-K ${used}`;
  }
  return eff.tuned ? `${what} (tuned)` : what;
}

/**
 * Which variant "auto" resolves to for these inputs on this device: the skinny kernel for A·B
 * with few rows and a long K (a pass over B; tiles would idle the GPU), else tensor cores for f16
 * where the device has them, else the tiled kernel.
 */
export function resolveVariant(
  ctx: GpuContext,
  a: Tensor,
  opts: GemmOptions,
  shape?: GemmShape,
): GemmVariant {
  const v = opts.variant ?? "auto";
  if (v !== "auto") return v;
  const matrices = a.dtype === "f16" && matrixUnsupportedReason(ctx) === null;
  // f16 with tensor cores: the batch-32 forward's p1x1a2x4 beats the skinny kernel (see
  // chooseMatrixTile); shapes it does not take (M not a multiple of 16, M > 32) stay skinny.
  const matrixSkinny = matrices && shape !== undefined && chooseMatrixTile(shape).name === "p1x1a2x4";
  if (shape && skinnyOk(shape, opts) && shape.k >= 1024 && !opts.tile && !opts.matrixTile && !matrixSkinny)
    return "skinny";
  return matrices ? "subgroup-matrix" : "tiled";
}

let observer: ((call: GemmCall) => void) | null = null;
/** Reports every gemm() call made while set (tests: the calls a model makes, for the tuner's list). */
export function observeGemmCalls(fn: ((call: GemmCall) => void) | null): void {
  observer = fn;
}
/** Tells the observer of a product computed outside gemm() (the fused weight-gradient update). */
export function reportGemmCall(call: GemmCall): void {
  observer?.(call);
}

/** C = alpha·op(A)·op(B) + beta·C (+bias) (ReLU). Records into opts.encoder or submits at once. */
export async function gemm(
  ctx: GpuContext,
  a: Tensor,
  b: Tensor,
  c: Tensor,
  opts: GemmOptions = {},
): Promise<void> {
  const shape = gemmShape(a, b, c, opts);
  observer?.({
    ...shape,
    transA: Boolean(opts.transA),
    transB: Boolean(opts.transB),
    inType: a.dtype as "f32" | "f16",
    outType: c.dtype as "f32" | "f16",
    bias: Boolean(opts.bias),
    relu: Boolean(opts.relu),
    beta: (opts.beta ?? 0) !== 0,
  });
  opts = effectiveOptions(ctx, a, c, shape, opts).opts;
  const variant = resolveVariant(ctx, a, opts, shape);
  if (variant === "skinny") return skinnyGemm(ctx, a, b, c, shape, opts);
  const beta = opts.beta ?? 0;
  const inType = a.dtype as "f32" | "f16";
  const outType = c.dtype as "f32" | "f16";
  /** The workgroup tile, for the grid and the K split (one-subgroup tiles aim at more workgroups). */
  let split: SplitTile;
  let makeSpec: (f: EpilogueFlags) => ProgramSpec;
  /** Extra bindings after the common five (the subgroup-matrix and tiled kernels' vector views of A and B). */
  let extra: (Tensor | GPUBuffer)[] = [];
  /** The subgroup-matrix tile, where that kernel runs (a persistent one changes the grid). */
  let matrixTileUsed: MatrixTile | null = null;
  if (variant === "subgroup-matrix") {
    const why = matrixUnsupportedReason(ctx);
    if (why) throw new KernelInputError("gemm (subgroup-matrix)", why);
    if (inType !== "f16")
      throw new KernelInputError("gemm (subgroup-matrix)", `needs f16 inputs, got ${inType}`);
    const tile = opts.matrixTile ?? chooseMatrixTile(shape);
    const tileWhy = tileUnsupportedReason(ctx, tile) ?? tileShapeReason(tile, shape);
    if (tileWhy) throw new KernelInputError("gemm (subgroup-matrix)", tileWhy);
    matrixTileUsed = tile;
    split = matrixTileDims(tile);
    const vec = vectorStaging(shape, { transA: Boolean(opts.transA), transB: Boolean(opts.transB) });
    // C stored straight from the accumulators needs C to hold one whole 16×16 f32 matrix (the
    // binding's minimum size): tiny outputs keep the element-wise epilogue.
    const storeC = outType === "f32" && shape.m * shape.n >= 256;
    makeSpec = (f) => matrixSpec(ctx, outType, tile, f, vec, storeC);
    // Unused vector views get the 16-byte dummy: a tiny f16 tensor is smaller than one vec4<u32>.
    extra = vectorViews(ctx, vec, a, b);
  } else if (variant === "lanes") {
    const tile = opts.lanesTile ?? chooseLanesTile(shape);
    split = lanesTileDims(tile);
    makeSpec = (f) => lanesSpec(inType, outType, tile, f);
  } else {
    const tile = opts.tile ?? chooseTile(shape.m, shape.n);
    split = { bm: tile.BM, bn: tile.BN, bk: tile.BK };
    const vec = vectorStagingTiled(tile, shape, {
      transA: Boolean(opts.transA),
      transB: Boolean(opts.transB),
    });
    makeSpec = (f) => tiledSpec(inType, outType, tile, f, vec);
    extra = vectorViews(ctx, vec, a, b);
  }
  const { kchunk, used } = kSplits(shape, split, opts.splitK);
  const flags: EpilogueFlags = {
    transA: Boolean(opts.transA),
    transB: Boolean(opts.transB),
    useBeta: beta !== 0,
    hasBias: Boolean(opts.bias),
    relu: Boolean(opts.relu),
    splitK: used > 1,
  };
  const persistent = matrixTileUsed?.persistentWorkgroups ?? null;
  if (matrixTileUsed) {
    const why = persistentCallReason(matrixTileUsed, outType, flags, opts.alpha ?? 1);
    if (why) throw new KernelInputError("gemm (subgroup-matrix)", why);
  }
  const program = await getProgram(ctx, makeSpec(flags));
  const bias = opts.bias ?? dummyBuffer(ctx, "read");
  const ws = used > 1 ? workspace(ctx, used * shape.m * shape.n * 4) : dummyBuffer(ctx, "write");
  const uniforms = [shape.m, shape.n, shape.k, opts.alpha ?? 1, beta, kchunk];
  const grid: [number, number, number] = [Math.ceil(shape.n / split.bn), Math.ceil(shape.m / split.bm), used];
  if (persistent !== null) {
    // Kind q: a 1-D grid of at most `persistent` workgroups walking the tiles (its stride a uniform).
    grid[0] = Math.min(persistent, grid[0] * grid[1]);
    grid[1] = 1;
    uniforms.push(grid[0]);
  }
  if (used === 1) {
    dispatch(ctx, program, [a, b, c, bias, ws, ...extra], uniforms, grid, opts);
    return;
  }
  // Two passes; share one encoder so timestamps (first pass start, last pass end) cover both.
  const { encoder, done } = opEncoder(ctx, opts, program.spec.op);
  const { first, last } = passTimestamps(opts.timestampWrites);
  dispatch(ctx, program, [a, b, c, dummyBuffer(ctx, "read"), ws, ...extra], uniforms, grid, {
    encoder,
    timestampWrites: first,
    record: opts.record,
  });
  const reduce = await getProgram(ctx, reduceSpec(outType, flags));
  dispatchReduce(ctx, reduce, ws, c, bias, shape, used, opts.alpha ?? 1, beta, {
    encoder,
    timestampWrites: last,
    record: opts.record,
  });
  done();
}
