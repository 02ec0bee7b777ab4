// The tensor-core GEMM's tiles as data: a tile's name is its whole description (kind, subgroups,
// accumulators, fragment shape, staging depth, persistent workgroups), parsed here and read by the
// spec (gemm-subgroup-matrix.ts) and the k-loop generator (gemm-subgroup-matrix-loop.ts).
import { KernelInputError } from "../gpu/errors.js";

export interface MatrixTile {
  name: string;
  /** Subgroups per workgroup, as rows × cols. */
  sgRows: number;
  sgCols: number;
  /** 16×FN accumulators per subgroup, as rows × cols. */
  am: number;
  an: number;
  /** K step: 16 for direct tiles, the depth staged in workgroup memory for the others. */
  bk: number;
  /** Padding of each staged row, in halves. */
  pad: number;
  /** Load fragments straight from storage (needs M, N, K multiples of 16; else staged). */
  direct: boolean;
  /** Direct: load the next k step's fragments before this step's multiply-adds. */
  pipelined: boolean;
  /** Staged: fetch the next tile from storage into registers while this one is multiplied. */
  prefetch: boolean;
  /**
   * Staged through fragments (kind c): each subgroup loads its share of the k tile's fragments
   * straight from storage (the next tile's ahead) and stores them into workgroup memory with
   * subgroupMatrixStore, instead of 16-byte words stored there one half at a time.
   */
  fragmentStaged: boolean;
  /**
   * How a staged tile's fetched k tiles go into workgroup memory: 16-byte chunks, each stored as
   * 8 halves (kinds s, b; the direct and fragment kinds stage otherwise and ignore it), or, as
   * experiments (lib/gemm_stage_words.wgsl), 32-bit words a thread (kind n) or kind b's chunks
   * stored in a lane-rotated order (kind r) — both so that a subgroup's two-byte stores never
   * share a bank.
   */
  stores: "chunks" | "words" | "rotated";
  /**
   * Persistent (kind q, an experiment): this many workgroups (or the tiles, if fewer) each walk
   * the output tiles t, t + G, t + 2G, …, fetching the next tile's first k tile before storing this
   * one's results; whole tiles, a plain f32 store, no split-K. Null for every other kind.
   */
  persistentWorkgroups: number | null;
  /** Serves only M, N, K multiples of 16 (fragments loaded from storage clamp at the edges). */
  multiplesOf16: boolean;
  /** Columns of a fragment: 16 (the 16×16×16 config, default) or 8 (the 16×8×16 config). */
  fn: 8 | 16;
}

/**
 * A tile from its name, so the name is the whole description: the kind, then <sgRows>x<sgCols>
 * subgroups, a<am>x<an> accumulators each, n8 for 16×8×16 fragments (default 16×16×16), k64 for
 * a staged tile 64 deep (half the barriers and staging rounds per multiply-add; default 32):
 *   u = direct from storage; p = direct, next step's fragments loaded ahead;
 *   s = staged in workgroup memory, 32 deep; b = staged, next tile fetched ahead into registers;
 *   c = staged through fragments: loaded from storage a tile ahead, stored with
 *       subgroupMatrixStore (M, N, K multiples of 16; the subgroups share a tile's fragments
 *       evenly, which the name must allow);
 *   n = as b, fetched and stored one 32-bit word a thread at a time; r = as b, each chunk's
 *       halves stored in a lane-rotated order (both lib/gemm_stage_words.wgsl);
 *   q = as b, persistent: w<N> workgroups (default PERSISTENT_WORKGROUPS) walk the output tiles,
 *       each fetching its next tile's first k tile before storing this one's results (whole
 *       tiles, a plain f32 store, no split-K); qn, qr: the same with kind n's or r's staging.
 * "u2x2a4x4": 2×2 subgroups × 4×4 accumulators of 16×16 loaded straight from storage (128×128).
 * Every kind is generated with one named variable per fragment and accumulator (arrays of
 * fragments indexed in loops were 2.5–3× slower; those tiles are recorded in docs/performance.md).
 */
export function matrixTile(name: string): MatrixTile {
  const m = /^([upsbcnr]|q[nr]?)(\d)x(\d)a(\d)x(\d)(n8)?(k64)?(?:w(\d+))?$/.exec(name);
  if (!m) throw new KernelInputError("gemm (subgroup-matrix)", `not a subgroup-matrix tile name: ${name}`);
  // Kind q takes its staging stores from a second letter: qn as kind n's, qr as kind r's.
  const kind = m[1][0];
  const staging = m[1].length > 1 ? m[1][1] : kind;
  const direct = kind === "u" || kind === "p";
  if (direct && m[7])
    throw new KernelInputError(
      "gemm (subgroup-matrix)",
      `${name}: k64 is a staging depth; direct tiles stage nothing`,
    );
  if (m[8] !== undefined && (kind !== "q" || Number(m[8]) < 1))
    throw new KernelInputError(
      "gemm (subgroup-matrix)",
      `${name}: w<N> (N ≥ 1) is the workgroup count of a persistent tile (kind q)`,
    );
  const tile: MatrixTile = {
    name,
    sgRows: Number(m[2]),
    sgCols: Number(m[3]),
    am: Number(m[4]),
    an: Number(m[5]),
    bk: direct ? 16 : m[7] ? 64 : 32,
    pad: direct ? 0 : 8,
    direct,
    pipelined: kind === "p",
    prefetch: kind === "b" || kind === "n" || kind === "r" || kind === "q",
    fragmentStaged: kind === "c",
    stores: staging === "n" ? "words" : staging === "r" ? "rotated" : "chunks",
    persistentWorkgroups: kind === "q" ? Number(m[8] ?? PERSISTENT_WORKGROUPS) : null,
    multiplesOf16: direct || kind === "c",
    fn: m[6] ? 8 : 16,
  };
  if (tile.fragmentStaged) {
    const { a, b } = fragmentShares(tile);
    if (!Number.isInteger(a) || !Number.isInteger(b))
      throw new KernelInputError(
        "gemm (subgroup-matrix)",
        `${name}: its k tile's ${tile.sgRows * tile.am * (tile.bk / 16)} A and ${(tile.bk / 16) * tile.sgCols * tile.an} B fragments do not split evenly over ${tile.sgRows * tile.sgCols} subgroups`,
      );
  }
  return tile;
}

/**
 * Workgroups of a persistent tile (kind q) without a w<N> suffix: two per SM on the 132-SM H100
 * and H200, as many as the staged 128 × 128 tiles' registers let an SM hold (WebGPU does not say
 * how many SMs a device has, so the experiment names the count it tries).
 */
export const PERSISTENT_WORKGROUPS = 264;

/** Fragments of one k tile of A and of B that each subgroup stages (kind c). */
export function fragmentShares(tile: MatrixTile): { a: number; b: number } {
  const sgs = tile.sgRows * tile.sgCols;
  const kf = tile.bk / 16;
  return { a: (tile.sgRows * tile.am * kf) / sgs, b: (kf * tile.sgCols * tile.an) / sgs };
}
