// weightGradUpdate: a layer's weight gradient dW = Xᵀ·dZ fused with the optimizer step — each dW
// tile is computed in registers (or tensor-core accumulators) and applied to the f32 master
// weights, moments and f16 copy in the GEMM's epilogue, so the gradient is never written to
// memory or read back (the first layer of the dissertation's classifier: 154 M parameters, about
// 1.2 GB less traffic per step than gemm() into a gradient buffer then adam()). The unfused pair
// stays the reference and serves wherever a gradient must be seen.
//   Portable kernel: shaders/gemm_update.wgsl (f32 or f16 inputs, gemm.wgsl's tiles);
//   tensor cores: shaders/gemm_subgroup_matrix.wgsl with the optimizer's epilogue (f16 inputs).
// Where dW's N is a multiple of 4 (the classifier's 1024 / 2048) the epilogue works on 16-byte
// slots of w and the moments with the slab optimizers' slot rule (lib/fused_update_quad.wgsl);
// on tensor cores each subgroup first stores its whole block of accumulators to workgroup memory
// at once (lib/fused_update_block.wgsl) — the element path, one 16×16 fragment through the
// scratch at a time with scalar loads, ran at 4.33 ms against 2.55 ms for the unfused GEMM +
// Adam on an H200 (mixed/256/1024). Any other N goes element by element.
// By default short-K products run on a portable tile (PORTABLE_FUSED_MAX_K, PORTABLE_FUSED_TILE), the
// others on the tile the tune cache (or the heuristics) picks for the plain weight-gradient GEMM
// of the same shape (FUSED_MATRIX_TILE where that tile has no vector epilogue; tiles whose blocks
// do not fit at once go through them in strips of accumulator rows, lib/fused_update_block.wgsl).
// No split-K: a split dW could only be applied once every split had added its part (a
// last-split-applies scheme needs a cross-workgroup counter and the partial sums in memory
// again), and the products fused here have M·N/tile = thousands of tiles, enough to fill the GPU.
import type { GpuContext } from "../gpu/device.js";
import { KernelInputError } from "../gpu/errors.js";
import { ADAM_HYPER_UNIFORMS, type AdamHyper, adamHyperUniforms, checkAdamHyper } from "./adam.js";
import {
  chooseTile,
  dummyBuffer,
  effectiveOptions,
  type GemmOptions,
  gemmShape,
  reportGemmCall,
  resolveVariant,
  TILES,
  type TileConfig,
} from "./gemm.js";
import type { EpilogueFlags, FusedUpdateParts, GemmShape } from "./gemm-common.js";
import { vectorViews } from "./gemm-scratch.js";
import {
  chooseMatrixTile,
  type MatrixTile,
  matrixSpec,
  matrixTile,
  matrixTileDims,
  matrixUnsupportedReason,
  OVERLAP_OP,
  OVERLAP_PROLOGUE,
  OVERLAP_UNIFORMS,
  tileShapeReason,
  tileUnsupportedReason,
  updateBlockLayout,
  vectorStaging,
} from "./gemm-subgroup-matrix.js";
import { tileLoop, tileStagingConsts, vectorStagingTiled } from "./gemm-tiled.js";
import { checkDistinct, checkTensor, describe, spareBuffer } from "./opcheck.js";
import { type BindingSpec, type DispatchOptions, dispatch, getProgram, type ProgramSpec } from "./program.js";
import { checkSgdHyper, SGD_HYPER_UNIFORMS } from "./sgd.js";
import type { Tensor } from "./tensor.js";
import { constantState } from "./train-state.js";

const OP = "weight_grad_update";

