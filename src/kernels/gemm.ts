// GEMM, the op that dominates a dense classifier's training: forward Y = X·W (+bias, ReLU),
// and the two backward products dX = dY·Wᵀ (transB) and dW = Xᵀ·dY (transA).
// Two kernels behind one entry point:
//   - "tiled": portable, register-tiled, f32 or f16 inputs, f32 accumulation (shaders/gemm.wgsl);
//   - "subgroup-matrix": tensor cores through chromium-experimental-subgroup-matrix, f16 inputs,
//     f32 accumulation (shaders/gemm_subgroup_matrix.wgsl), chosen for f16 where the device has it.
// Both split K over workgroups when the output has too few tiles to fill the GPU (the
// classifier's first layer: 32 × 1024 outputs over K = 150528), finishing with
// shaders/gemm_splitk_reduce.wgsl. A third, "skinny", serves A·B with few rows (the batch-32
// forward). What the kernels share lives in gemm-common.ts.
import type { GpuContext } from "../gpu/device.js";
import { KernelInputError } from "../gpu/errors.js";
import { resourceSlot, resourcesOf } from "../gpu/resources.js";
import {
  type EpilogueFlags,
  epilogueConsts,
  GEMM_BINDINGS,
  GEMM_UNIFORMS,
  type GemmShape,
  gemmOpName,
} from "./gemm-common.js";
import { chooseLanesTile, type LanesTile, lanesSpec, lanesTileDims, parseLanesTile } from "./gemm-lanes.js";
import {
  chooseMatrixTile,
  directOk,
  MATRIX_TILES,
  type MatrixTile,
  matrixSpec,
  matrixTileDims,
  matrixUnsupportedReason,
  tileUnsupportedReason,
  vectorStaging,
} from "./gemm-subgroup-matrix.js";
import { type GemmCall, type GemmChoice, tunedChoice } from "./gemm-tune-cache.js";
import {
  type DispatchOptions,
  dispatch,
  getProgram,
  grid1d,
  opEncoder,
  type ProgramSpec,
} from "./program.js";
import { shapeStr, storageLimit, type Tensor } from "./tensor.js";

export { type EpilogueFlags, epilogueConsts, GEMM_BINDINGS, GEMM_UNIFORMS, type GemmShape, gemmOpName };

export interface GemmOptions extends DispatchOptions {
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  /** With beta ≠ 0, C is read: C = alpha·AB + beta·C. With beta = 0 C is never read. */
  beta?: number;
  /** Added to every row of the result: shape [N], dtype of C. */
  bias?: Tensor;
  relu?: boolean;
  /** "auto" picks subgroup-matrix for f16 inputs where the device has it, else "tiled". */
  variant?: "auto" | GemmVariant;
  /** Tile configuration of the tiled kernel (default: chosen from the shape). */
  tile?: TileConfig;
  /** Tile configuration of the subgroup-matrix kernel (default: chosen from the shape). */
  matrixTile?: MatrixTile;
  /** Tile of the lanes kernel (CPU adapters; default: chosen from the shape). */
  lanesTile?: LanesTile;
  /** Number of K splits (default: chosen from the shape; 1 = no split). */
  splitK?: number;
  /** With false, the tune cache is not consulted (the heuristics decide what is not given). */
  tuned?: boolean;
}

export type GemmVariant = "tiled" | "subgroup-matrix" | "skinny" | "lanes";

/** Rows per workgroup of the skinny kernel, k per staged tile, columns per workgroup. */
const SKINNY = { rows: 32, kt: 64, cols: 128 };
/** The skinny kernel serves A·B with at most this many rows (two row blocks) and a long K. */
export const SKINNY_MAX_M = 64;

/** Whether the skinny kernel can compute this product (A·B, few rows). */
export function skinnyOk(s: GemmShape, opts: { transA?: boolean; transB?: boolean }): boolean {
  return !opts.transA && !opts.transB && s.m <= SKINNY_MAX_M;
}

