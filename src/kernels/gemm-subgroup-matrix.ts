// The tensor-core GEMM: f16 inputs, f32 accumulation, through chromium-experimental-subgroup-matrix
// (shaders/gemm_subgroup_matrix.wgsl). The dispatch is src/kernels/gemm.ts, split-K gemm-split-k.ts.
import type { GpuContext } from "../gpu/device.js";
import { KernelInputError } from "../gpu/errors.js";
import {
  type EpilogueFlags,
  epilogueConsts,
  type FusedUpdateParts,
  GEMM_BINDINGS,
  GEMM_UNIFORMS,
  type GemmShape,
  gemmOpName,
} from "./gemm-common.js";
import { TARGET_WORKGROUPS } from "./gemm-split-k.js";
import { tileSnippets } from "./gemm-subgroup-matrix-loop.js";
import { type MatrixTile, matrixTile } from "./gemm-subgroup-matrix-tile.js";
import type { ProgramSpec } from "./program.js";

// The tiles' descriptions live in gemm-subgroup-matrix-tile.ts (the k-loop generator reads them
// too); this module is the kernel's face for the rest of the code.
export { type MatrixTile, matrixTile } from "./gemm-subgroup-matrix-tile.js";

/** A persistent tile's uniform after the GEMM's: the grid's workgroup count, its stride through the tiles. */
const PERSISTENT_UNIFORMS: NonNullable<ProgramSpec["uniforms"]> = [["wgs", "u32"]];

/**
 * The production tiles, as llm.c numbers its kernels: the ones that won at least one of the
 * shapes measured (4096³ and every product of the dissertation's classifier, H200 and H100,
 * docs/performance.md, and the tune caches in bench/results/). Any other name that matrixTile()
 * parses still runs (the bench's --matrix-tiles, the tuner's tests, dev/tune-try.ts); the tiles
 * that lost everywhere are recorded in the doc, the last to leave (s2x2a4x4) in
 * dev/gemm-tiles.ts. p1x1a2x4 joined for the f16 batch-32 forward and b2x2a4x4 came back from
 * dev/ for the K = 256 weight gradients once Aᵀ was staged in its stored order (H100, 2026-12-07).
 * The tiles staged 64 deep and staged through fragments (kind c) lost every product they were
 * tried on (H100, 2026-12-07) and are in dev/gemm-tiles.ts.
 */
export const MATRIX_TILES: Record<string, MatrixTile> = Object.fromEntries(
  ["u1x1a4x4", "p1x1a4x4", "p1x1a2x4", "s2x2a2x2", "b1x1a2x2", "b2x2a2x2", "b2x2a4x4", "b2x4a4x4"].map(
    (n) => [n, matrixTile(n)],
  ),
);

/** Why this device can't run this tile (its fragment config is missing), or null. */
export function tileUnsupportedReason(ctx: GpuContext, tile: MatrixTile): string | null {
  const fn = tile.fn;
  return ctx.caps.f16f32Matrix.some((c) => c.M === 16 && c.N === fn && c.K === 16)
    ? null
    : `tile ${tile.name} needs a 16×${fn}×16 f16→f32 subgroup-matrix config`;
}

/** Whether the direct (unstaged) variant can serve this shape. */
export function directOk(s: GemmShape): boolean {
  return s.m % 16 === 0 && s.n % 16 === 0 && s.k % 16 === 0;
}

/** Why this tile can't serve this shape (the tiles that load fragments from storage need multiples of 16), or null. */
export function tileShapeReason(tile: MatrixTile, s: GemmShape): string | null {
  if (tile.multiplesOf16 && !directOk(s))
    return `tile ${tile.name} needs M, N, K multiples of 16, got ${s.m}×${s.n}×${s.k}`;
  const { bm, bn } = matrixTileDims(tile);
  if (tile.persistentWorkgroups !== null && (s.m % bm !== 0 || s.n % bn !== 0))
    return `tile ${tile.name} (persistent) needs M a multiple of ${bm} and N of ${bn}, got ${s.m}×${s.n}`;
  return null;
}

