// C = alpha · op(A) · op(B) + beta · C (+ bias[col]) (then ReLU), any M, N, K.
//   op(A) is A [M,K] or, with TRANS_A, A stored as [K,M];  op(B) is B [K,N] or, with TRANS_B, [N,K].
// Element types: T (inputs, staged in workgroup memory), TC (C and bias). Accumulation is
// always f32, also when T is f16 (the products are exact in f32; only the sum rounds).
//
// Tiling: a workgroup computes a BM×BN tile of C with WG_X×WG_Y threads; each thread owns
// TM×TN outputs as groups of 4×4, the groups strided by 4·WG_Y rows and 4·WG_X columns, so
// each k step reads TM/4 + TN/4 vec4s from workgroup memory for TM·TN multiply-adds (the
// register reuse that makes the kernel compute-bound) and neighbouring threads read
// neighbouring vec4s. K advances BK at a time. Out-of-range loads read 0, so shapes need not
// be tile multiples.
// Staging goes through registers in units of 4 elements: a unit is fetched from storage
// (fetchA/fetchB), then stored to workgroup memory (storeA/storeB). With VEC_A (VEC_B) a unit is
// one 16-byte load (8 for f16) through a vector view of the same buffer (a4, b4; the host sets
// them where the contiguous direction's length is a multiple of 4): along m for Aᵀ and along n
// for B, which is one tile slot; along k for A and Bᵀ, whose 4 values go to 4 slots' lanes.
// Otherwise a unit is 4 single loads. With PREFETCH the next k tile's units are fetched right
// after this one is staged, so their loads are in flight while the tile is multiplied (register
// double buffering; the GPU has no asynchronous copy to shared memory in WGSL).
// Split-K: workgroup z covers K range [kBegin, kEnd) and, with SPLIT_K, writes raw partial
// sums to ws[z] for gemm_splitk_reduce.wgsl to add up and finish.

const BM4: u32 = BM / 4u;
const BN4: u32 = BN / 4u;
const RG: u32 = TM / 4u;   // 4-row groups per thread
const CG: u32 = TN / 4u;   // 4-column groups per thread
const THREADS: u32 = WG_X * WG_Y;

var<workgroup> tileA: array<vec4<T>, BK * BM4>;   // [BK][BM/4]: 4 consecutive rows of op(A)
var<workgroup> tileB: array<vec4<T>, BK * BN4>;   // [BK][BN/4]: 4 consecutive columns of op(B)

// (loadA / loadB: shaders/lib/gemm_load.wgsl)

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

fn storeA(tid: u32) {
  for (var i = 0u; i < PER_A; i++) {
    let l = tid + i * THREADS;
    if (l >= UNITS_A) { break; }
    let p = unitPosA(l);
    if (A_ALONG_K) {
      for (var j = 0u; j < 4u; j++) { tileA[(p.y + j) * BM4 + p.x / 4u][p.x % 4u] = unitA[i][j]; }
    } else {
      tileA[p.y * BM4 + p.x / 4u] = unitA[i];
    }
  }
}

fn storeB(tid: u32) {
  for (var i = 0u; i < PER_B; i++) {
    let l = tid + i * THREADS;
    if (l >= UNITS_B) { break; }
    let p = unitPosB(l);
    if (B_ALONG_K) {
      for (var j = 0u; j < 4u; j++) { tileB[(p.x + j) * BN4 + p.y / 4u][p.y % 4u] = unitB[i][j]; }
    } else {
      tileB[p.x * BN4 + p.y / 4u] = unitB[i];
    }
  }
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let tid = lid.y * WG_X + lid.x;
  let row0 = wid.y * BM;
  let col0 = wid.x * BN;
  var acc: array<vec4<f32>, TM * CG>;   // acc[r * CG + cg]: row r of this thread, 4 columns
  var ra: array<vec4<f32>, RG>;
  var rb: array<vec4<f32>, CG>;

  let kBegin = wid.z * params.kchunk;
  let kEnd = min(params.k, kBegin + params.kchunk);
  // Vector views are named even where unused, so every tile's pipeline has the same bindings
  // (WebGPU's automatic layout leaves out what a shader never names).
  if (params.k == 0u) { _ = a4[0]; _ = b4[0]; }
  if (PREFETCH) {
    fetchA(tid, row0, kBegin, kEnd);
    fetchB(tid, col0, kBegin, kEnd);
  }
  for (var k0 = kBegin; k0 < kEnd; k0 += BK) {
    if (!PREFETCH) {
      fetchA(tid, row0, k0, kEnd);
      fetchB(tid, col0, k0, kEnd);
    }
    storeA(tid);
    storeB(tid);
    workgroupBarrier();
    if (PREFETCH && k0 + BK < kEnd) {
      fetchA(tid, row0, k0 + BK, kEnd);
      fetchB(tid, col0, k0 + BK, kEnd);
    }
    for (var kk = 0u; kk < BK; kk++) {
      for (var g = 0u; g < RG; g++) { ra[g] = vec4<f32>(tileA[kk * BM4 + lid.y + g * WG_Y]); }
      for (var g = 0u; g < CG; g++) { rb[g] = vec4<f32>(tileB[kk * BN4 + lid.x + g * WG_X]); }
      for (var g = 0u; g < RG; g++) {
        for (var r = 0u; r < 4u; r++) {
          let av = vec4<f32>(ra[g][r]);
          for (var cg = 0u; cg < CG; cg++) {
            acc[(g * 4u + r) * CG + cg] = fma(av, rb[cg], acc[(g * 4u + r) * CG + cg]);
          }
        }
      }
    }
    workgroupBarrier();
  }

  for (var g = 0u; g < RG; g++) {
    for (var r = 0u; r < 4u; r++) {
      let row = row0 + (lid.y + g * WG_Y) * 4u + r;
      if (row >= params.m) { continue; }
      for (var cg = 0u; cg < CG; cg++) {
        let v4 = acc[(g * 4u + r) * CG + cg];
        for (var j = 0u; j < 4u; j++) {
          let col = col0 + (lid.x + cg * WG_X) * 4u + j;
          if (col >= params.n) { continue; }
          let idx = row * params.n + col;
          if (SPLIT_K) { ws[wid.z * params.m * params.n + idx] = v4[j]; continue; }
          var v = params.alpha * v4[j];
          if (USE_BETA) { v += params.beta * f32(c[idx]); }
          if (HAS_BIAS) { v += f32(bias[col]); }
          if (RELU) { v = max(v, 0.0); }
          c[idx] = TC(v);
        }
      }
    }
  }
}
