// GEMM, the op that dominates a dense classifier's training: forward Y = X·W (+bias, ReLU),
// and the two backward products dX = dY·Wᵀ (transB) and dW = Xᵀ·dY (transA).
// Two implementations behind one entry point:
//   - "tiled": portable, register-tiled, f32 or f16 inputs, f32 accumulation (shaders/gemm.wgsl);
//   - "subgroup-matrix": tensor cores through chromium-experimental-subgroup-matrix
//     (src/kernels/gemm_subgroup_matrix.ts), chosen when the device has an f16→f32 config.
import type { GpuContext } from "../gpu/device.js";
import { KernelInputError } from "../gpu/errors.js";
import { type DispatchOptions, dispatch, getProgram, type ProgramSpec } from "./program.js";
import { shapeStr, type Tensor } from "./tensor.js";

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
  matrixTile?: import("./gemm_subgroup_matrix.js").MatrixTile;
}

export type GemmVariant = "tiled" | "subgroup-matrix";

export interface TileConfig {
  name: string;
  BM: number;
  BN: number;
  BK: number;
  TM: number;
  TN: number;
}

/** Numbered variants, as in llm.c: bigger tiles reuse more data but need more work to fill a GPU. */
export const TILES: Record<string, TileConfig> = {
  t32: { name: "t32", BM: 32, BN: 32, BK: 16, TM: 2, TN: 2 },
  t64: { name: "t64", BM: 64, BN: 64, BK: 16, TM: 4, TN: 4 },
  t128: { name: "t128", BM: 128, BN: 128, BK: 8, TM: 8, TN: 8 },
};

export function chooseTile(m: number, n: number): TileConfig {
  if (m >= 1024 && n >= 1024) return TILES.t128;
  if (m >= 128 && n >= 128) return TILES.t64;
  return TILES.t32;
}

export interface GemmShape {
  m: number;
  n: number;
  k: number;
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
      throw new KernelInputError("gemm", `bias must be ${c.dtype}[${n}], got ${bi.dtype}${shapeStr(bi.shape)}: ${desc()}`);
  }
  return { m, n, k: ka };
}

export function tiledSpec(
  inType: "f32" | "f16",
  outType: "f32" | "f16",
  tile: TileConfig,
  flags: { transA: boolean; transB: boolean; useBeta: boolean; hasBias: boolean; relu: boolean },
): ProgramSpec {
  return {
    op: `gemm_tiled_${tile.name}_${inType}_${outType}${flags.transA ? "_tA" : ""}${flags.transB ? "_tB" : ""}`,
    shader: "gemm",
    aliases: { T: inType, TC: outType },
    consts: {
      BM: tile.BM,
      BN: tile.BN,
      BK: tile.BK,
      TM: tile.TM,
      TN: tile.TN,
      TRANS_A: flags.transA,
      TRANS_B: flags.transB,
      USE_BETA: flags.useBeta,
      HAS_BIAS: flags.hasBias,
      RELU: flags.relu,
    },
    bindings: [
      { name: "a", access: "read", type: "T" },
      { name: "b", access: "read", type: "T" },
      { name: "c", access: "read_write", type: "TC" },
      { name: "bias", access: "read", type: "TC" },
    ],
    uniforms: [
      ["m", "u32"],
      ["n", "u32"],
      ["k", "u32"],
      ["alpha", "f32"],
      ["beta", "f32"],
    ],
    workgroupSize: [tile.BN / tile.TN, tile.BM / tile.TM],
  };
}

/** A 4-byte buffer bound where an op has no bias, so one shader serves both cases. */
const dummies = new WeakMap<GPUDevice, GPUBuffer>();
export function dummyBuffer(ctx: GpuContext): GPUBuffer {
  let d = dummies.get(ctx.device);
  if (!d) {
    d = ctx.device.createBuffer({ size: 16, usage: 0x80 /* STORAGE */, label: "dummy" });
    dummies.set(ctx.device, d);
  }
  return d;
}

/** Which variant "auto" resolves to for these inputs on this device. */
export function resolveVariant(ctx: GpuContext, a: Tensor, opts: GemmOptions): GemmVariant {
  const v = opts.variant ?? "auto";
  if (v !== "auto") return v;
  return a.dtype === "f16" && ctx.caps.f16f32Matrix.length > 0 ? "subgroup-matrix" : "tiled";
}

type SubgroupGemm = (ctx: GpuContext, a: Tensor, b: Tensor, c: Tensor, s: GemmShape, o: GemmOptions) => Promise<void>;
let subgroupGemm: SubgroupGemm | null = null;
/** The subgroup-matrix module registers itself here (kept separate: most adapters lack the feature). */
export function registerSubgroupMatrixGemm(fn: SubgroupGemm): void {
  subgroupGemm = fn;
}

/** C = alpha·op(A)·op(B) + beta·C (+bias) (ReLU). Records into opts.encoder or submits at once. */
export async function gemm(ctx: GpuContext, a: Tensor, b: Tensor, c: Tensor, opts: GemmOptions = {}): Promise<void> {
  const shape = gemmShape(a, b, c, opts);
  const variant = resolveVariant(ctx, a, opts);
  if (variant === "subgroup-matrix") {
    if (!subgroupGemm) await import("./gemm_subgroup_matrix.js");
    if (!subgroupGemm) throw new KernelInputError("gemm", "subgroup-matrix GEMM did not register");
    return subgroupGemm(ctx, a, b, c, shape, opts);
  }
  const tile = opts.tile ?? chooseTile(shape.m, shape.n);
  const beta = opts.beta ?? 0;
  const spec = tiledSpec(a.dtype as "f32" | "f16", c.dtype as "f32" | "f16", tile, {
    transA: Boolean(opts.transA),
    transB: Boolean(opts.transB),
    useBeta: beta !== 0,
    hasBias: Boolean(opts.bias),
    relu: Boolean(opts.relu),
  });
  const program = await getProgram(ctx, spec);
  const grid: [number, number] = [Math.ceil(shape.n / tile.BN), Math.ceil(shape.m / tile.BM)];
  dispatch(
    ctx,
    program,
    [a, b, c, opts.bias ?? dummyBuffer(ctx)],
    [shape.m, shape.n, shape.k, opts.alpha ?? 1, beta],
    grid,
    opts,
  );
}