/**
 * K (batch rows) up to which the fused kernel runs on a portable tile by default
 * (PORTABLE_FUSED_TILE), by input type, and where the model fuses by default
 * (GpuMlpOptions.fuseFirstLayerUpdate "auto"). Measured with the generated epilogue, dW
 * 150528×1024 + Adam, against the unfused GEMM + slab Adam of the same step:
 *   H200 (docs/performance.md, "The generated epilogue"): f32 K = 32: 0.92 ms against 0.59 + 0.98;
 *   K = 256: 3.02 ms against 2.56 + 1.05; f16 K = 32: 1.05 ms (f16 copy written) against
 *   0.46 + 1.18 (tensor-core GEMM).
 *   H100 (2026-12-07): f16 K = 256 on t64 / t64v / t128v: 3.28 / 3.08 / 3.60 ms against 1.11 +
 *   1.64 unfused (tensor-core GEMM + Adam), so f16 stays unfused past 64.
 * Past these the plain GEMM's choice: its tuned tile is no guide to the fused one at short K (t128,
 * the plain GEMM's tile at K = 256, took 3.4 ms fused), and on tensor cores the fused block
 * epilogue lost to GEMM + Adam (mixed/256/1024: 3.2–6.0 ms against 2.3) on the small tiles it then
 * needed, and on b2x2a4x4 in strips too (H100, 2026-12-07: 3.02 ms against 1.05 + 1.57 at K = 256;
 * 2.36 ms against t64's 1.44 at K = 32), so the model does not fuse f16 past 64 by default.
 */
export const PORTABLE_FUSED_MAX_K: Readonly<Record<"f32" | "f16", number>> = { f32: 256, f16: 64 };

/**
 * The portable tile a short-K fused update runs on by default, by input type. Measured on an H100
 * (2026-12-07, docs/performance.md, "Measured on an H100"), the fused kernel alone in the step:
 *   f32 K = 32: t64 1.31 ms, t64v 1.25; K = 256: 2.95 / 2.62 (N = 2048: 5.77 / 5.18);
 *   f16 K = 32: t64 1.38, t64v 1.44 (f16's 8-byte vector loads do not pay there).
 * On lavapipe t64v was level or ahead at the CPU model's shapes (f32 K = 32 and 256, N = 256).
 */
export const PORTABLE_FUSED_TILE: Readonly<Record<"f32" | "f16", keyof typeof TILES>> = {
  f32: "t64v",
  f16: "t64",
};

/**
 * The tensor-core tile a fused update runs on where the plain GEMM's choice (tuned or heuristic)
 * has no vector epilogue (updateBlockLayout): b2x2a4x4, the weight gradients' fastest tile (its
 * 128×128 block updated in four 16-row strips per subgroup).
 */
export const FUSED_MATRIX_TILE = "b2x2a4x4";

/** Whether fusing the first layer's update pays by default at this input type and batch. */
export function fusedUpdatePays(dtype: "f32" | "f16", batch: number): boolean {
  return batch <= PORTABLE_FUSED_MAX_K[dtype];
}

/** The optimizer step applied to dW: Adam/AdamW (adam.ts's rules) or SGD (sgd.ts's). */
export type UpdateRule =
  | ({ name: "adam" } & AdamHyper)
  | { name: "sgd"; lr: number; momentum?: number; nesterov?: boolean; weightDecay?: number };

export interface WeightGradUpdateArgs {
  /** The layer's input X [K, M]: K batch rows, M = fan-in; f32 or f16. */
  x: Tensor;
  /** The gradient of the (scaled) loss w.r.t. the layer's pre-activation, dZ [K, N], x's dtype. */
  dz: Tensor;
  /** f32 master weights [M, N], updated in place. */
  w: Tensor;
  /** Adam: the first moment; SGD: the momentum buffer. f32 [M·N], updated in place. */
  m: Tensor;
  /** Adam: the second moment, f32 [M·N]. SGD: omitted. */
  v?: Tensor;
  rule: UpdateRule;
  /** Adam's t ≥ 1 when no state buffer is given (as adam.ts). Default 1. */
  step?: number;
  /** The loss scale dZ carries, divided out. Default 1. Ignored with `state`. */
  lossScale?: number;
  /** The training state (train-state.ts): loss scale and step count, as the step runtime keeps them. */
  state?: GPUBuffer;
  /** u32 [1] from `nonfinite`, set before this runs: when non-zero, nothing is computed or written. */
  flag?: Tensor;
  /** f16 [M·N]: the new weights rounded to f16 (nearest even). Needs N even (one word per pair). */
  wHalf?: Tensor;
}

