// weightGradOverlap: a layer's weight gradient dW = Xᵀ·dZ stored in its gradient buffer, with the
// optimizer step on it overlapped with the GEMM instead of run after it. The GEMM's grid of
// output tiles is split by rows of tiles into `chunks` interleaved chunks (row y in chunk
// y % chunks), and chunks + 1 dispatches of one kernel run:
//   dispatch 0: chunk 0's tiles compute and store dW; the other workgroups have nothing to do;
//   dispatch d (1 ≤ d < chunks): chunk d's tiles compute dW, the other workgroups apply the
//     optimizer to chunk d − 1 (stored by dispatch d − 1);
//   dispatch chunks: every workgroup applies the optimizer to the last chunk.
// Why: on tensor cores the weight gradient waits on barriers and staging (about 80 TFLOP/s of the
// 541 the hardware reaches through Dawn, docs/performance.md) while the optimizer is bound by
// memory (3 TB/s, 30 bytes a parameter); WebGPU runs one dispatch after another, so the only way
// to have the memory stream beside the multiply-adds is workgroups of both kinds in one
// dispatch. The fused kernel (weight-update.ts) puts both in each workgroup and lost, since a
// workgroup then waits on its own loads; here they are different workgroups.
// The GEMM tile is the plain weight-gradient GEMM's (tuned or heuristic; never split-K: a chunk
// is rows of whole tiles), dW and every update are those of the unfused pair (gemm() then the
// slab optimizer's rule on 16-byte slots), so the result is the same and dW stays visible in `g`.
//   Portable kernel: shaders/gemm_update.wgsl, tensor cores: shaders/gemm_subgroup_matrix.wgsl,
//   both with lib/overlap_update.wgsl.
import type { GpuContext } from "../gpu/device.js";
import { KernelInputError } from "../gpu/errors.js";
import { chooseTile, effectiveOptions, gemmShape, resolveVariant, type TileConfig } from "./gemm.js";
import type { GemmShape } from "./gemm-common.js";
import { vectorViews } from "./gemm-scratch.js";
import {
  chooseMatrixTile,
  type MatrixTile,
  matrixSpec,
  matrixTileDims,
  OVERLAP_OP,
  OVERLAP_UQ,
  vectorStaging,
} from "./gemm-subgroup-matrix.js";
import { vectorStagingTiled } from "./gemm-tiled.js";
import { describe } from "./opcheck.js";
import { dispatch, getProgram } from "./program.js";
import type { Tensor } from "./tensor.js";
import {
  checkMatrixTile,
  checkMatrixUpdate,
  checkUpdateArgs,
  fusedUpdateParts,
  matrixUpdateBuffers,
  optimizerBuffers,
  portableUpdateSpec,
  reportWeightGradCall,
  ruleUniforms,
  WEIGHT_GRAD_FLAGS,
  type WeightGradUpdateArgs,
  type WeightGradUpdateOptions,
  weightGradGemmOptions,
} from "./weight-update.js";

const OP = OVERLAP_OP;

/** Chunks by default: four overlapped dispatches between one GEMM-only and one update-only. */
export const OVERLAP_CHUNKS = 4;

export interface WeightGradOverlapArgs extends WeightGradUpdateArgs {
  /** f32 [M, N]: dW (of the scaled loss) is stored here, and the optimizer reads it from here. */
  g: Tensor;
}

/** The fused kernel's choice of variant and tile (its "auto": the plain weight-gradient GEMM's), and: */
export interface WeightGradOverlapOptions extends WeightGradUpdateOptions {
  /** Chunks of rows of tiles (≥ 1; more than the rows of tiles there are: one per row). */
  chunks?: number;
  /** Slots (16 bytes of w, m, v) each worker thread loads together: 1, 2, 4 or 8 (default OVERLAP_UQ). */
  slotsInFlight?: number;
}

interface OverlapPlan {
  shape: GemmShape;
  variant: "tiled" | "subgroup-matrix";
  tiled?: TileConfig;
  matrix?: MatrixTile;
  /** Rows of the GEMM's tile (a chunk is whole rows of tiles). */
  bm: number;
  tuned: boolean;
}

/**
 * The GEMM the overlapped kernel runs: the plain weight-gradient GEMM's variant and tile for
 * these tensors (tuned or heuristic, as gemm() would pick for dW = Xᵀ·dZ into g), where that is a
 * tiled or tensor-core one; the skinny and lanes kernels have no overlapped form, so their shapes
 * run on the heuristic portable tile.
 */
function planOverlap(
  ctx: GpuContext,
  x: Tensor,
  dz: Tensor,
  g: Tensor,
  options: WeightGradOverlapOptions,
): OverlapPlan {
  const gemmOpts = weightGradGemmOptions(options);
  const shape = gemmShape(x, dz, g, gemmOpts);
  const eff = effectiveOptions(ctx, x, g, shape, gemmOpts);
  const variant = resolveVariant(ctx, x, eff.opts, shape);
  if (variant === "subgroup-matrix") {
    checkMatrixUpdate(ctx, OP, x);
    const tile = eff.opts.matrixTile ?? chooseMatrixTile(shape);
    checkMatrixTile(ctx, OP, tile, shape);
    return { shape, variant, matrix: tile, bm: matrixTileDims(tile).bm, tuned: eff.tuned };
  }
  const tiled = variant === "tiled";
  const tile = (tiled ? eff.opts.tile : undefined) ?? chooseTile(shape.m, shape.n);
  return { shape, variant: "tiled", tiled: tile, bm: tile.BM, tuned: tiled && eff.tuned };
}

