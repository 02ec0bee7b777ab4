// Experimental GEMM tiles: configurations that won none of the measured shapes, kept out of the
// production registries (TILES, MATRIX_TILES, LANES_TILES) so that the tuner does not spend its
// time on them and the automatic choice never meets them. Measured: the H200 tune cache
// (bench/results/h200-2026-12-02-peer16/gemm-tune.json, 40 products, and the older
// h200-2026-11-28-gemm/gemm-tune.json, 42), the 4096³ runs (h200-2026-11-28-gemm/tune-square.json)
// and the lavapipe tune (lavapipe-2026-12-02/gemm-tune.json, which tried every lanes tile).
// l8r16 and l8r8 never won a tuned shape either but stay in production: chooseLanesTile picks them
// for products with few rows.
//
// Nothing in src/ imports this folder. To run these tiles: pass them to gemm() as options (tests,
// bench/gemm.bench.ts --dev-tiles), or call enableDevTiles() before gemmCandidates()/tuneGemm so the
// tuner tries the tiled and subgroup-matrix ones (and gemm() accepts tuned choices naming them in
// that process; a production process ignores such a cache entry and uses its heuristics). A dev
// tile that starts winning belongs back in its registry.
import { LANES_TILES, type LanesTile, parseLanesTile } from "../src/kernels/gemm-lanes.js";
import { MATRIX_TILES, type MatrixTile, matrixTile } from "../src/kernels/gemm-subgroup-matrix.js";
import { TILES, type TileConfig } from "../src/kernels/gemm-tiled.js";

/**
 * Tiled kernel: t64x8, 64×64 outputs with 8×8 per thread (64 threads), beaten by t64 and t128;
 * t128k16v, t128v with a 16-deep k tile, which won none of the 40 products of the H100's full tune
 * (bench/results/h100-2026-12-07/gemm-tune.json) nor any on lavapipe (t128v and t64v did).
 */
export const DEV_TILES: Record<string, TileConfig> = {
  t64x8: { name: "t64x8", BM: 64, BN: 64, BK: 16, TM: 8, TN: 8 },
  t128k16v: { name: "t128k16v", BM: 128, BN: 128, BK: 16, TM: 8, TN: 8, vec: true },
};

/** Subgroup-matrix tiles (names as matrixTile() parses them). */
export const DEV_MATRIX_TILES: Record<string, MatrixTile> = Object.fromEntries(
  ["s2x2a4x4"].map((n) => [n, matrixTile(n)]),
);

/** Lanes tiles (CPU adapters). */
export const DEV_LANES_TILES: Record<string, LanesTile> = Object.fromEntries(
  ["l16r32", "l16r16", "l32r8"].map((n) => [n, parseLanesTile(n) as LanesTile]),
);

/**
 * Adds the dev tiles to this process's production registries (never undone): gemmCandidates()
 * then tries the tiled and subgroup-matrix ones (lanes ones only through explicit candidates: the
 * tuner tries LANES_TUNED) and gemm() accepts choices naming them.
 */
export function enableDevTiles(): void {
  Object.assign(TILES, DEV_TILES);
  Object.assign(MATRIX_TILES, DEV_MATRIX_TILES);
  Object.assign(LANES_TILES, DEV_LANES_TILES);
}