function skinnySpec(inType: "f32" | "f16", f: EpilogueFlags): ProgramSpec {
  return {
    op: gemmOpName("skinny", inType, "f32", f),
    shader: "gemm_skinny",
    aliases: { T: inType, TC: inType },
    consts: { ROWS: SKINNY.rows, KT: SKINNY.kt },
    bindings: [
      { name: "a", access: "read", type: "T" },
      { name: "b", access: "read", type: "T" },
      { name: "ws", access: "read_write", type: "f32" },
    ],
    uniforms: GEMM_UNIFORMS,
    workgroupSize: [SKINNY.cols],
  };
}

export interface TileConfig {
  name: string;
  BM: number;
  BN: number;
  BK: number;
  TM: number;
  TN: number;
}

/**
 * Numbered variants, as in llm.c: bigger tiles reuse more data but need more work to fill a GPU.
 * TM and TN are multiples of 4 (each thread owns 4×4 groups); BM/TM × BN/TN threads.
 */
export const TILES: Record<string, TileConfig> = {
  t32: { name: "t32", BM: 32, BN: 32, BK: 16, TM: 4, TN: 4 },
  t64: { name: "t64", BM: 64, BN: 64, BK: 16, TM: 4, TN: 4 },
  t64x8: { name: "t64x8", BM: 64, BN: 64, BK: 16, TM: 8, TN: 8 },
  t128: { name: "t128", BM: 128, BN: 128, BK: 8, TM: 8, TN: 8 },
  t128k16: { name: "t128k16", BM: 128, BN: 128, BK: 16, TM: 8, TN: 8 },
};

export function chooseTile(m: number, n: number): TileConfig {
  if (m >= 1024 && n >= 1024) return TILES.t128;
  if (m >= 128 && n >= 128) return TILES.t64;
  return TILES.t32;
}

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

export function tiledSpec(
  inType: "f32" | "f16",
  outType: "f32" | "f16",
  tile: TileConfig,
  f: EpilogueFlags,
): ProgramSpec {
  return {
    op: gemmOpName(`tiled_${tile.name}`, inType, outType, f),
    shader: "gemm",
    includes: ["lib/gemm_load"],
    aliases: { T: inType, TC: outType },
    consts: {
      BM: tile.BM,
      BN: tile.BN,
      BK: tile.BK,
      TM: tile.TM,
      TN: tile.TN,
      ...epilogueConsts(f),
    },
    bindings: GEMM_BINDINGS,
    uniforms: GEMM_UNIFORMS,
    workgroupSize: [tile.BN / tile.TN, tile.BM / tile.TM],
  };
}

