// The portable GEMM kernel (shaders/gemm.wgsl): register-tiled, f32 or f16 inputs, f32
// accumulation, runs on every adapter. This module holds its tile configurations and its program
// spec; the dispatch is src/kernels/gemm.ts, split-K src/kernels/gemm-split-k.ts.
import {
  type EpilogueFlags,
  epilogueConsts,
  GEMM_BINDINGS,
  GEMM_UNIFORMS,
  gemmOpName,
} from "./gemm-common.js";
import { type ProgramSpec, shaderBody } from "./program.js";

export interface TileConfig {
  name: string;
  BM: number;
  BN: number;
  BK: number;
  TM: number;
  TN: number;
  /**
   * 16-byte loads (8 for f16) where the shape allows (vectorStagingTiled) and the next k tile
   * fetched into registers while this one is multiplied (gemm.wgsl: VEC_A, VEC_B, PREFETCH).
   */
  vec?: boolean;
  /**
   * Two workgroup buffers per operand (needs vec): the next k tile is stored into one while the
   * other is multiplied, one barrier per k tile instead of two (gemm_tile_loop.wgsl: DOUBLE_BUF).
   */
  double?: boolean;
}

/**
 * Numbered variants, as in llm.c: bigger tiles reuse more data but need more work to fill a GPU.
 * TM and TN are multiples of 4 (each thread owns 4×4 groups); BM/TM × BN/TN threads. The
 * production tiles: each won at least one measured product (H200, H100 and lavapipe tune caches in
 * bench/results/); the ones that won none are in dev/gemm-tiles.ts.
 */
export const TILES: Record<string, TileConfig> = {
  t32: { name: "t32", BM: 32, BN: 32, BK: 16, TM: 4, TN: 4 },
  t64: { name: "t64", BM: 64, BN: 64, BK: 16, TM: 4, TN: 4 },
  t128: { name: "t128", BM: 128, BN: 128, BK: 8, TM: 8, TN: 8 },
  t128k16: { name: "t128k16", BM: 128, BN: 128, BK: 16, TM: 8, TN: 8 },
  t64v: { name: "t64v", BM: 64, BN: 64, BK: 16, TM: 4, TN: 4, vec: true },
  t128v: { name: "t128v", BM: 128, BN: 128, BK: 8, TM: 8, TN: 8, vec: true },
  // t64v with double-buffered staging (one barrier per k tile): the H100's tune of 2026-12-07
  // (bench/results/h100-2026-12-07e/) chose it for the f32 256×525×1024 forward (27 µs, level with
  // t64v's 27 before). As the fused update's tile it lost in f32 (1,573 µs against t64v's 1,245
  // at K = 32) and was level in f16 (1,376 then 1,442 µs against t64's 1,442).
  t64vd: { name: "t64vd", BM: 64, BN: 64, BK: 16, TM: 4, TN: 4, vec: true, double: true },
};

/**
 * Which operands this tile loads 4 elements at a time for this shape: only a vector tile, and
 * only where the direction contiguous in memory is a multiple of 4 long (k for A and Bᵀ, m for
 * Aᵀ, n for B), so a 4-element unit never straddles a row or the end of K (a tensor's binding
 * offset is a multiple of 256 bytes). The spec's consts and the bound views both follow it.
 */
export function vectorStagingTiled(
  tile: TileConfig,
  s: { m: number; n: number; k: number },
  f: { transA: boolean; transB: boolean },
): { vecA: boolean; vecB: boolean } {
  return {
    vecA: Boolean(tile.vec) && (f.transA ? s.m : s.k) % 4 === 0,
    vecB: Boolean(tile.vec) && (f.transB ? s.k : s.n) % 4 === 0,
  };
}

/** The tile for an M×N output when nothing else decides: the largest the output fills. */
export function chooseTile(m: number, n: number): TileConfig {
  if (m >= 1024 && n >= 1024) return TILES.t128;
  if (m >= 128 && n >= 128) return TILES.t64;
  return TILES.t32;
}

/**
 * The portable kernels' register tile and k loop (shaders/lib/gemm_tile_loop.wgsl, a fragment),
 * for the TILE_LOOP marker of gemm.wgsl and gemm_update.wgsl: one copy of the loop, written into
 * both mains as straight code.
 */
export function tileLoop(): string {
  return shaderBody("lib/gemm_tile_loop");
}

/**
 * The consts a portable tile's staging and tile loop read (lib/gemm_stage.wgsl,
 * lib/gemm_tile_loop.wgsl), for the GEMM and the fused update alike.
 */
export function tileStagingConsts(
  tile: TileConfig,
  vec: { vecA: boolean; vecB: boolean },
): Record<string, number | boolean> {
  return {
    BM: tile.BM,
    BN: tile.BN,
    BK: tile.BK,
    TM: tile.TM,
    TN: tile.TN,
    VEC_A: vec.vecA,
    VEC_B: vec.vecB,
    PREFETCH: Boolean(tile.vec),
    DOUBLE_BUF: Boolean(tile.vec && tile.double),
  };
}

export function tiledSpec(
  inType: "f32" | "f16",
  outType: "f32" | "f16",
  tile: TileConfig,
  f: EpilogueFlags,
  /** vectorStagingTiled's answer for this tile and shape (default: no vector loads). */
  vec: { vecA: boolean; vecB: boolean } = { vecA: false, vecB: false },
): ProgramSpec {
  return {
    op: gemmOpName(`tiled_${tile.name}${vec.vecA ? "_va" : ""}${vec.vecB ? "_vb" : ""}`, inType, outType, f),
    shader: "gemm",
    includes: ["lib/gemm_load", "lib/gemm_stage"],
    aliases: { T: inType, TC: outType },
    consts: { ...tileStagingConsts(tile, vec), ...epilogueConsts(f) },
    snippets: { TILE_LOOP: tileLoop() },
    // a4 / b4: the same buffers as a / b, viewed 4 elements at a time for the vector staging.
    bindings: [
      ...GEMM_BINDINGS,
      { name: "a4", access: "read", type: "vec4<T>" },
      { name: "b4", access: "read", type: "vec4<T>" },
    ],
    uniforms: GEMM_UNIFORMS,
    workgroupSize: [tile.BN / tile.TN, tile.BM / tile.TM],
  };
}
