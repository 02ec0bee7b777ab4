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
  // t128v double-buffered (one barrier per k tile), and 16 deep (32 KiB of workgroup memory in
  // f32). Tuned on an H100 (2026-12-07, bench/results/h100-2026-12-07e/): neither won a product —
  // the f32 batch-256 forwards stayed on t128v (2,156 / 4,352 µs), the weight gradients went to
  // t128k16 (2,345 / 4,588 µs). On lavapipe they were within 1-3 % of t128v.
  t128vd: { name: "t128vd", BM: 128, BN: 128, BK: 8, TM: 8, TN: 8, vec: true, double: true },
  t128k16vd: { name: "t128k16vd", BM: 128, BN: 128, BK: 16, TM: 8, TN: 8, vec: true, double: true },
  // Oblong vector tiles, 8 × 4 and 4 × 8 outputs a thread (256 threads): twice t64v's outputs per
  // workgroup with half t128v's registers, for the f32 fused weight gradient + Adam (t64v) and the
  // f32 batch-256 forward (t128v). Lost both on an H100 (2026-12-07, bench/results/
  // h100-2026-12-07f/call1/): forward 256×1024×150528 t64x128v 2,348 µs, t128x64v 2,465 against
  // t128v 2,140; the fused update at f32/256/1024 t128x64v 3,146 µs, t64x128v 3,080 against t64v
  // 2,621 (N = 2048: 6,160 / 6,029 against 5,243).
  t128x64v: { name: "t128x64v", BM: 128, BN: 64, BK: 16, TM: 8, TN: 4, vec: true },
  t64x128v: { name: "t64x128v", BM: 64, BN: 128, BK: 16, TM: 4, TN: 8, vec: true },
};

/**
 * Subgroup-matrix tiles (names as matrixTile() parses them). Measured on an H100 (2026-12-07,
 * bench/results/h100-2026-12-07e/try/, checked against the heuristic kernel; µs):
 *
 *   product                          b2x2a4x4  b2x4a4x4  b2x2a4x4k64  c2x2a4x4  c2x4a4x4
 *   dW 150528×1024×256 Xᵀ·dZ              980     1,107        1,563     1,191     1,311
 *   dW 150528×2048×256 Xᵀ·dZ            1,930     2,130        3,108     2,687     2,771
 *   forward 256×1024×150528 (split 16)    700       666        1,126     1,081       989
 *
 * b2x2a4x4k64: b2x2a4x4 staged 64 deep (half the barriers per multiply-add) — 1.6× slower: the
 * doubled staging arrays leave fewer workgroups per SM. c2x2a4x4, c2x4a4x4 (kind c): each
 * subgroup loads its share of a k tile as 16×16 fragments from storage, a tile ahead, and stores
 * them with subgroupMatrixStore, instead of 8 two-byte stores per 16-byte word — 20-40 % slower
 * than the staged kinds (their reference test passed on the H100: the tiles are right, not
 * fast). Kind c at 64 deep, b2x2a2x4k64, b4x2a2x4k64 and the 256×128 b4x2a4x4 lost too (1,210 µs
 * at the first product); b2x4a4x4k64 needs more workgroup memory than the device allows.
 * s2x2a4x4: won no tuned product.
 *
 * Kind w (b with two k tiles in workgroup memory: one barrier a k tile instead of two), tried on
 * an H100 (2026-12-07, bench/results/h100-2026-12-07f/call2/) and removed: dev/mma-ceiling.ts had
 * multiply-adds fed from workgroup memory at 360 TFLOP/s and 150 with a barrier every 16-deep step,
 * but in the GEMMs the doubled staging arrays cost more than the barrier saved — dW 150528×1024×256
 * w2x2a4x4 1,341 µs against b2x2a4x4 970 (w2x2a2x4 1,799, w2x1a4x4 2,439, w1x2a4x4 2,476,
 * w1x1a4x4 2,837), forward 256×1024×150528 w2x2a4x4 926 against b2x4a4x4 679. Its code is at
 * commit b4c8a12 (kind w in src/kernels/gemm-subgroup-matrix.ts, STAGES in the shader).
 *
 * Kinds n and r (n2x2a4x4, n2x4a4x4, r2x2a4x4, r2x4a4x4: the production b2x2a4x4 and b2x4a4x4
 * with other staging stores, lib/gemm_stage_words.wgsl), written 2026-12-08 without a GPU: kind b
 * stores each 16-byte chunk as 8 two-byte stores whose lanes sit 16 bytes apart (four to a bank)
 * unless the driver merges them; kind n fetches and stores 32-bit words (a subgroup's stores 64
 * contiguous bytes, four times kind b's fetch instructions), kind r keeps kind b's fetches and
 * stores each chunk's halves in a lane-rotated order (each store's lanes on distinct banks).
 * Their staging is tested on lavapipe (test/kernels/gemm-stage.test.ts); not yet measured
 * (`STEPS="words robust"` in dev/gpu-tile-try.sh), their GPU reference test not yet run.
 * lib/gemm_stage_words.wgsl is not in the GEMM kernel hash (gemm-tune-cache.ts) while they are
 * experiments (dev/tune-try.ts writes no tune cache): add it there if one joins MATRIX_TILES.
 *
 * Kind q (q2x2a4x4, q2x4a4x4; w<N> names the workgroup count, default 264), also 2026-12-08
 * without a GPU: kind b made persistent for the batch-256 weight gradients (9,408 tiles of 8 k
 * tiles each at about two workgroups an SM, so each tile's first fetch and its 64 KiB of f32
 * stores had no other work of its own workgroup to hide behind): each workgroup walks several
 * tiles and fetches the next one's first k tile while storing this one's results. Its walk is
 * tested on lavapipe (test/kernels/gemm-stage.test.ts, with the multiply swapped for plain code),
 * its GPU reference cases are in test/kernels/gemm.test.ts; not yet measured (`STEPS=persist`).
 * Its loop is generated (persistentLoop), so the kernel hash is unchanged. qn and qr (qn2x2a4x4,
 * qr2x2a4x4, …) are kind q with kind n's or r's staging, so a staging that wins combines with it.
 */
export const DEV_MATRIX_TILES: Record<string, MatrixTile> = Object.fromEntries(
  ["s2x2a4x4", "b2x2a4x4k64", "c2x2a4x4", "c2x4a4x4", "n2x2a4x4", "n2x4a4x4", "r2x2a4x4", "r2x4a4x4"].map(
    (n) => [n, matrixTile(n)],
  ),
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