/**
 * The optimizer's part of a fused kernel: its libs, bindings, uniforms and consts. `vector`: w
 * and the moments as 16-byte slots (the slab optimizers' slot rule, lib/adam_slot or
 * lib/sgd_slot, through lib/fused_update_quad; needs dW's N a multiple of 4), else element by
 * element (lib/adam_indexed or lib/sgd_indexed through lib/fused_update).
 */
export function fusedUpdateParts(
  rule: UpdateRule["name"],
  nesterov: boolean,
  writeCopy: boolean,
  vector: boolean,
  /**
   * Overlapped beside the GEMM instead of in its epilogue (weight-grad-overlap.ts; needs vector):
   * the slots each worker thread loads together (lib/overlap_update.wgsl's OV_UQ); 0: fused.
   */
  overlapSlots = 0,
): FusedUpdateParts {
  const overlap = overlapSlots > 0;
  const ov: Record<string, number> = overlap ? { OV_UQ: overlapSlots } : {};
  const state = (name: string): BindingSpec => ({
    name,
    access: "read_write",
    type: vector ? "vec4<f32>" : "f32",
  });
  const tail: BindingSpec[] = [
    { name: "flag", access: "read", type: "u32" },
    { name: "copy", access: "read_write", type: vector ? "vec2<u32>" : "u32" },
    { name: "state", access: "read", type: "u32" },
  ];
  const math = rule === "adam" ? "adam" : "sgd";
  const includes = [
    "lib/f16_bits",
    "lib/train_state",
    `lib/${math}_math`,
    ...(vector ? [`lib/${math}_slot`, "lib/fused_update_quad"] : [`lib/${math}_indexed`, "lib/fused_update"]),
    "lib/update_skip",
  ];
  const name = `${rule === "adam" ? "adam" : nesterov ? "sgd_nesterov" : "sgd"}${vector ? "_vec" : ""}${overlap ? `_overlap_q${overlapSlots}` : ""}`;
  return rule === "adam"
    ? {
        name,
        vector,
        overlap,
        includes,
        bindings: [state("w"), state("m"), state("v"), ...tail],
        uniforms: ADAM_HYPER_UNIFORMS,
        consts: { WRITE_COPY: writeCopy, ...ov },
      }
    : {
        name,
        vector,
        overlap,
        includes,
        bindings: [state("w"), state("vel"), ...tail],
        uniforms: SGD_HYPER_UNIFORMS,
        consts: { WRITE_COPY: writeCopy, NESTEROV: nesterov, ...ov },
      };
}

/** The optimizer's hyper-parameter uniforms, in the order its parts declare them. */
export function ruleUniforms(rule: UpdateRule): number[] {
  return rule.name === "adam"
    ? adamHyperUniforms(rule)
    : [rule.lr, rule.momentum ?? 0, rule.weightDecay ?? 0];
}

/**
 * The portable kernel's epilogue, written out (the EPILOGUE marker of gemm_update.wgsl): one
 * block per (4-row group g, row r, 4-column group cg) of the thread's TM×TN outputs, with acc's
 * index a literal. The same epilogue as a WGSL loop over g, r, cg was left rolled by NVIDIA's
 * compiler wherever the update grew (the f16 copy's write, or the 8×8 tile), with acc indexed at
 * run time: on an H200 5.24 ms against 1.05 ms written out (f16 inputs, K = 32) and 33.1 against
 * 3.4 ms (t128, K = 256; docs/performance.md).
 */
