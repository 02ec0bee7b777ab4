// The tensor-core GEMM: f16 inputs, f32 accumulation, through chromium-experimental-subgroup-matrix
// (shaders/gemm_subgroup_matrix.wgsl). Registers itself with src/kernels/gemm.ts on import.
import type { GpuContext } from "../gpu/device.js";
import { MissingFeatureError } from "../gpu/errors.js";
import { dummyBuffer, type GemmOptions, type GemmShape, registerSubgroupMatrixGemm } from "./gemm.js";
import { dispatch, getProgram, type ProgramSpec } from "./program.js";
import type { Tensor } from "./tensor.js";

export interface MatrixTile {
  name: string;
  /** Subgroups per workgroup, as rows × cols. */
  sgRows: number;
  sgCols: number;
  /** 16×16 accumulators per subgroup, as rows × cols. */
  am: number;
  an: number;
  /** K step staged in workgroup memory (a multiple of 16). */
  bk: number;
  /** Padding of each staged row, in halves. */
  pad: number;
}

/** Numbered variants; "m2x2a4x4" = 2×2 subgroups, each with 4×4 accumulators (a 128×128 tile). */
export const MATRIX_TILES: Record<string, MatrixTile> = {
  m1x1a2x2: { name: "m1x1a2x2", sgRows: 1, sgCols: 1, am: 2, an: 2, bk: 32, pad: 8 },
  m2x2a2x2: { name: "m2x2a2x2", sgRows: 2, sgCols: 2, am: 2, an: 2, bk: 32, pad: 8 },
  m2x2a4x2: { name: "m2x2a4x2", sgRows: 2, sgCols: 2, am: 4, an: 2, bk: 32, pad: 8 },
  m2x2a4x4: { name: "m2x2a4x4", sgRows: 2, sgCols: 2, am: 4, an: 4, bk: 32, pad: 8 },
};

export function chooseMatrixTile(s: GemmShape): MatrixTile {
  if (s.m >= 1024 && s.n >= 1024) return MATRIX_TILES.m2x2a4x4;
  if (s.m >= 128 && s.n >= 128) return MATRIX_TILES.m2x2a2x2;
  return MATRIX_TILES.m1x1a2x2;
}

export function matrixSpec(
  ctx: GpuContext,
  outType: "f32" | "f16",
  tile: MatrixTile,
  flags: { transA: boolean; transB: boolean; useBeta: boolean; hasBias: boolean; relu: boolean },
): ProgramSpec {
  const sgSize = ctx.caps.subgroupMaxSize;
  const numSg = tile.sgRows * tile.sgCols;
  return {
    op: `gemm_subgroup_matrix_${tile.name}_f16_${outType}${flags.transA ? "_tA" : ""}${flags.transB ? "_tB" : ""}`,
    shader: "gemm_subgroup_matrix",
    aliases: { TC: outType },
    enables: ["subgroups", "chromium_experimental_subgroup_matrix"],
    diagnosticsOff: ["chromium_experimental.subgroup_matrix_uniformity"],
    consts: {
      SG_SIZE: sgSize,
      NUM_SG: numSg,
      SG_COLS: tile.sgCols,
      AM: tile.am,
      AN: tile.an,
      BM: tile.sgRows * tile.am * 16,
      BN: tile.sgCols * tile.an * 16,
      BK: tile.bk,
      PAD: tile.pad,
      TRANS_A: flags.transA,
      TRANS_B: flags.transB,
      USE_BETA: flags.useBeta,
      HAS_BIAS: flags.hasBias,
      RELU: flags.relu,
    },
    bindings: [
      { name: "a", access: "read", type: "f16" },
      { name: "b", access: "read", type: "f16" },
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
    workgroupSize: [numSg * sgSize],
  };
}

/** Whether this device can run the kernel: an f16→f32 16×16×16 config and a fixed subgroup size. */
export function matrixUnsupportedReason(ctx: GpuContext): string | null {
  if (!ctx.caps.subgroupMatrix) return "the adapter has no chromium-experimental-subgroup-matrix feature";
  if (!ctx.caps.f16f32Matrix.some((c) => c.M === 16 && c.N === 16 && c.K === 16))
    return "the adapter reports no 16×16×16 f16→f32 subgroup-matrix config";
  if (ctx.caps.subgroupMinSize !== ctx.caps.subgroupMaxSize)
    return `the subgroup size varies (${ctx.caps.subgroupMinSize}..${ctx.caps.subgroupMaxSize})`;
  return null;
}

export async function gemmSubgroupMatrix(
  ctx: GpuContext,
  a: Tensor,
  b: Tensor,
  c: Tensor,
  shape: GemmShape,
  opts: GemmOptions & { matrixTile?: MatrixTile },
): Promise<void> {
  const why = matrixUnsupportedReason(ctx);
  if (why) throw new MissingFeatureError(`gemm (subgroup-matrix): ${why}`, "chromium-experimental-subgroup-matrix", ctx.adapterName);
  if (a.dtype !== "f16") throw new MissingFeatureError("gemm (subgroup-matrix) needs f16 inputs;", "f16 inputs", ctx.adapterName);
  const tile = opts.matrixTile ?? chooseMatrixTile(shape);
  const beta = opts.beta ?? 0;
  const program = await getProgram(
    ctx,
    matrixSpec(ctx, c.dtype as "f32" | "f16", tile, {
      transA: Boolean(opts.transA),
      transB: Boolean(opts.transB),
      useBeta: beta !== 0,
      hasBias: Boolean(opts.bias),
      relu: Boolean(opts.relu),
    }),
  );
  const bm = tile.sgRows * tile.am * 16;
  const bn = tile.sgCols * tile.an * 16;
  dispatch(
    ctx,
    program,
    [a, b, c, opts.bias ?? dummyBuffer(ctx)],
    [shape.m, shape.n, shape.k, opts.alpha ?? 1, beta],
    [Math.ceil(shape.n / bn), Math.ceil(shape.m / bm)],
    opts,
  );
}

registerSubgroupMatrixGemm(gemmSubgroupMatrix);