function reduceSpec(outType: "f32" | "f16", f: EpilogueFlags): ProgramSpec {
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

/** Workgroups to aim for before splitting K: about two per SM on a large GPU (H100: 132 SMs). */
const TARGET_WORKGROUPS = 264;

/**
 * How many ways to split K: enough to reach TARGET_WORKGROUPS, each split ≥ 4 K-steps. (The
 * tuner found 8–16 splits of 64–128 deep best for the classifier's small second-layer products,
 * where a 16-step minimum allowed only 1–2.)
 */
export function planSplitK(s: GemmShape, bm: number, bn: number, bk: number, forced?: number): number {
  if (forced !== undefined) return Math.max(1, Math.min(forced, Math.ceil(s.k / bk)));
  const tiles = Math.ceil(s.m / bm) * Math.ceil(s.n / bn);
  if (tiles >= TARGET_WORKGROUPS) return 1;
  return Math.max(1, Math.min(Math.ceil(TARGET_WORKGROUPS / tiles), Math.floor(s.k / (4 * bk)), 64));
}

/** The K chunk of each split (a multiple of bk) and how many splits that makes. */
export function kSplits(
  s: GemmShape,
  bm: number,
  bn: number,
  bk: number,
  forced?: number,
): { kchunk: number; used: number } {
  const kchunk = Math.ceil(s.k / planSplitK(s, bm, bn, bk, forced) / bk) * bk;
  return { kchunk, used: Math.ceil(s.k / kchunk) };
}

/** Device-wide scratch buffers: a growing split-K workspace and two distinct dummies. */
const SCRATCH = resourceSlot(
  "gemm scratch",
  (device): { ws?: GPUBuffer; dummyRead: GPUBuffer; dummyWrite: GPUBuffer } => {
    // 4 KiB: a shader's minimum binding size counts the largest matrix it stores (16×16 f32).
    const mk = (label: string) => device.createBuffer({ size: 4096, usage: GPUBufferUsage.STORAGE, label });
    return { dummyRead: mk("dummy-read"), dummyWrite: mk("dummy-write") };
  },
);
function scratchOf(ctx: GpuContext) {
  return resourcesOf(ctx.device).get(SCRATCH);
}

/** A 16-byte buffer bound where an op has no bias (read) or no workspace (write): one shader serves all cases. */
export function dummyBuffer(ctx: GpuContext, use: "read" | "write" = "read"): GPUBuffer {
  const s = scratchOf(ctx);
  return use === "read" ? s.dummyRead : s.dummyWrite;
}

function workspace(ctx: GpuContext, bytes: number): GPUBuffer {
  const s = scratchOf(ctx);
  const limit = storageLimit(ctx);
  if (bytes > limit)
    throw new KernelInputError("gemm", `split-K workspace of ${bytes} bytes exceeds the device's ${limit}`);
  if (!s.ws || s.ws.size < bytes) {
    // Not destroyed: work already recorded may still use the old one; dropping it lets GC free it.
    s.ws = ctx.device.createBuffer({
      size: Math.max(bytes, 1 << 20),
      usage: GPUBufferUsage.STORAGE,
      label: "gemm split-K workspace",
    });
  }
  return s.ws;
}

/** The options a choice gives gemm(). */
export function choiceOptions(c: GemmChoice): GemmOptions {
  return {
    variant: c.variant,
    ...(c.tile ? { tile: TILES[c.tile] } : {}),
    ...(c.matrixTile ? { matrixTile: MATRIX_TILES[c.matrixTile] } : {}),
    ...(c.lanesTile ? { lanesTile: parseLanesTile(c.lanesTile) as LanesTile } : {}),
    ...(c.splitK !== undefined ? { splitK: c.splitK } : {}),
  };
}

/** Whether a stored choice still names kernels this build has. */
function choiceValid(c: GemmChoice): boolean {
  if (c.variant === "tiled") return !c.tile || c.tile in TILES;
  if (c.variant === "subgroup-matrix") return !c.matrixTile || c.matrixTile in MATRIX_TILES;
  if (c.variant === "lanes") return !c.lanesTile || parseLanesTile(c.lanesTile) !== null;
  return c.variant === "skinny";
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
    (!tile.direct || directOk(s))
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
  let dims: [number, number, number] | null = null;
  if (variant === "subgroup-matrix") {
    const tile = o.matrixTile ?? chooseMatrixTile(shape);
    const d = matrixTileDims(tile);
    what += ` ${tile.name}`;
    dims = [d.bm, d.bn, d.bk];
  } else if (variant === "tiled") {
    const tile = o.tile ?? chooseTile(shape.m, shape.n);
    what += ` ${tile.name}`;
    dims = [tile.BM, tile.BN, tile.BK];
  } else if (variant === "lanes") {
    const tile = o.lanesTile ?? chooseLanesTile(shape);
    const d = lanesTileDims(tile);
    what += ` ${tile.name}`;
    dims = [d.bm, d.bn, d.bk];
  }
  if (dims) {
    const { used } = kSplits(shape, dims[0], dims[1], dims[2], o.splitK);
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
  if (shape && skinnyOk(shape, opts) && shape.k >= 1024 && !opts.tile && !opts.matrixTile) return "skinny";
  return a.dtype === "f16" && matrixUnsupportedReason(ctx) === null ? "subgroup-matrix" : "tiled";
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
  let bm: number;
  let bn: number;
  let bk: number;
  let makeSpec: (f: EpilogueFlags) => ProgramSpec;
  /** Extra bindings after the common five (the subgroup-matrix kernel's vector views of A and B). */
  let extra: (Tensor | GPUBuffer)[] = [];
  if (variant === "subgroup-matrix") {
    const why = matrixUnsupportedReason(ctx);
    if (why) throw new KernelInputError("gemm (subgroup-matrix)", why);
    if (inType !== "f16")
      throw new KernelInputError("gemm (subgroup-matrix)", `needs f16 inputs, got ${inType}`);
    const tile = opts.matrixTile ?? chooseMatrixTile(shape);
    const tileWhy = tileUnsupportedReason(ctx, tile);
    if (tileWhy) throw new KernelInputError("gemm (subgroup-matrix)", tileWhy);
    if (tile.direct && !directOk(shape))
      throw new KernelInputError(
        "gemm (subgroup-matrix)",
        `tile ${tile.name} needs M, N, K multiples of 16, got ${shape.m}×${shape.n}×${shape.k}`,
      );
    ({ bm, bn, bk } = matrixTileDims(tile));
    const vec = vectorStaging(shape, { transA: Boolean(opts.transA), transB: Boolean(opts.transB) });
    // C stored straight from the accumulators needs C to hold one whole 16×16 f32 matrix (the
    // binding's minimum size): tiny outputs keep the element-wise epilogue.
    const storeC = outType === "f32" && shape.m * shape.n >= 256;
    makeSpec = (f) => matrixSpec(ctx, outType, tile, f, vec, storeC);
    // Unused vector views get the 16-byte dummy: a tiny f16 tensor is smaller than one vec4<u32>.
    extra = [vec.vecA ? a : dummyBuffer(ctx, "read"), vec.vecB ? b : dummyBuffer(ctx, "read")];
  } else if (variant === "lanes") {
    const tile = opts.lanesTile ?? chooseLanesTile(shape);
    ({ bm, bn, bk } = lanesTileDims(tile));
    makeSpec = (f) => lanesSpec(inType, outType, tile, f);
  } else {
    const tile = opts.tile ?? chooseTile(shape.m, shape.n);
    [bm, bn, bk] = [tile.BM, tile.BN, tile.BK];
    makeSpec = (f) => tiledSpec(inType, outType, tile, f);
  }
  const { kchunk, used } = kSplits(shape, bm, bn, bk, opts.splitK);
  const flags: EpilogueFlags = {
    transA: Boolean(opts.transA),
    transB: Boolean(opts.transB),
    useBeta: beta !== 0,
    hasBias: Boolean(opts.bias),
    relu: Boolean(opts.relu),
    splitK: used > 1,
  };
  const program = await getProgram(ctx, makeSpec(flags));
  const bias = opts.bias ?? dummyBuffer(ctx, "read");
  const ws = used > 1 ? workspace(ctx, used * shape.m * shape.n * 4) : dummyBuffer(ctx, "write");
  const uniforms = [shape.m, shape.n, shape.k, opts.alpha ?? 1, beta, kchunk];
  const grid: [number, number, number] = [Math.ceil(shape.n / bn), Math.ceil(shape.m / bm), used];
  if (used === 1) {
    dispatch(ctx, program, [a, b, c, bias, ws, ...extra], uniforms, grid, opts);
    return;
  }
  // Two passes; share one encoder so timestamps (first pass start, last pass end) cover both.
  const { encoder, done } = opEncoder(ctx, opts, program.spec.op);
  const tw = opts.timestampWrites;
  const first =
    tw?.beginningOfPassWriteIndex !== undefined
      ? { querySet: tw.querySet, beginningOfPassWriteIndex: tw.beginningOfPassWriteIndex }
      : undefined;
  const last =
    tw?.endOfPassWriteIndex !== undefined
      ? { querySet: tw.querySet, endOfPassWriteIndex: tw.endOfPassWriteIndex }
      : undefined;
  dispatch(ctx, program, [a, b, c, dummyBuffer(ctx, "read"), ws, ...extra], uniforms, grid, {
    encoder,
    timestampWrites: first,
    record: opts.record,
  });
  const reduce = await getProgram(ctx, reduceSpec(outType, flags));
  dispatch(
    ctx,
    reduce,
    [ws, c, bias],
    [shape.m, shape.n, used, opts.alpha ?? 1, beta],
    grid1d(ctx, Math.ceil((shape.m * shape.n) / 256)),
    { encoder, timestampWrites: last, record: opts.record },
  );
  done();
}

/**
 * The skinny path: partial sums over K splits (always, so the split-K reduction applies the
 * epilogue and writes C in its type), about four workgroups per SM in all.
 */
async function skinnyGemm(
  ctx: GpuContext,
  a: Tensor,
  b: Tensor,
  c: Tensor,
  shape: GemmShape,
  opts: GemmOptions,
): Promise<void> {
  if (!skinnyOk(shape, opts))
    throw new KernelInputError(
      "gemm (skinny)",
      `serves A·B with at most ${SKINNY_MAX_M} rows, got ${shape.m}×${shape.n}×${shape.k}${opts.transA ? " Aᵀ" : ""}${opts.transB ? " Bᵀ" : ""}`,
    );
  const inType = a.dtype as "f32" | "f16";
  const outType = c.dtype as "f32" | "f16";
  const beta = opts.beta ?? 0;
  const colBlocks = Math.ceil(shape.n / SKINNY.cols);
  const rowBlocks = Math.ceil(shape.m / SKINNY.rows);
  const wanted = opts.splitK ?? Math.max(1, Math.ceil((4 * TARGET_WORKGROUPS) / (colBlocks * rowBlocks)));
  const kchunk = Math.max(SKINNY.kt, Math.ceil(shape.k / wanted / SKINNY.kt) * SKINNY.kt);
  const used = Math.ceil(shape.k / kchunk);
  const flags: EpilogueFlags = {
    transA: false,
    transB: false,
    useBeta: beta !== 0,
    hasBias: Boolean(opts.bias),
    relu: Boolean(opts.relu),
    splitK: true,
  };
  const program = await getProgram(ctx, skinnySpec(inType, flags));
  const reduce = await getProgram(ctx, reduceSpec(outType, flags));
  const ws = workspace(ctx, used * shape.m * shape.n * 4);
  const { encoder, done } = opEncoder(ctx, opts, program.spec.op);
  const tw = opts.timestampWrites;
  dispatch(
    ctx,
    program,
    [a, b, ws],
    [shape.m, shape.n, shape.k, opts.alpha ?? 1, beta, kchunk],
    [colBlocks, rowBlocks, used],
    {
      encoder,
      record: opts.record,
      timestampWrites:
        tw?.beginningOfPassWriteIndex !== undefined
          ? { querySet: tw.querySet, beginningOfPassWriteIndex: tw.beginningOfPassWriteIndex }
          : undefined,
    },
  );
  dispatch(
    ctx,
    reduce,
    [ws, c, opts.bias ?? dummyBuffer(ctx, "read")],
    [shape.m, shape.n, used, opts.alpha ?? 1, beta],
    grid1d(ctx, Math.ceil((shape.m * shape.n) / 256)),
    {
      encoder,
      record: opts.record,
      timestampWrites:
        tw?.endOfPassWriteIndex !== undefined
          ? { querySet: tw.querySet, endOfPassWriteIndex: tw.endOfPassWriteIndex }
          : undefined,
    },
  );
  done();
}