export function portableEpilogue(
  tile: TileConfig,
  /** The function each 4-column group goes to: the update, or the overlapped kernel's store. */
  call: "update_four" | "store_four" = "update_four",
): string {
  const rg = tile.TM / 4;
  const cg = tile.TN / 4;
  const out: string[] = [];
  for (let g = 0; g < rg; g++)
    for (let r = 0; r < 4; r++)
      for (let c = 0; c < cg; c++)
        out.push(
          `{ let row = row0 + (lid.y + ${g}u * WG_Y) * 4u + ${r}u; let c4 = col0 + (lid.x + ${c}u * WG_X) * 4u;` +
            ` if (row < params.m && c4 < params.n) { ${call}(row, c4, acc[${(g * 4 + r) * cg + c}]); } }`,
        );
  return out.join("\n  ");
}

export function portableUpdateSpec(
  inType: "f32" | "f16",
  tile: TileConfig,
  parts: FusedUpdateParts,
  /** vectorStagingTiled's answer for this tile and shape (default: no vector loads). */
  vec: { vecA: boolean; vecB: boolean } = { vecA: false, vecB: false },
): ProgramSpec {
  const overlap = parts.overlap === true;
  const threads = (tile.BN / tile.TN) * (tile.BM / tile.TM);
  return {
    op: `${overlap ? OVERLAP_OP : OP}_tiled_${tile.name}${vec.vecA ? "_va" : ""}${vec.vecB ? "_vb" : ""}_${inType}_${parts.name}${parts.consts.WRITE_COPY ? "_copy" : ""}`,
    shader: "gemm_update",
    includes: [
      "lib/gemm_load",
      "lib/gemm_stage",
      ...parts.includes,
      ...(overlap ? ["lib/overlap_update"] : []),
    ],
    aliases: { T: inType },
    consts: {
      ...tileStagingConsts(tile, vec),
      TRANS_A: true,
      TRANS_B: false,
      ...parts.consts,
      ...(overlap ? { OV_THREADS: threads } : {}),
    },
    snippets: {
      TILE_LOOP: tileLoop(),
      EPILOGUE: portableEpilogue(tile, overlap ? "store_four" : "update_four"),
      ...(overlap ? { PROLOGUE: OVERLAP_PROLOGUE } : {}),
    },
    bindings: [
      { name: "a", access: "read", type: "T" },
      { name: "b", access: "read", type: "T" },
      // The same buffers 4 elements at a time, for the vector staging (lib/gemm_stage.wgsl).
      { name: "a4", access: "read", type: "vec4<T>" },
      { name: "b4", access: "read", type: "vec4<T>" },
      ...parts.bindings,
      // Overlapped: dW stored (lib/overlap_update.wgsl's store_four) and read by the workers.
      ...(overlap ? [{ name: "c", access: "read_write", type: "f32" } as const] : []),
    ],
    uniforms: [
      ["m", "u32"],
      ["n", "u32"],
      ["k", "u32"],
      ...parts.uniforms,
      ...(overlap ? OVERLAP_UNIFORMS : []),
    ],
    workgroupSize: [tile.BN / tile.TN, tile.BM / tile.TM],
  };
}

export interface WeightGradUpdateOptions extends DispatchOptions {
  /** "auto": tensor cores for f16 where the device has them (or the tuned choice), else portable. */
  variant?: "auto" | "tiled" | "subgroup-matrix";
  tile?: TileConfig;
  matrixTile?: MatrixTile;
  /** With false, the tune cache is not consulted. */
  tuned?: boolean;
}

