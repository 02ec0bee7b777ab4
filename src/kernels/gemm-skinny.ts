// The skinny GEMM kernel (shaders/gemm_skinny.wgsl) for A·B with few rows and a long K (the
// batch-32 forward): one pass over B, always split over K, so the split-K reduction applies the
// epilogue and writes C in its type.
import type { GpuContext } from "../gpu/device.js";
import { KernelInputError } from "../gpu/errors.js";
import {
  type EpilogueFlags,
  GEMM_UNIFORMS,
  type GemmProductOptions,
  type GemmShape,
  gemmOpName,
} from "./gemm-common.js";
import { dummyBuffer, workspace } from "./gemm-scratch.js";
import { dispatchReduce, passTimestamps, reduceSpec, TARGET_WORKGROUPS } from "./gemm-split-k.js";
import { dispatch, getProgram, opEncoder, type ProgramSpec } from "./program.js";
import type { Tensor } from "./tensor.js";

/** Rows per workgroup of the skinny kernel, k per staged tile, columns per workgroup. */
const SKINNY = { rows: 32, kt: 64, cols: 128 };
/** The skinny kernel serves A·B with at most this many rows (two row blocks) and a long K. */
export const SKINNY_MAX_M = 64;

/** Whether the skinny kernel can compute this product (A·B, few rows). */
export function skinnyOk(s: GemmShape, opts: { transA?: boolean; transB?: boolean }): boolean {
  return !opts.transA && !opts.transB && s.m <= SKINNY_MAX_M;
}

export function skinnySpec(inType: "f32" | "f16", f: EpilogueFlags): ProgramSpec {
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

/**
 * C[m×n] = alpha·A[m×k]·B[k×n] + beta·C (+bias) (ReLU) by the skinny kernel: partial sums over K
 * splits, about four workgroups per SM in all, then the reduction. Shapes checked by the caller.
 */
export async function skinnyGemm(
  ctx: GpuContext,
  a: Tensor,
  b: Tensor,
  c: Tensor,
  shape: GemmShape,
  opts: GemmProductOptions,
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
  const { first, last } = passTimestamps(opts.timestampWrites);
  dispatch(
    ctx,
    program,
    [a, b, ws],
    [shape.m, shape.n, shape.k, opts.alpha ?? 1, beta, kchunk],
    [colBlocks, rowBlocks, used],
    { encoder, record: opts.record, timestampWrites: first },
  );
  dispatchReduce(
    ctx,
    reduce,
    ws,
    c,
    opts.bias ?? dummyBuffer(ctx, "read"),
    shape,
    used,
    opts.alpha ?? 1,
    beta,
    {
      encoder,
      record: opts.record,
      timestampWrites: last,
    },
  );
  done();
}
