// The portable GEMM kernels' staging (gemm.wgsl, gemm_update.wgsl): the workgroup's tiles of
// op(A) and op(B), filled through registers in units of 4 elements. A unit is fetched from storage
// (fetchA/fetchB), then stored to workgroup memory (storeA/storeB). With VEC_A (VEC_B) a unit is
// one 16-byte load (8 for f16) through a vector view of the same buffer (a4, b4; the host sets
// them where the contiguous direction's length is a multiple of 4): along m for Aᵀ and along n
// for B, which is one tile slot; along k for A and Bᵀ, whose 4 values go to 4 slots' lanes.
// Otherwise a unit is 4 single loads (lib/gemm_load.wgsl, 0 past the edges). With PREFETCH the
// caller fetches the next k tile right after staging this one, so its loads are in flight while
// the tile is multiplied (register double buffering: WGSL has no asynchronous copy to shared
// memory). With DOUBLE_BUF each tile has two buffers, [NBUF][BK][…]: the caller stores the next k
// tile into one while the other is multiplied (lib/gemm_tile_loop.wgsl). Needs BM, BN, BK, WG_X,
// WG_Y, TRANS_A, TRANS_B, VEC_A, VEC_B, DOUBLE_BUF and bindings a4, b4.

const BM4: u32 = BM / 4u;
const BN4: u32 = BN / 4u;
const THREADS: u32 = WG_X * WG_Y;
const NBUF: u32 = select(1u, 2u, DOUBLE_BUF);

var<workgroup> tileA: array<vec4<T>, NBUF * BK * BM4>;   // [NBUF][BK][BM/4]: 4 consecutive rows of op(A)
var<workgroup> tileB: array<vec4<T>, NBUF * BK * BN4>;   // [NBUF][BK][BN/4]: 4 consecutive columns of op(B)

// Staging units per tile and per thread. A unit along k (VEC_A without TRANS_A, VEC_B with
// TRANS_B) covers one row of op(A) (column of op(B)) at 4 consecutive k.
const UNITS_A: u32 = BK * BM4;
const UNITS_B: u32 = BK * BN4;
const PER_A: u32 = (UNITS_A + THREADS - 1u) / THREADS;
const PER_B: u32 = (UNITS_B + THREADS - 1u) / THREADS;
const A_ALONG_K: bool = VEC_A && !TRANS_A;
const B_ALONG_K: bool = VEC_B && TRANS_B;
var<private> unitA: array<vec4<T>, PER_A>;
var<private> unitB: array<vec4<T>, PER_B>;

// Unit l of the A tile: its (m, k) in the tile (the first of its 4 rows or 4 k).
fn unitPosA(l: u32) -> vec2<u32> {
  if (A_ALONG_K) { return vec2<u32>(l / (BK / 4u), 4u * (l % (BK / 4u))); }
  if (TRANS_A) { return vec2<u32>(4u * (l % BM4), l / BM4); }
  return vec2<u32>(4u * (l / BK), l % BK);
}

// Unit l of the B tile: its (k, n) in the tile (the first of its 4 columns or 4 k).
fn unitPosB(l: u32) -> vec2<u32> {
  if (B_ALONG_K) { return vec2<u32>(4u * (l % (BK / 4u)), l / (BK / 4u)); }
  if (TRANS_B) { return vec2<u32>(l % BK, 4u * (l / BK)); }
  return vec2<u32>(l / BN4, 4u * (l % BN4));
}

fn fetchA(tid: u32, row0: u32, k0: u32, kEnd: u32) {
  for (var i = 0u; i < PER_A; i++) {
    let l = tid + i * THREADS;
    let p = unitPosA(min(l, UNITS_A - 1u));
    let m = row0 + p.x;
    let k = k0 + p.y;
    var u = vec4<T>();
    if (VEC_A) {
      // Whole units: M (Aᵀ) or K (A) and kEnd are multiples of 4 here.
      if (l < UNITS_A && m < params.m && k < kEnd) {
        if (TRANS_A) { u = a4[(k * params.m + m) / 4u]; } else { u = a4[(m * params.k + k) / 4u]; }
      }
    } else {
      u = vec4<T>(loadA(m, k, kEnd), loadA(m + 1u, k, kEnd), loadA(m + 2u, k, kEnd), loadA(m + 3u, k, kEnd));
    }
    unitA[i] = u;
  }
}

fn fetchB(tid: u32, col0: u32, k0: u32, kEnd: u32) {
  for (var i = 0u; i < PER_B; i++) {
    let l = tid + i * THREADS;
    let p = unitPosB(min(l, UNITS_B - 1u));
    let k = k0 + p.x;
    let n = col0 + p.y;
    var u = vec4<T>();
    if (VEC_B) {
      if (l < UNITS_B && n < params.n && k < kEnd) {
        if (TRANS_B) { u = b4[(n * params.k + k) / 4u]; } else { u = b4[(k * params.n + n) / 4u]; }
      }
    } else {
      u = vec4<T>(loadB(k, n, kEnd), loadB(k, n + 1u, kEnd), loadB(k, n + 2u, kEnd), loadB(k, n + 3u, kEnd));
    }
    unitB[i] = u;
  }
}

// The fetched units into buffer `buf` (0 unless DOUBLE_BUF).
fn storeA(tid: u32, buf: u32) {
  let base = buf * UNITS_A;
  for (var i = 0u; i < PER_A; i++) {
    let l = tid + i * THREADS;
    if (l >= UNITS_A) { break; }
    let p = unitPosA(l);
    if (A_ALONG_K) {
      for (var j = 0u; j < 4u; j++) { tileA[base + (p.y + j) * BM4 + p.x / 4u][p.x % 4u] = unitA[i][j]; }
    } else {
      tileA[base + p.y * BM4 + p.x / 4u] = unitA[i];
    }
  }
}

fn storeB(tid: u32, buf: u32) {
  let base = buf * UNITS_B;
  for (var i = 0u; i < PER_B; i++) {
    let l = tid + i * THREADS;
    if (l >= UNITS_B) { break; }
    let p = unitPosB(l);
    if (B_ALONG_K) {
      for (var j = 0u; j < 4u; j++) { tileB[base + (p.x + j) * BN4 + p.y / 4u][p.y % 4u] = unitB[i][j]; }
    } else {
      tileB[base + p.x * BN4 + p.y / 4u] = unitB[i];
    }
  }
}
