// The first layer's weight gradient fused with its optimizer step, portable kernel:
//   dW = Aᵀ · B with A = X stored [K, M] (K = batch rows, M = fan-in) and
//   B = dZ stored [K, N], and each dW element applied to the f32 master weights where it is
//   computed (update_four: lib/fused_update_quad.wgsl 16 bytes at a time where N is a multiple
//   of 4, else lib/fused_update.wgsl element by element): no gradient buffer is
//   written or read back. The tiling and the k loop are gemm.wgsl's (TRANS_A, no split-K: the
//   output has M·N/(BM·BN) tiles, thousands at the classifier's shapes, so it fills the GPU
//   without one, and a split dW could only be applied once every split has added its part).
// Element type T (A, B; staged in workgroup memory); accumulation f32. Out-of-range loads read 0.
// A step the non-finite flag skips returns before any work, whole workgroups at once.
// Overlapped (src/kernels/weight-grad-overlap.ts, lib/overlap_update.wgsl; the PROLOGUE and
// EPILOGUE markers): dW is stored in c instead, by the workgroups of this dispatch's chunk of rows
// of tiles, while the others apply the optimizer to the chunk the previous dispatch stored.
// Bindings: a, b: array<T> (read), a4, b4: the same as vec4<T> (lib/gemm_stage.wgsl); then the
// optimizer's (w, m, v or w, vel: vec4<f32> slots or f32 elements, as the update lib wants),
// flag, copy, state.
// Uniforms: m, n, k, then the optimizer's hyper-parameters. Consts BM, BN, BK, TM, TN, TRANS_A
// (true), TRANS_B (false), VEC_A, VEC_B, PREFETCH, DOUBLE_BUF (lib/gemm_stage.wgsl), WRITE_COPY (+ NESTEROV
// for SGD). Dispatch: [ceil(N/BN), ceil(M/BM), 1].

const RG: u32 = TM / 4u;   // 4-row groups per thread
const CG: u32 = TN / 4u;   // 4-column groups per thread
// (tileA, tileB, fetchA/B, storeA/B: shaders/lib/gemm_stage.wgsl; loadA / loadB:
// lib/gemm_load.wgsl; update_skipped / update_pair: lib/fused_update.wgsl)

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let tid = lid.y * WG_X + lid.x;
  if (update_skipped(tid)) { return; }
  /*@PROLOGUE@*/
  let row0 = wid.y * BM;
  let col0 = wid.x * BN;
  let kBegin = 0u;
  let kEnd = params.k;
  /*@TILE_LOOP@*/

  // The epilogue: each thread's 4-column groups start at a multiple of 4 — one 16-byte slot of w
  // and the moments where N is a multiple of 4 (lib/fused_update_quad), else two pairs that start
  // even, one word of the f16 copy each (lib/fused_update): update_four(row, c4, acc[...]) for
  // every (4-row group, row, 4-column group) of the thread with row < m and c4 < n. Written out by
  // the generator (src/kernels/weight-update.ts, portableEpilogue), every acc index a constant:
  // the same as a loop here was left rolled where the update grew, acc indexed at run time, and
  // the kernel ran up to 10× slower (docs/performance.md).
  /*@EPILOGUE@*/
}
