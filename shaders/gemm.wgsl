// C = alpha · op(A) · op(B) + beta · C (+ bias[col]) (then ReLU), any M, N, K.
//   op(A) is A [M,K] or, with TRANS_A, A stored as [K,M];  op(B) is B [K,N] or, with TRANS_B, [N,K].
// Element types: T (inputs, staged in workgroup memory), TC (C and bias). Accumulation is
// always f32, also when T is f16 (the products are exact in f32; only the sum rounds).
//
// Tiling: a workgroup computes a BM×BN tile of C; each of its WG_X×WG_Y threads owns TM×TN
// elements, interleaved (row = ty + i·WG_Y, col = tx + j·WG_X) so workgroup-memory reads are
// conflict-free and C stores are coalesced. K advances BK at a time through workgroup memory.
// Out-of-range loads read 0, so shapes need not be tile multiples.

var<workgroup> tileA: array<T, BM * BK>;   // [BK][BM]
var<workgroup> tileB: array<T, BK * BN>;   // [BK][BN]

fn loadA(m: u32, k: u32, kEnd: u32) -> T {
  if (m >= params.m || k >= kEnd) { return T(0); }
  if (TRANS_A) { return a[k * params.m + m]; }
  return a[m * params.k + k];
}

fn loadB(k: u32, n: u32, kEnd: u32) -> T {
  if (k >= kEnd || n >= params.n) { return T(0); }
  if (TRANS_B) { return b[n * params.k + k]; }
  return b[k * params.n + n];
}

const THREADS: u32 = WG_X * WG_Y;

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let tid = lid.y * WG_X + lid.x;
  let row0 = wid.y * BM;
  let col0 = wid.x * BN;
  var acc: array<f32, TM * TN>;
  for (var i = 0u; i < TM * TN; i++) { acc[i] = 0.0; }
  var ra: array<f32, TM>;
  var rb: array<f32, TN>;

  // Split-K: workgroup z covers K range [kBegin, kEnd) and, with SPLIT_K, writes raw partial sums
  // to ws[z] for gemm_splitk_reduce.wgsl to add up and finish.
  let kBegin = wid.z * params.kchunk;
  let kEnd = min(params.k, kBegin + params.kchunk);
  for (var k0 = kBegin; k0 < kEnd; k0 += BK) {
    // Stage the A and B tiles. Walk memory in its contiguous direction so loads coalesce.
    for (var l = tid; l < BM * BK; l += THREADS) {
      var m: u32; var k: u32;
      if (TRANS_A) { k = l / BM; m = l % BM; } else { m = l / BK; k = l % BK; }
      tileA[k * BM + m] = loadA(row0 + m, k0 + k, kEnd);
    }
    for (var l = tid; l < BK * BN; l += THREADS) {
      var n: u32; var k: u32;
      if (TRANS_B) { n = l / BK; k = l % BK; } else { k = l / BN; n = l % BN; }
      tileB[k * BN + n] = loadB(k0 + k, col0 + n, kEnd);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      for (var i = 0u; i < TM; i++) { ra[i] = f32(tileA[kk * BM + lid.y + i * WG_Y]); }
      for (var j = 0u; j < TN; j++) { rb[j] = f32(tileB[kk * BN + lid.x + j * WG_X]); }
      for (var i = 0u; i < TM; i++) {
        for (var j = 0u; j < TN; j++) { acc[i * TN + j] = fma(ra[i], rb[j], acc[i * TN + j]); }
      }
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < TM; i++) {
    let row = row0 + lid.y + i * WG_Y;
    if (row >= params.m) { continue; }
    for (var j = 0u; j < TN; j++) {
      let col = col0 + lid.x + j * WG_X;
      if (col >= params.n) { continue; }
      let idx = row * params.n + col;
      if (SPLIT_K) { ws[wid.z * params.m * params.n + idx] = acc[i * TN + j]; continue; }
      var v = params.alpha * acc[i * TN + j];
      if (USE_BETA) { v += params.beta * f32(c[idx]); }
      if (HAS_BIAS) { v += f32(bias[col]); }
      if (RELU) { v = max(v, 0.0); }
      c[idx] = TC(v);
    }
  }
}
