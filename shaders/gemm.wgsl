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
// Staging goes through registers, 4 elements at a time, 16-byte loads with VEC_A/VEC_B, the next
// k tile fetched while this one is multiplied with PREFETCH, and stored into the other of two
// workgroup buffers after it with DOUBLE_BUF (lib/gemm_stage.wgsl, lib/gemm_tile_loop.wgsl).
// Split-K: workgroup z covers K range [kBegin, kEnd) and, with SPLIT_K, writes raw partial
// sums to ws[z] for gemm_splitk_reduce.wgsl to add up and finish.

const RG: u32 = TM / 4u;   // 4-row groups per thread
const CG: u32 = TN / 4u;   // 4-column groups per thread

// (tileA, tileB, fetchA/B, storeA/B: shaders/lib/gemm_stage.wgsl; loadA / loadB: lib/gemm_load.wgsl)

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let tid = lid.y * WG_X + lid.x;
  let row0 = wid.y * BM;
  let col0 = wid.x * BN;
  let kBegin = wid.z * params.kchunk;
  let kEnd = min(params.k, kBegin + params.kchunk);
  /*@TILE_LOOP@*/

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
