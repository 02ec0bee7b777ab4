// The "lanes" GEMM kernel (shaders/gemm_lanes.wgsl) for CPU adapters (Mesa's lavapipe): no
// workgroup memory, no barriers; each invocation owns 4 columns × ROWS rows of C in registers,
// op(A) read at workgroup-uniform addresses (one scalar load broadcast to the SIMD lanes), op(B)
// per lane. This module holds its tiles, its program spec and the generated row loop.
import {
  type EpilogueFlags,
  epilogueConsts,
  GEMM_BINDINGS,
  GEMM_UNIFORMS,
  type GemmShape,
  gemmOpName,
} from "./gemm-common.js";
import type { ProgramSpec } from "./program.js";

export interface LanesTile {
  name: string;
  /** Invocations per workgroup (SIMD lanes on a CPU adapter; lavapipe's AVX2 vectors are 8 wide). */
  lanes: number;
  /** Rows of C per workgroup, each a vec4 accumulator in every lane. */
  rows: number;
}

/** Output tile of a workgroup: rows × (4 · lanes) columns. */
export function lanesTileDims(t: LanesTile): { bm: number; bn: number; bk: number } {
  // The kernel walks K one step at a time; bk = 16 only keeps split-K chunks ≥ 64 deep
  // (planSplitK's minimum of 4 steps), where each split's partial sums are worth their traffic.
  return { bm: t.rows, bn: 4 * t.lanes, bk: 16 };
}

/** "l8r32": 8 lanes, 32 rows. Any name of this form runs (the registry holds the measured ones). */
export function parseLanesTile(name: string): LanesTile | null {
  const m = /^l(\d+)r(\d+)$/.exec(name);
  if (!m) return null;
  const lanes = Number(m[1]);
  const rows = Number(m[2]);
  if (lanes < 1 || lanes > 256 || rows < 1 || rows > 64) return null;
  return { name, lanes, rows };
}

/**
 * The production tiles: the ones that won a product of the lavapipe tune (l8r32, l64r4; it tried
 * every tile) and the ones chooseLanesTile picks for few rows (l8r16, l8r8). The others are in
 * dev/gemm-tiles.ts.
 */
export const LANES_TILES: Record<string, LanesTile> = Object.fromEntries(
  ["l8r32", "l8r16", "l8r8", "l64r4"].map((n) => [n, parseLanesTile(n) as LanesTile]),
);

/**
 * The tiles the tuner tries (each candidate is a pipeline to compile, seconds each on a busy
 * 2-core CI machine): the tallest tile, which was fastest at the CPU suite's shapes, and a
 * shorter one for products with few rows. (l16r16, tried here before, won nothing: dev/.)
 */
export const LANES_TUNED = ["l8r32", "l8r8"] as const;

/** The lanes tile for a shape when nothing else decides: the tallest tile the rows fill. */
export function chooseLanesTile(s: GemmShape): LanesTile {
  if (s.m >= 32) return LANES_TILES.l8r32;
  if (s.m >= 16) return LANES_TILES.l8r16;
  return LANES_TILES.l8r8;
}

/** The row loop written out: one named vec4 accumulator per row (registers, not an array). */
function rowSnippets(rows: number): Record<string, string> {
  const r = [...Array(rows).keys()];
  return {
    ROWS_DECL: r.map((i) => `var acc${i} = vec4<f32>(0.0);\n  let a${i} = aRow(row0 + ${i}u);`).join("\n  "),
    ROWS_FMA: r.map((i) => `acc${i} = fma(vec4<f32>(f32(a[a${i} + ak])), bv, acc${i});`).join("\n    "),
    ROWS_STORE: r.map((i) => `storeRow(row0 + ${i}u, col0, wid.z, acc${i});`).join("\n  "),
  };
}

export function lanesSpec(
  inType: "f32" | "f16",
  outType: "f32" | "f16",
  tile: LanesTile,
  f: EpilogueFlags,
): ProgramSpec {
  return {
    op: gemmOpName(`lanes_${tile.name}`, inType, outType, f),
    shader: "gemm_lanes",
    aliases: { T: inType, TC: outType },
    consts: { ROWS: tile.rows, ...epilogueConsts(f) },
    bindings: GEMM_BINDINGS,
    uniforms: GEMM_UNIFORMS,
    workgroupSize: [tile.lanes],
    snippets: rowSnippets(tile.rows),
  };
}

/**
 * Whether this adapter runs compute shaders on the CPU (Mesa's llvmpipe/lavapipe, SwiftShader):
 * there the lanes kernel is worth tuning (it is a tuner candidate only there). The heuristics
 * never pick it: untuned, the skinny and tiled kernels run (on lavapipe the skinny kernel at
 * 4 columns a lane and lanes l8r8 are level on the CPU model's forward, 32 × 256 × 2352;
 * docs/performance.md, 2026-12-07).
 */
export function isCpuAdapter(ctx: { adapterName: string; adapter?: GPUAdapter }): boolean {
  const info = (
    ctx.adapter as (GPUAdapter & { info?: GPUAdapterInfo & { isFallbackAdapter?: boolean } }) | undefined
  )?.info;
  return Boolean(info?.isFallbackAdapter) || /llvmpipe|lavapipe|swiftshader/i.test(ctx.adapterName);
}