/** The kernel and tile weightGradUpdate runs for these inputs, as the per-kernel table names it. */
export function describeWeightGradUpdate(
  ctx: GpuContext,
  x: Tensor,
  dz: Tensor,
  w: Tensor,
  options: WeightGradUpdateOptions = {},
): string {
  const plan = planKernel(ctx, x, dz, w, options);
  const how = vectorUpdate(ctx, plan) ? "16-byte slots" : "element by element";
  return `${plan.variant} ${plan.tileName}${plan.tuned ? " (tuned)" : ""}, optimizer in the epilogue (${how})`;
}

interface KernelPlan {
  shape: GemmShape;
  variant: "tiled" | "subgroup-matrix";
  tileName: string;
  tiled?: TileConfig;
  matrix?: MatrixTile;
  tuned: boolean;
}

/** gemm()'s options for dW = Xᵀ·dZ from a weight update's kernel choice (variant, tile, tuned). */
export function weightGradGemmOptions(
  options: Pick<WeightGradUpdateOptions, "variant" | "tile" | "matrixTile" | "tuned">,
): GemmOptions {
  const gemmOpts: GemmOptions = { transA: true, variant: options.variant, tuned: options.tuned };
  if (options.tile) gemmOpts.tile = options.tile;
  if (options.matrixTile) gemmOpts.matrixTile = options.matrixTile;
  return gemmOpts;
}

/** Throws, naming `op`, where the device or the inputs cannot run a weight update on tensor cores. */
export function checkMatrixUpdate(ctx: GpuContext, op: string, x: Tensor): void {
  const why = matrixUnsupportedReason(ctx);
  if (why) throw new KernelInputError(`${op} (subgroup-matrix)`, why);
  if (x.dtype !== "f16")
    throw new KernelInputError(`${op} (subgroup-matrix)`, `needs f16 inputs, got ${x.dtype}`);
}

/** Throws, naming `op`, where this device or shape cannot run `tile`. */
export function checkMatrixTile(ctx: GpuContext, op: string, tile: MatrixTile, shape: GemmShape): void {
  const why = tileUnsupportedReason(ctx, tile) ?? tileShapeReason(tile, shape);
  if (why) throw new KernelInputError(`${op} (subgroup-matrix)`, why);
}

function planKernel(
  ctx: GpuContext,
  x: Tensor,
  dz: Tensor,
  w: Tensor,
  options: WeightGradUpdateOptions,
): KernelPlan {
  const gemmOpts = weightGradGemmOptions(options);
  const shape = gemmShape(x, dz, w, gemmOpts);
  // A short K runs on a portable tile unless the caller chose (PORTABLE_FUSED_MAX_K, _TILE).
  if (
    (options.variant ?? "auto") === "auto" &&
    (x.dtype === "f32" || x.dtype === "f16") &&
    shape.k <= PORTABLE_FUSED_MAX_K[x.dtype] &&
    !options.tile &&
    !options.matrixTile
  ) {
    gemmOpts.variant = "tiled";
    gemmOpts.tile = TILES[PORTABLE_FUSED_TILE[x.dtype]];
  }
  const eff = effectiveOptions(ctx, x, w, shape, gemmOpts);
  const variant = resolveVariant(ctx, x, eff.opts, shape);
  if (variant === "subgroup-matrix") {
    checkMatrixUpdate(ctx, OP, x);
    let tile = eff.opts.matrixTile ?? chooseMatrixTile(shape);
    // A tile chosen for the plain GEMM (tuned or heuristic) that has no vector epilogue would
    // update element by element: the fused tile instead, unless the caller named one.
    if (!options.matrixTile && shape.n % 4 === 0 && !updateBlockLayout(tile, ctx.caps.subgroupMaxSize))
      tile = matrixTile(FUSED_MATRIX_TILE);
    checkMatrixTile(ctx, OP, tile, shape);
    return { shape, variant, tileName: tile.name, matrix: tile, tuned: eff.tuned };
  }
  if (variant !== "tiled") throw new KernelInputError(OP, `no fused kernel for the ${variant} GEMM`);
  const tile = eff.opts.tile ?? chooseTile(shape.m, shape.n);
  return { shape, variant, tileName: tile.name, tiled: tile, tuned: eff.tuned };
}

