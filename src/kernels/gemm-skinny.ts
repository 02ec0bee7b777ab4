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

/**
 * Rows per workgroup of the skinny kernel (default), k per staged tile, invocations per workgroup
 * (4 columns each: 256 columns).
 */
const SKINNY = { rows: 32, kt: 64, lanes: 64 };
/**
 * Rows a workgroup may take (GemmOptions.skinnyRows): 32 (each lane's 4 columns × 32 rows in 128
 * registers: all of a batch-32 forward in one pass over B) or 16 (half the registers, so about
 * twice the lanes per SM to keep B's loads in flight, and B read once per 16 rows — the second
 * pass from L2 when the row blocks run side by side). The tuner tries both: on an H100
 * (2026-12-07, bench/results/h100-2026-12-07e/) 16 rows won the f32 batch-32 forwards,
 * 32×1024×150528 in 364 µs against 392 and 32×2048×150528 in 651 against 693; the heuristic
 * (untuned) choice stays 32.
 */
export const SKINNY_ROWS = [32, 16] as const;
/** Whether the skinny kernel can run at this many rows per workgroup (SKINNY_ROWS). */
export function skinnyRowsOk(rows: number): boolean {
  return (SKINNY_ROWS as readonly number[]).includes(rows);
}
/** Columns of C per workgroup. */
const SKINNY_COLS = 4 * SKINNY.lanes;
/** The skinny kernel serves A·B with at most this many rows (two row blocks) and a long K. */
export const SKINNY_MAX_M = 64;

/** Whether the skinny kernel can compute this product (A·B, few rows). */
export function skinnyOk(s: GemmShape, opts: { transA?: boolean; transB?: boolean }): boolean {
  return !opts.transA && !opts.transB && s.m <= SKINNY_MAX_M;
}

/**
 * Whether B's rows can be read 4 columns at a time as one vec4 (N a multiple of 4; a tensor's
 * binding offset is a multiple of 256 bytes, tensor.ts).
 */
export function skinnyVectorB(n: number): boolean {
  return n % 4 === 0;
}

/** The kernel's generated parts: B's 4-column load, and the row loop written out (registers). */
function skinnySnippets(rows: number, vectorB: boolean): Record<string, string> {
  const r = [...Array(rows).keys()];
  const loadB4 = vectorB
    ? "fn loadB4(k: u32, c4: u32) -> vec4<f32> { return vec4<f32>(b[k * (params.n / 4u) + c4]); }"
    : [
        "fn loadB4(k: u32, c4: u32) -> vec4<f32> {",
        "  let base = k * params.n;",
        "  let last = params.n - 1u;",
        "  let c = 4u * c4;",
        "  return vec4<f32>(f32(b[base + min(c, last)]), f32(b[base + min(c + 1u, last)]),",
        "                   f32(b[base + min(c + 2u, last)]), f32(b[base + min(c + 3u, last)]));",
        "}",
      ].join("\n");
  return {
    LOAD_B_QUAD: loadB4,
    ROWS_DECL: r.map((i) => `var acc${i} = vec4<f32>(0.0);`).join("\n  "),
    ROWS_FMA: r
      .map((i) => {
        const a = `a_tile[${i}u * (KT / 4u) + q]`;
        return `{ let av = ${a}; acc${i} = fma(vec4<f32>(av.x), b0, fma(vec4<f32>(av.y), b1, fma(vec4<f32>(av.z), b2, fma(vec4<f32>(av.w), b3, acc${i})))); }`;
      })
      .join("\n      "),
    ROWS_STORE: r.map((i) => `storeRow(row0 + ${i}u, c4, wid.z, acc${i});`).join("\n    "),
  };
}

export function skinnySpec(
  inType: "f32" | "f16",
  f: EpilogueFlags,
  vectorB: boolean,
  rows: number = SKINNY.rows,
): ProgramSpec {
  return {
    op: gemmOpName(
      `skinny${vectorB ? "_vec" : ""}${rows === SKINNY.rows ? "" : `_r${rows}`}`,
      inType,
      "f32",
      f,
    ),
    shader: "gemm_skinny",
    aliases: { T: inType, TC: inType },
    consts: { ROWS: rows, KT: SKINNY.kt },
    bindings: [
      { name: "a", access: "read", type: "T" },
      { name: "b", access: "read", type: vectorB ? "vec4<T>" : "T" },
      { name: "ws", access: "read_write", type: "f32" },
    ],
    uniforms: GEMM_UNIFORMS,
    workgroupSize: [SKINNY.lanes],
    snippets: skinnySnippets(rows, vectorB),
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
  opts: GemmProductOptions & { skinnyRows?: number },
): Promise<void> {
  const rows = opts.skinnyRows ?? SKINNY.rows;
  if (!skinnyRowsOk(rows))
    throw new KernelInputError(
      "gemm (skinny)",
      `rows per workgroup must be one of ${SKINNY_ROWS.join(", ")}, got ${rows}`,
    );
  if (!skinnyOk(shape, opts))
    throw new KernelInputError(
      "gemm (skinny)",
      `serves A·B with at most ${SKINNY_MAX_M} rows, got ${shape.m}×${shape.n}×${shape.k}${opts.transA ? " Aᵀ" : ""}${opts.transB ? " Bᵀ" : ""}`,
    );
  const inType = a.dtype as "f32" | "f16";
  const outType = c.dtype as "f32" | "f16";
  const beta = opts.beta ?? 0;
  const colBlocks = Math.ceil(shape.n / SKINNY_COLS);
  const rowBlocks = Math.ceil(shape.m / rows);
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
  const program = await getProgram(ctx, skinnySpec(inType, flags, skinnyVectorB(shape.n), rows));
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
