// Split-K, shared by the GEMM kernels: when an output has too few tiles to fill the GPU (the
// classifier's first layer: 32 × 1024 outputs over K = 150528), K is split over workgroups that
// write f32 partial sums into a workspace, and a second pass (shaders/gemm_splitk_reduce.wgsl)
// adds them up and applies the epilogue (alpha, beta·C, bias, ReLU) in C's type.
import type { GpuContext } from "../gpu/device.js";
import type { EpilogueFlags, GemmShape } from "./gemm-common.js";
import { type DispatchOptions, dispatch, grid1d, type Program, type ProgramSpec } from "./program.js";
import type { Tensor } from "./tensor.js";

/** Workgroups to aim for before splitting K: about two per SM on a large GPU (H100: 132 SMs). */
export const TARGET_WORKGROUPS = 264;

/**
 * A kernel's workgroup tile as split-K sees it: BM×BN outputs, BK deep, and how many workgroups
 * to aim for (TARGET_WORKGROUPS unless the kernel says otherwise: a one-subgroup tensor-core tile
 * needs more, matrixTileDims).
 */
export interface SplitTile {
  bm: number;
  bn: number;
  bk: number;
  target?: number;
}

/**
 * How many ways to split K: enough to reach the tile's target of workgroups, each split ≥ 4
 * K-steps, at most 64. (The tuner found 8–16 splits of 64–128 deep best for the classifier's
 * small second-layer products, where a 16-step minimum allowed only 1–2.)
 */
export function planSplitK(s: GemmShape, tile: SplitTile, forced?: number): number {
  const { bm, bn, bk, target = TARGET_WORKGROUPS } = tile;
  if (forced !== undefined) return Math.max(1, Math.min(forced, Math.ceil(s.k / bk)));
  const tiles = Math.ceil(s.m / bm) * Math.ceil(s.n / bn);
  if (tiles >= target) return 1;
  return Math.max(1, Math.min(Math.ceil(target / tiles), Math.floor(s.k / (4 * bk)), 64));
}

/** The K chunk of each split (a multiple of BK) and how many splits that makes. */
export function kSplits(s: GemmShape, tile: SplitTile, forced?: number): { kchunk: number; used: number } {
  const kchunk = Math.ceil(s.k / planSplitK(s, tile, forced) / tile.bk) * tile.bk;
  return { kchunk, used: Math.ceil(s.k / kchunk) };
}

/** The reduction pass: C[m×n] = alpha·Σ splits + beta·C (+bias) (ReLU), from the f32 workspace. */
export function reduceSpec(outType: "f32" | "f16", f: EpilogueFlags): ProgramSpec {
  return {
    op: `gemm_splitk_reduce_${outType}`,
    shader: "gemm_splitk_reduce",
    aliases: { TC: outType },
    consts: { USE_BETA: f.useBeta, HAS_BIAS: f.hasBias, RELU: f.relu },
    bindings: [
      { name: "ws", access: "read", type: "f32" },
      { name: "c", access: "read_write", type: "TC" },
      { name: "bias", access: "read", type: "TC" },
    ],
    uniforms: [
      ["m", "u32"],
      ["n", "u32"],
      ["splits", "u32"],
      ["alpha", "f32"],
      ["beta", "f32"],
    ],
    workgroupSize: [256],
  };
}

/**
 * The caller's timestamp writes spread over the two passes, so that they cover both: the first
 * pass writes the start, the reduction the end.
 */
export function passTimestamps(tw: GPUComputePassTimestampWrites | undefined): {
  first: GPUComputePassTimestampWrites | undefined;
  last: GPUComputePassTimestampWrites | undefined;
} {
  return {
    first:
      tw?.beginningOfPassWriteIndex !== undefined
        ? { querySet: tw.querySet, beginningOfPassWriteIndex: tw.beginningOfPassWriteIndex }
        : undefined,
    last:
      tw?.endOfPassWriteIndex !== undefined
        ? { querySet: tw.querySet, endOfPassWriteIndex: tw.endOfPassWriteIndex }
        : undefined,
  };
}

/** Dispatches the reduction (a program of reduceSpec) of `used` m×n partial sums in `ws` into C. */
export function dispatchReduce(
  ctx: GpuContext,
  reduce: Program,
  ws: GPUBuffer,
  c: Tensor,
  bias: Tensor | GPUBuffer,
  shape: GemmShape,
  used: number,
  alpha: number,
  beta: number,
  options: DispatchOptions,
): void {
  dispatch(
    ctx,
    reduce,
    [ws, c, bias],
    [shape.m, shape.n, used, alpha, beta],
    grid1d(ctx, Math.ceil((shape.m * shape.n) / 256)),
    options,
  );
}
