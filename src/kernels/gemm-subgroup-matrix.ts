// The tensor-core GEMM: f16 inputs, f32 accumulation, through chromium-experimental-subgroup-matrix
// (shaders/gemm_subgroup_matrix.wgsl). The dispatch (and split-K) is shared: src/kernels/gemm.ts.
import type { GpuContext } from "../gpu/device.js";
import { KernelInputError } from "../gpu/errors.js";
import {
  type EpilogueFlags,
  epilogueConsts,
  GEMM_BINDINGS,
  GEMM_UNIFORMS,
  type GemmShape,
  gemmOpName,
} from "./gemm-common.js";
import type { ProgramSpec } from "./program.js";

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
  /** Load fragments straight from storage (needs M, N, K multiples of 16; else staged). */
  direct?: boolean;
  /** Columns of a fragment: 16 (the 16×16×16 config, default) or 8 (the 16×8×16 config). */
  fn?: 8 | 16;
  /** The k loop written out with named fragments and accumulators (no arrays indexed in loops). */
  unrolled?: boolean;
}

/**
 * A tile from its name, so the name is the whole description:
 *   m = staged in workgroup memory, d = direct from storage, u = direct and unrolled,
 *   s = staged and unrolled; then <sgRows>x<sgCols> subgroups, a<am>x<an> accumulators each,
 *   and n8 for 16×8×16 fragments (default 16×16×16). "u2x2a4x4": 2×2 subgroups × 4×4 accumulators
 *   of 16×16, fragments loaded straight from storage by written-out code (a 128×128 tile).
 */
export function matrixTile(name: string): MatrixTile {
  const m = /^([mdus])(\d)x(\d)a(\d)x(\d)(n8)?$/.exec(name);
  if (!m) throw new KernelInputError("gemm (subgroup-matrix)", `not a subgroup-matrix tile name: ${name}`);
  const kind = m[1];
  const direct = kind === "d" || kind === "u";
  return {
    name,
    sgRows: Number(m[2]),
    sgCols: Number(m[3]),
    am: Number(m[4]),
    an: Number(m[5]),
    // Direct tiles step K by one fragment; staged ones stage 32 deep with 8 halves of row padding.
    bk: direct ? 16 : 32,
    pad: direct ? 0 : 8,
    direct,
    unrolled: kind === "u" || kind === "s",
    fn: m[6] ? 8 : 16,
  };
}

/** Every tile the bench and the tests know, as llm.c numbers its kernel variants. */
export const MATRIX_TILES: Record<string, MatrixTile> = Object.fromEntries(
  [
    "m1x1a2x2",
    "m2x2a2x2",
    "m2x2a4x2",
    "m2x2a4x4",
    "m2x2a4x8n8",
    "d1x1a2x2",
    "d1x1a4x4",
    "d2x2a2x2",
    "d2x2a4x4",
    "d2x1a4x4",
    "d1x1a2x4n8",
    "d1x1a4x8n8",
    "d2x2a2x4n8",
    "u1x1a2x2",
    "u1x1a4x4",
    "u2x2a2x2",
    "u2x2a4x4",
    "u2x4a4x4",
    "s2x2a2x2",
    "s2x2a4x4",
    "s2x4a4x4",
  ].map((n) => [n, matrixTile(n)]),
);

/**
 * The k loops of an unrolled tile written out with one named variable per fragment and
 * accumulator (see MatrixTile.unrolled): declarations, the direct loop, the staged inner loop,
 * and the copy into `acc` for the epilogue. Markers in shaders/gemm_subgroup_matrix.wgsl.
 */
export function unrolledSnippets(tile: MatrixTile, transA: boolean, transB: boolean): Record<string, string> {
  const fn = tile.fn ?? 16;
  const L = "subgroup_matrix_left<f16, 16, 16>";
  const R = `subgroup_matrix_right<f16, ${fn}, 16>`;
  const I = [...Array(tile.am).keys()];
  const J = [...Array(tile.an).keys()];
  const pairs = J.flatMap((j) => I.map((i) => [i, j]));
  const mma = pairs.map(
    ([i, j]) => `c${i}_${j} = subgroupMatrixMultiplyAccumulate(l${i}, r${j}, c${i}_${j});`,
  );
  const direct = [
    "for (var k0 = kBegin; k0 < kEnd; k0 += 16u) {",
    ...I.map((i) => {
      const m = `min(row0 + sgRow + ${i * 16}u, params.m - 16u)`;
      return transA
        ? `  let l${i} = subgroupMatrixLoad<${L}, col_major>(&a, k0 * params.m + ${m}, params.m);`
        : `  let l${i} = subgroupMatrixLoad<${L}, row_major>(&a, ${m} * params.k + k0, params.k);`;
    }),
    ...J.map((j) => {
      const n = `min(col0 + sgCol + ${j * fn}u, params.n - ${fn}u)`;
      return transB
        ? `  let r${j} = subgroupMatrixLoad<${R}, col_major>(&b, ${n} * params.k + k0, params.k);`
        : `  let r${j} = subgroupMatrixLoad<${R}, row_major>(&b, k0 * params.n + ${n}, params.n);`;
    }),
    ...mma.map((x) => `  ${x}`),
    "}",
  ];
  const staged = [
    "for (var kk = 0u; kk < BK; kk += 16u) {",
    ...I.map(
      (i) =>
        `  let l${i} = subgroupMatrixLoad<${L}, row_major>(&tileA, (sgRow + ${i * 16}u) * LDA + kk, LDA);`,
    ),
    ...J.map(
      (j) => `  let r${j} = subgroupMatrixLoad<${R}, row_major>(&tileB, kk * LDB + sgCol + ${j * fn}u, LDB);`,
    ),
    ...mma.map((x) => `  ${x}`),
    "}",
  ];
  const join = (xs: string[]) => xs.join("\n    ");
  return {
    UNROLLED_DECL: join(pairs.map(([i, j]) => `var c${i}_${j}: subgroup_matrix_result<f32, ${fn}, 16>;`)),
    UNROLLED_DIRECT: tile.direct ? join(direct) : "",
    UNROLLED_STAGED: tile.direct ? "" : join(staged),
    UNROLLED_OUT: join(pairs.map(([i, j]) => `acc[${i * tile.an + j}] = c${i}_${j};`)),
  };
}

