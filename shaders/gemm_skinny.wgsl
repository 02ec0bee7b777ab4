// Skinny GEMM: partial sums of C = A·B for few rows of A (M ≤ ROWS per row block: the
// classifier's batch-32 forward X·W1, 32 × 150528 × 1024), where a tile-based kernel leaves most
// of the GPU idle and the cost is essentially one pass over B.
// A workgroup owns WG_X adjacent columns, ROWS rows and one K chunk (grid x: column blocks,
// y: row blocks, z: K splits). Each invocation owns one column: it streams its column of B four
// k at a time (coalesced across the workgroup) and multiplies them into ROWS f32 accumulators by
// the rows of A, which the workgroup stages in shared memory as vec4 over k, so one broadcast load
// feeds four multiply-adds. The sums go to the split-K workspace ws[z][row][col]; the epilogue
// (alpha, beta, bias, ReLU, the output type) is gemm_splitk_reduce.wgsl's.
// Bindings: a: array<T> [m, k], b: array<T> [k, n], ws: array<f32> (rw).
// Uniforms: m, n, k, alpha, beta (unused here), kchunk (a multiple of KT). Consts ROWS, KT.

var<workgroup> a_tile: array<vec4<f32>, ROWS * KT / 4u>;

fn a_at(row: u32, col: u32, kend: u32) -> f32 {
  if (row < params.m && col < kend) {
    return f32(a[row * params.k + col]);
  }
  return 0.0;
}

fn b_at(row: u32, col: u32, kend: u32) -> f32 {
  if (row < kend) {
    return f32(b[row * params.n + col]);
  }
  return 0.0;
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let col = wid.x * WG_X + lid;
  let row0 = wid.y * ROWS;
  let k0 = wid.z * params.kchunk;
  let k1 = min(k0 + params.kchunk, params.k);
  let in_range = col < params.n;
  let c = min(col, params.n - 1u); // out-of-range invocations still stage A and hit the barriers
  var acc: array<f32, ROWS>;
  for (var kt = k0; kt < k1; kt += KT) {
    for (var i = lid; i < ROWS * KT / 4u; i += WG_X) {
      let r = row0 + i / (KT / 4u);
      let kk = kt + 4u * (i % (KT / 4u));
      a_tile[i] = vec4<f32>(a_at(r, kk, k1), a_at(r, kk + 1u, k1), a_at(r, kk + 2u, k1), a_at(r, kk + 3u, k1));
    }
    workgroupBarrier();
    let steps = (min(KT, k1 - kt) + 3u) / 4u;
    for (var q = 0u; q < steps; q++) {
      let kk = kt + 4u * q;
      let bv = vec4<f32>(b_at(kk, c, k1), b_at(kk + 1u, c, k1), b_at(kk + 2u, c, k1), b_at(kk + 3u, c, k1));
      for (var r = 0u; r < ROWS; r++) {
        acc[r] += dot(a_tile[r * (KT / 4u) + q], bv);
      }
    }
    workgroupBarrier();
  }
  if (in_range) {
    for (var r = 0u; r < ROWS; r++) {
      let row = row0 + r;
      if (row < params.m) {
        ws[(wid.z * params.m + row) * params.n + col] = acc[r];
      }
    }
  }
}