/**
 * Whether the epilogue updates 16-byte slots (w and the moments as vec4, 4 adjacent dW values at
 * a time): dW's N a multiple of 4 and, on tensor cores, the tile's accumulator blocks fitting the
 * vector epilogue's workgroup memory. Else the element path, which serves any N.
 */
function vectorUpdate(ctx: GpuContext, plan: KernelPlan): boolean {
  if (plan.shape.n % 4 !== 0) return false;
  return plan.matrix ? updateBlockLayout(plan.matrix, ctx.caps.subgroupMaxSize) !== null : true;
}

/**
 * Checks what a weight-gradient kernel with the optimizer (fused or overlapped) is given: dtypes,
 * sizes against w, the rule's moments and hyper-parameters, distinct buffers. `op` names it.
 */
export function checkUpdateArgs(
  ctx: GpuContext,
  op: string,
  args: WeightGradUpdateArgs,
  extra: Record<string, Tensor> = {},
): void {
  const { x, dz, w, m, v, rule, flag, wHalf } = args;
  checkTensor(ctx, op, "x", x, { dtype: ["f32", "f16"] });
  checkTensor(ctx, op, "dz", dz, { dtype: x.dtype });
  checkTensor(ctx, op, "w", w, { dtype: "f32" });
  const same = { size: w.size, why: `as w ${describe(w)}` };
  for (const [role, t] of Object.entries(extra)) checkTensor(ctx, op, role, t, { dtype: "f32", ...same });
  checkTensor(ctx, op, "m", m, { dtype: "f32", ...same });
  if (rule.name === "adam") {
    if (!v) throw new KernelInputError(op, "Adam needs the second moment v");
    checkTensor(ctx, op, "v", v, { dtype: "f32", ...same });
    checkAdamHyper(op, { ...rule, step: args.step ?? 1, lossScale: args.lossScale, state: args.state });
  } else {
    if (v) throw new KernelInputError(op, "SGD takes no second moment v");
    checkSgdHyper(op, { ...rule, lossScale: args.lossScale });
    if (rule.nesterov && !(rule.momentum ?? 0))
      throw new KernelInputError(op, "Nesterov needs momentum > 0 (as PyTorch)");
  }
  if (flag) checkTensor(ctx, op, "flag", flag, { dtype: "u32", size: 1 });
  if (wHalf) checkTensor(ctx, op, "wHalf", wHalf, { dtype: "f16", ...same });
  checkDistinct(op, { x, dz, w, m, v, flag, wHalf, ...extra });
}

/** Reports the weight-gradient product dW = Xᵀ·dZ (f32 out) to the tuner's call observer. */
export function reportWeightGradCall(x: Tensor, shape: GemmShape): void {
  reportGemmCall({
    ...shape,
    transA: true,
    transB: false,
    inType: x.dtype as "f32" | "f16",
    outType: "f32",
    bias: false,
    relu: false,
    beta: false,
  });
}

/**
 * The optimizer's buffers in its parts' binding order (fusedUpdateParts): w, the moments, the
 * flag, the f16 copy and the train state — spare buffers for an omitted flag or copy, and a
 * constant state from the step and loss scale where no state buffer is given.
 */
export function optimizerBuffers(
  ctx: GpuContext,
  op: string,
  args: WeightGradUpdateArgs,
): (Tensor | GPUBuffer)[] {
  const { w, m, v, flag, wHalf } = args;
  return [
    w,
    m,
    ...(v ? [v] : []),
    flag ?? spareBuffer(ctx, "zero flag (read only)", 4),
    wHalf ?? spareBuffer(ctx, `${op}.copy`, 16),
    args.state ?? constantState(ctx, { scale: args.lossScale ?? 1, steps: (args.step ?? 1) - 1 }),
  ];
}