/** Why this device can't run this tile (its fragment config is missing), or null. */
export function tileUnsupportedReason(ctx: GpuContext, tile: MatrixTile): string | null {
  const fn = tile.fn ?? 16;
  return ctx.caps.f16f32Matrix.some((c) => c.M === 16 && c.N === fn && c.K === 16)
    ? null
    : `tile ${tile.name} needs a 16×${fn}×16 f16→f32 subgroup-matrix config`;
}

/** Whether the direct (unstaged) variant can serve this shape. */
export function directOk(s: GemmShape): boolean {
  return s.m % 16 === 0 && s.n % 16 === 0 && s.k % 16 === 0;
}

/**
 * Picks a tile from the shape. Measured on an H200 at 4096³ (docs/performance.md): the unrolled
 * direct tiles are 2.5–3× the others (u2x2a4x4 74.3, u1x1a4x4 72.1, u1x1a2x2 38.9 TFLOP/s, against
 * 25–28 for every array-indexed variant), so they serve every shape of multiples of 16; the
 * staged tiles serve the rest (e.g. the classifier's 525 classes).
 */
export function chooseMatrixTile(s: GemmShape): MatrixTile {
  const big = s.m >= 1024 && s.n >= 1024;
  const mid = s.m >= 64 && s.n >= 64;
  if (directOk(s)) return big ? MATRIX_TILES.u2x2a4x4 : mid ? MATRIX_TILES.u1x1a4x4 : MATRIX_TILES.u1x1a2x2;
  return big ? MATRIX_TILES.m2x2a4x4 : mid ? MATRIX_TILES.m2x2a2x2 : MATRIX_TILES.m1x1a2x2;
}

/**
 * Whether A and B can be staged 8 halves at a time: the contiguous dimension (K, or M / N when
 * stored transposed) is a multiple of 8, so every 8-chunk is 16-byte aligned and wholly in or
 * out of range (the split-K chunk and BK are multiples of 8 too).
 */
export function vectorStaging(
  s: GemmShape,
  f: { transA: boolean; transB: boolean },
): { vecA: boolean; vecB: boolean } {
  return {
    vecA: (f.transA ? s.m : s.k) % 8 === 0 && s.k % 8 === 0,
    vecB: (f.transB ? s.k : s.n) % 8 === 0 && s.k % 8 === 0,
  };
}

export function matrixSpec(
  ctx: GpuContext,
  outType: "f32" | "f16",
  tile: MatrixTile,
  flags: EpilogueFlags,
  vec: { vecA: boolean; vecB: boolean } = { vecA: false, vecB: false },
): ProgramSpec {
  const sgSize = ctx.caps.subgroupMaxSize;
  const numSg = tile.sgRows * tile.sgCols;
  return {
    op: gemmOpName(
      `subgroup_matrix_${tile.name}${vec.vecA ? "_va" : ""}${vec.vecB ? "_vb" : ""}`,
      "f16",
      outType,
      flags,
    ),
    shader: "gemm_subgroup_matrix",
    includes: ["lib/gemm_load"],
    aliases: { T: "f16", TC: outType },
    enables: ["subgroups", "chromium_experimental_subgroup_matrix"],
    consts: {
      SG_SIZE: sgSize,
      NUM_SG: numSg,
      SG_COLS: tile.sgCols,
      AM: tile.am,
      AN: tile.an,
      BM: tile.sgRows * tile.am * 16,
      BN: tile.sgCols * tile.an * (tile.fn ?? 16),
      FN: tile.fn ?? 16,
      BK: tile.bk,
      PAD: tile.pad,
      VEC_A: vec.vecA,
      VEC_B: vec.vecB,
      DIRECT: Boolean(tile.direct),
      UNROLLED: Boolean(tile.unrolled),
      ...epilogueConsts(flags),
    },
    snippets: tile.unrolled ? unrolledSnippets(tile, flags.transA, flags.transB) : undefined,
    // a4 / b4: the same buffers as a / b, viewed as 16-byte words for the vector staging.
    bindings: [
      ...GEMM_BINDINGS,
      { name: "a4", access: "read", type: "vec4<u32>" },
      { name: "b4", access: "read", type: "vec4<u32>" },
    ],
    uniforms: GEMM_UNIFORMS,
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

/** Workgroup tile of a matrix tile config: BM×BN outputs, BK deep. */
export function matrixTileDims(tile: MatrixTile): { bm: number; bn: number; bk: number } {
  return { bm: tile.sgRows * tile.am * 16, bn: tile.sgCols * tile.an * (tile.fn ?? 16), bk: tile.bk };
}