/**
 * Why a persistent tile (kind q) can't run this call, or null: it stores the raw accumulators
 * into an f32 C (no α, β, bias, ReLU, f16 output or split-K partial sums).
 */
export function persistentCallReason(
  tile: MatrixTile,
  outType: "f32" | "f16",
  flags: EpilogueFlags,
  alpha: number,
): string | null {
  if (tile.persistentWorkgroups === null) return null;
  const why = [
    outType !== "f32" && "an f16 output",
    flags.splitK && "split-K",
    alpha !== 1 && `α = ${alpha}`,
    flags.useBeta && "β",
    flags.hasBias && "a bias",
    flags.relu && "ReLU",
  ].filter(Boolean);
  return why.length
    ? `tile ${tile.name} (persistent) stores plain f32 results; this call has ${why.join(", ")}`
    : null;
}

/**
 * Picks a tile from the shape where the tune cache has no entry (H200 measurements,
 * docs/performance.md): large products on the staged tiles that fetch ahead (b2x4a4x4: 110
 * TFLOP/s at 4096³ against 73 for the best direct one); products with a short K and a huge
 * output (the weight gradients, M = 150528, K = batch): at K = 32 on the direct p1x1a4x4, whose
 * fragments need no staging (H100: 502 µs, b2x2a4x4 716), from K = 128 on the staged b2x2a4x4
 * (K = 256: 986 µs against 1,122 at N = 1024, 1,889 against 2,199 at N = 2048;
 * bench/results/h100-2026-12-07c/); the batch-32 forward (M ≤ 32, a long K) on p1x1a2x4, all of M in one subgroup's
 * 32×64 block and K split about 64 ways (H100: 208 µs at 32×1024×150528 against 580 for the
 * skinny kernel; bench/results/h100-2026-12-07b/); the rest on smaller staged tiles, which serve
 * any shape.
 */