/** The kernel and tile weightGradOverlap runs for these inputs, as the per-kernel table names it. */
export function describeWeightGradOverlap(
  ctx: GpuContext,
  x: Tensor,
  dz: Tensor,
  g: Tensor,
  options: WeightGradOverlapOptions = {},
): string {
  const plan = planOverlap(ctx, x, dz, g, options);
  const name = plan.matrix?.name ?? plan.tiled?.name;
  const chunks = chunkCount(plan, options.chunks);
  const slots = options.slotsInFlight ?? OVERLAP_UQ;
  const inFlight = slots === OVERLAP_UQ ? "" : `, ${slots} slots a thread in flight`;
  return `${plan.variant} ${name}${plan.tuned ? " (tuned)" : ""}, optimizer overlapped in ${chunks} chunk${chunks === 1 ? "" : "s"}${inFlight}`;
}

/** The chunks used: the asked-for count, at most one per row of tiles. */
function chunkCount(plan: OverlapPlan, chunks = OVERLAP_CHUNKS): number {
  return Math.min(chunks, Math.ceil(plan.shape.m / plan.bm));
}

/**
 * One optimizer step on W from dW = Xᵀ·dZ (X [K, M], dZ [K, N] → g [M, N], then W [M, N]), the
 * update overlapped with the GEMM in chunks + 1 dispatches. Records into options.record /
 * options.encoder when given (in order: dispatch d reads what d − 1 stored).
 */
export async function weightGradOverlap(
  ctx: GpuContext,
  args: WeightGradOverlapArgs,
  options: WeightGradOverlapOptions = {},
): Promise<void> {
  checkUpdateArgs(ctx, OP, args, { g: args.g });
  const { x, dz, w, g, rule, wHalf } = args;
  const chunksAsked = options.chunks ?? OVERLAP_CHUNKS;
  if (!(Number.isInteger(chunksAsked) && chunksAsked >= 1))
    throw new KernelInputError(OP, `chunks must be an integer ≥ 1, got ${chunksAsked}`);
  const plan = planOverlap(ctx, x, dz, g, options);
  const { shape } = plan;
  if (shape.n % 4 !== 0)
    throw new KernelInputError(
      OP,
      `the optimizer's workers update 16-byte slots of whole rows: N must be a multiple of 4, got W ${describe(w)}`,
    );
  reportWeightGradCall(x, shape);
  const slots = options.slotsInFlight ?? OVERLAP_UQ;
  if (![1, 2, 4, 8].includes(slots))
    throw new KernelInputError(OP, `slotsInFlight must be 1, 2, 4 or 8, got ${slots}`);
  const nesterov = rule.name === "sgd" && Boolean(rule.nesterov);
  const parts = fusedUpdateParts(rule.name, nesterov, Boolean(wHalf), true, slots);
  const optBuffers = optimizerBuffers(ctx, OP, args);
  const hyper = ruleUniforms(rule);
  const chunks = chunkCount(plan, chunksAsked);
  // Dispatch d: chunk d's GEMM (none past the last) and the update of chunk d − 1 (none at 0).
  const chunkUniforms = (d: number) => [chunks, d, d === 0 ? chunks : d - 1];
  if (plan.variant === "subgroup-matrix") {
    const tile = plan.matrix as MatrixTile;
    const { bm, bn } = matrixTileDims(tile);
    const vec = vectorStaging(shape, { transA: true, transB: false });
    const spec = matrixSpec(ctx, "f32", tile, WEIGHT_GRAD_FLAGS, vec, g.size >= 256, parts);
    const program = await getProgram(ctx, spec);
    const buffers = matrixUpdateBuffers(ctx, OP, x, dz, g, vec, optBuffers);
    const grid: [number, number, number] = [Math.ceil(shape.n / bn), Math.ceil(shape.m / bm), 1];
    for (let d = 0; d <= chunks; d++)
      dispatch(
        ctx,
        program,
        buffers,
        [shape.m, shape.n, shape.k, 1, 0, shape.k, ...hyper, ...chunkUniforms(d)],
        grid,
        options,
      );
    return;
  }
  const tile = plan.tiled as TileConfig;
  const vec = vectorStagingTiled(tile, shape, { transA: true, transB: false });
  const program = await getProgram(ctx, portableUpdateSpec(x.dtype as "f32" | "f16", tile, parts, vec));
  const buffers = [x, dz, ...vectorViews(ctx, vec, x, dz), ...optBuffers, g];
  const grid: [number, number, number] = [Math.ceil(shape.n / tile.BN), Math.ceil(shape.m / tile.BM), 1];
  for (let d = 0; d <= chunks; d++)
    dispatch(
      ctx,
      program,
      buffers,
      [shape.m, shape.n, shape.k, ...hyper, ...chunkUniforms(d)],
      grid,
      options,
    );
}