/** The epilogue flags of the weight-gradient product dW = Xᵀ·dZ: no beta, bias, ReLU or split. */
export const WEIGHT_GRAD_FLAGS: EpilogueFlags = {
  transA: true,
  transB: false,
  useBeta: false,
  hasBias: false,
  relu: false,
  splitK: false,
};

/**
 * A tensor-core weight update's buffers in matrixSpec's binding order: X, dZ, C (dW where it is
 * stored, else a spare), the bias and split-K workspace its epilogues never take (small spares),
 * the 16-byte views of X and dZ, then the optimizer's (optimizerBuffers).
 */
export function matrixUpdateBuffers(
  ctx: GpuContext,
  op: string,
  x: Tensor,
  dz: Tensor,
  c: Tensor | GPUBuffer,
  vec: { vecA: boolean; vecB: boolean },
  opt: (Tensor | GPUBuffer)[],
): (Tensor | GPUBuffer)[] {
  return [
    x,
    dz,
    c,
    dummyBuffer(ctx, "read"),
    spareBuffer(ctx, `${op}.ws`, 4096),
    ...vectorViews(ctx, vec, x, dz),
    ...opt,
  ];
}

/**
 * One optimizer step on W from dW = Xᵀ·dZ (X [K, M], dZ [K, N] → W [M, N]) without storing dW.
 * Records into options.record / options.encoder when given.
 */
export async function weightGradUpdate(
  ctx: GpuContext,
  args: WeightGradUpdateArgs,
  options: WeightGradUpdateOptions = {},
): Promise<void> {
  checkUpdateArgs(ctx, OP, args);
  const { x, dz, w, rule, wHalf } = args;
  const plan = planKernel(ctx, x, dz, w, options);
  const { shape } = plan;
  if (wHalf && shape.n % 2 !== 0)
    throw new KernelInputError(
      OP,
      `the f16 copy is written a word (two columns) at a time: N must be even, got W ${describe(w)}`,
    );
  reportWeightGradCall(x, shape);
  const parts = fusedUpdateParts(
    rule.name,
    rule.name === "sgd" && Boolean(rule.nesterov),
    Boolean(wHalf),
    vectorUpdate(ctx, plan),
  );
  const optBuffers = optimizerBuffers(ctx, OP, args);
  const hyper = ruleUniforms(rule);
  if (plan.variant === "subgroup-matrix") {
    const tile = plan.matrix as MatrixTile;
    const { bm, bn } = matrixTileDims(tile);
    const vec = vectorStaging(shape, { transA: true, transB: false });
    const program = await getProgram(ctx, matrixSpec(ctx, "f32", tile, WEIGHT_GRAD_FLAGS, vec, false, parts));
    // c is named by the plain epilogue the fused one bypasses: a spare buffer, distinct from the
    // workspace's (two writable bindings may not share a buffer), 4 KiB (the largest matrix stored).
    const buffers = matrixUpdateBuffers(ctx, OP, x, dz, spareBuffer(ctx, `${OP}.c`, 4096), vec, optBuffers);
    const uniforms = [shape.m, shape.n, shape.k, 1, 0, shape.k, ...hyper];
    dispatch(ctx, program, buffers, uniforms, [Math.ceil(shape.n / bn), Math.ceil(shape.m / bm), 1], options);
    return;
  }
  const tile = plan.tiled as TileConfig;
  const vec = vectorStagingTiled(tile, shape, { transA: true, transB: false });
  const program = await getProgram(ctx, portableUpdateSpec(x.dtype as "f32" | "f16", tile, parts, vec));
  dispatch(
    ctx,
    program,
    [x, dz, ...vectorViews(ctx, vec, x, dz), ...optBuffers],
    [shape.m, shape.n, shape.k, ...hyper],
    [Math.ceil(shape.n / tile.BN), Math.ceil(shape.m / tile.BM), 1],
    options,
  );
}