export function chooseMatrixTile(s: GemmShape): MatrixTile {
  if (directOk(s) && s.k <= 512 && s.m * s.n >= 1 << 24)
    return s.k >= 128 ? MATRIX_TILES.b2x2a4x4 : MATRIX_TILES.p1x1a4x4;
  if (directOk(s) && s.m <= 32 && s.k >= 4096) return MATRIX_TILES.p1x1a2x4;
  if (s.m >= 256 && s.n >= 256) return MATRIX_TILES.b2x4a4x4;
  if (s.m >= 64 && s.n >= 64) return MATRIX_TILES.b2x2a2x2;
  return MATRIX_TILES.b1x1a2x2;
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

/**
 * The fused optimizer's code in the shader, element path (lib/fused_update.wgsl; markers
 * UPDATE_PROLOGUE and UPDATE_EPILOGUE): a skipped step returns before any work; each accumulator,
 * through the per-subgroup scratch, updates two adjacent weights per lane. The guard on params.n
 * (never 0) keeps the plain epilogue after it reachable, so its bindings stay named.
 */
const UPDATE_SNIPPETS = {
  UPDATE_PROLOGUE: "if (update_skipped(tid)) { return; }",
  UPDATE_EPILOGUE: [
    "if (params.n != 0u) {",
    "  for (var e = 2u * lane; e < 16u * FN; e += 2u * SG_SIZE) {",
    "    let row = row0 + sgRow + i * 16u + e / FN;",
    "    let col = col0 + sgCol + j * FN + e % FN;",
    "    if (row < params.m && col < params.n) {",
    "      update_pair(row, col, scratch[sg * 16u * FN + e], scratch[sg * 16u * FN + e + 1u], col + 1u < params.n);",
    "    }",
    "  }",
    "  workgroupBarrier();",
    "  continue;",
    "}",
  ].join("\n      "),
};

/** The overlapped update's op name (weight-grad-overlap.ts), the prefix of both its kernels'. */
export const OVERLAP_OP = "weight_grad_overlap";

/**
 * The overlapped update's prologue (lib/overlap_update.wgsl), after the skip check: a workgroup
 * outside this dispatch's chunk of rows of tiles is one of the optimizer's workers, never the
 * GEMM's. Workgroup-uniform (workgroup id and uniforms), so the GEMM's barriers stay uniform.
 */
export const OVERLAP_PROLOGUE = "if (!overlap_gemm_row(wid.y)) { overlap_update(wid, tid); return; }";

/** The overlapped update's uniforms (lib/overlap_update.wgsl), after the optimizer's. */
export const OVERLAP_UNIFORMS: [string, "u32"][] = [
  ["chunks", "u32"],
  ["gemm_chunk", "u32"],
  ["adam_chunk", "u32"],
];

/**
 * Slots each thread of the overlapped update loads together by default (lib/overlap_update.wgsl's
 * OV_UQ, which the overlapped kernel's parts set): the fused block epilogue's default.
 */
export const OVERLAP_UQ = 4;

/** Workgroup memory the vector epilogue's blocks may take (lib/fused_update_block.wgsl), bytes. */
const UPDATE_BLOCK_BYTES = 16384;

/** The vector epilogue's layout for a tile (lib/fused_update_block.wgsl). */
export interface UpdateBlockLayout {
  /** Rows of one pass's block (16 per accumulator row it holds) and its width (the subgroup's). */
  urows: number;
  uw: number;
  /** Passes per subgroup: its AM accumulator rows go through the block AM / passes at a time. */
  passes: number;
  /** Slots per lane whose loads are issued together. */
  uq: number;
}

/**
 * The vector epilogue's layout for this tile (lib/fused_update_block.wgsl), or null where it
 * cannot serve. Each subgroup's accumulators go through its own UROWS×UW block of workgroup
 * memory, all NUM_SG blocks within UPDATE_BLOCK_BYTES: the whole AM×AN set at once where it fits
 * (one pass), else as many accumulator rows as fit per pass (a 128×128 tile of 2×2 subgroups with
 * 4×4 accumulators: 4 passes of one 16×64 strip each, 16 KiB), so the tiles that run the weight
 * gradient fastest (b2x2a4x4, docs/performance.md) can update too. A pass's 16-byte slots must be
 * a multiple of the subgroup size. UQ: slots per lane whose loads are issued together (`maxUq`,
 * default 4, or the largest power of two below it that divides them).
 */
export function updateBlockLayout(tile: MatrixTile, sgSize: number, maxUq = 4): UpdateBlockLayout | null {
  const uw = tile.fn * tile.an;
  const numSg = tile.sgRows * tile.sgCols;
  const rowsPerPass = [...Array(tile.am).keys()]
    .map((i) => tile.am - i)
    .find((d) => tile.am % d === 0 && numSg * 16 * d * uw * 4 <= UPDATE_BLOCK_BYTES);
  if (rowsPerPass === undefined) return null;
  const urows = 16 * rowsPerPass;
  const slots = (urows * uw) / 4;
  if (slots % sgSize !== 0) return null;
  const perLane = slots / sgSize;
  const uq = [8, 4, 2, 1].find((q) => q <= maxUq && perLane % q === 0) as number;
  return { urows, uw, passes: tile.am / rowsPerPass, uq };
}

/**
 * The vector epilogue, after the k loop (appended to MAIN_LOOP): per pass, the pass's
 * accumulators stored into the subgroup's block, a barrier, update_block on those rows, and a
 * barrier before the next pass overwrites the block; guarded like the element path so the plain
 * epilogue after it stays reachable.
 */
function updateBlockSnippet(tile: MatrixTile, layout: UpdateBlockLayout): string {
  const fn = tile.fn;
  const perPass = tile.am / layout.passes;
  const lines: string[] = [];
  for (let p = 0; p < layout.passes; p++) {
    if (p > 0) lines.push("  workgroupBarrier();");
    for (let r = 0; r < perPass; r++)
      for (let j = 0; j < tile.an; j++)
        lines.push(
          `  subgroupMatrixStore<row_major>(&ublock, sg * (UROWS * UW) + ${r * 16}u * UW + ${j * fn}u, c${p * perPass + r}_${j}, UW);`,
        );
    lines.push("  workgroupBarrier();");
    lines.push(`  update_block(row0 + sgRow + ${p * perPass * 16}u, col0 + sgCol, sg * (UROWS * UW), lane);`);
  }
  return ["if (params.n != 0u) {", ...lines, "  return;", "}"].join("\n  ");
}

export function matrixSpec(
  ctx: GpuContext,
  outType: "f32" | "f16",
  tile: MatrixTile,
  flags: EpilogueFlags,
  vec: { vecA: boolean; vecB: boolean } = { vecA: false, vecB: false },
  /** Store f32 C straight from the accumulators where a whole tile allows (needs ≥ 16×16 floats of C). */
  storeC = false,
  /** The optimizer in the epilogue instead of storing C (weight-update.ts); never with split-K. */
  update?: FusedUpdateParts,
): ProgramSpec {
  const overlap = update?.overlap === true;
  const directC = storeC && outType === "f32" && (!update || overlap);
  const persistent = tile.persistentWorkgroups !== null;
  if (persistent && (update || !directC))
    throw new KernelInputError(
      "gemm (subgroup-matrix)",
      `tile ${tile.name} (persistent) serves only the plain GEMM storing whole f32 tiles`,
    );
  const sgSize = ctx.caps.subgroupMaxSize;
  const numSg = tile.sgRows * tile.sgCols;
  const block = update?.vector && !overlap ? updateBlockLayout(tile, sgSize) : null;
  if (update?.vector && !overlap && !block)
    throw new KernelInputError(
      "weight_grad_update (subgroup-matrix)",
      `tile ${tile.name}: no vector epilogue (one accumulator row per subgroup exceeds ${UPDATE_BLOCK_BYTES} bytes of workgroup memory, or its slots do not split over ${sgSize} lanes)`,
    );
  const snippets = tileSnippets(tile, flags.transA, flags.transB, directC);
  if (block) snippets.MAIN_LOOP += `\n  ${updateBlockSnippet(tile, block)}`;
  const shared = matrixWorkgroupBytes(tile, flags.transA, update ? { block } : null);
  const sharedLimit = ctx.device.limits.maxComputeWorkgroupStorageSize;
  if (shared > sharedLimit)
    throw new KernelInputError(
      `${update ? (overlap ? OVERLAP_OP : "weight_grad_update") : "gemm"} (subgroup-matrix)`,
      `tile ${tile.name}${flags.transA ? " (Aᵀ)" : ""}${block ? " with the vector update epilogue" : ""} needs ${shared} bytes of workgroup memory; ${ctx.adapterName} allows ${sharedLimit}`,
    );
  return {
    op:
      (overlap ? `${OVERLAP_OP}_` : "") +
      gemmOpName(
        `subgroup_matrix_${tile.name}${vec.vecA ? "_va" : ""}${vec.vecB ? "_vb" : ""}${directC ? "_sc" : ""}${update ? `_${update.name}` : ""}`,
        "f16",
        outType,
        flags,
      ),
    shader: "gemm_subgroup_matrix",
    includes: [
      "lib/gemm_load",
      ...(tile.stores !== "chunks" ? ["lib/gemm_stage_words"] : []),
      ...(update?.includes ?? []),
      ...(block ? ["lib/fused_update_block"] : []),
      ...(overlap ? ["lib/overlap_update"] : []),
    ],
    aliases: { T: "f16", TC: outType },
    enables: ["subgroups", "chromium_experimental_subgroup_matrix"],
    consts: {
      SG_SIZE: sgSize,
      NUM_SG: numSg,
      SG_COLS: tile.sgCols,
      AM: tile.am,
      AN: tile.an,
      BM: tile.sgRows * tile.am * 16,
      BN: tile.sgCols * tile.an * tile.fn,
      FN: tile.fn,
      BK: tile.bk,
      PAD: tile.pad,
      VEC_A: vec.vecA,
      VEC_B: vec.vecB,
      DIRECT: tile.direct,
      STORE_C: directC,
      ...epilogueConsts(flags),
      ...update?.consts,
      ...(block ? { UROWS: block.urows, UW: block.uw, UQ: block.uq } : {}),
      ...(overlap ? { OV_THREADS: numSg * sgSize } : {}),
    },
    snippets: {
      ...snippets,
      ...(overlap
        ? { UPDATE_PROLOGUE: `${UPDATE_SNIPPETS.UPDATE_PROLOGUE}\n  ${OVERLAP_PROLOGUE}` }
        : update
          ? { ...UPDATE_SNIPPETS, ...(block ? { UPDATE_EPILOGUE: "" } : {}) }
          : {}),
    },
    // a4 / b4: the same buffers as a / b, viewed as 16-byte words for the vector staging.
    bindings: [
      ...GEMM_BINDINGS,
      { name: "a4", access: "read", type: "vec4<u32>" },
      { name: "b4", access: "read", type: "vec4<u32>" },
      ...(update?.bindings ?? []),
    ],
    uniforms: [
      ...(GEMM_UNIFORMS ?? []),
      ...(update?.uniforms ?? []),
      ...(overlap ? OVERLAP_UNIFORMS : []),
      ...(persistent ? PERSISTENT_UNIFORMS : []),
    ],
    workgroupSize: [numSg * sgSize],
  };
}

/**
 * Bytes of workgroup memory a tile's shader declares (gemm_subgroup_matrix.wgsl): its staged k
 * tiles of A and B (f16, rows padded by PAD; 16 rows for the direct kinds), the f32
 * epilogue scratch, and with the vector update epilogue its blocks and the skip flag. Checked
 * before compiling, so a tile too big for the device is refused by name, not at pipeline creation.
 */
export function matrixWorkgroupBytes(
  tile: MatrixTile,
  transA: boolean,
  update: { block: UpdateBlockLayout | null } | null,
): number {
  const bm = tile.sgRows * tile.am * 16;
  const bn = tile.sgCols * tile.an * tile.fn;
  const lda = transA ? bm + tile.pad : tile.bk + tile.pad;
  const ldb = bn + tile.pad;
  const aTile = (tile.direct ? 16 : transA ? tile.bk : bm) * lda;
  const bTile = (tile.direct ? 16 : tile.bk) * ldb;
  const numSg = tile.sgRows * tile.sgCols;
  const scratch = numSg * 16 * tile.fn * 4;
  const block = update?.block;
  const updateBytes = update ? (block ? numSg * block.urows * block.uw * 4 : 0) + 4 : 0;
  return (aTile + bTile) * 2 + scratch + updateBytes;
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

/**
 * Workgroup tile of a matrix tile config: BM×BN outputs, BK deep; and how many workgroups split-K
 * should aim for: TARGET_WORKGROUPS for tiles of 4 or more subgroups, more for smaller ones so
 * the SMs hold as many subgroups (one-subgroup p1x1a2x4 on an H100: 64 splits of 16 column
 * tiles, 1,024 workgroups, ran in 208 µs; 16 splits in 550).
 */
export function matrixTileDims(tile: MatrixTile): { bm: number; bn: number; bk: number; target: number } {
  const subgroups = tile.sgRows * tile.sgCols;
  return {
    bm: tile.sgRows * tile.am * 16,
    bn: tile.sgCols * tile.an * tile.fn,
    bk: tile.bk,
    target: Math.max(TARGET_WORKGROUPS, Math.ceil((4 * TARGET_WORKGROUPS) / subgroups)),
  };
}
