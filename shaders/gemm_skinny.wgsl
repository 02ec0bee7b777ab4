// Skinny GEMM: partial sums of C = A·B for few rows of A (M ≤ ROWS per row block: the
// classifier's batch-32 forward X·W1, 32 × 150528 × 1024), where a tile-based kernel leaves most
// of the GPU idle and the cost is essentially one pass over B.
// A workgroup owns 4·WG_X adjacent columns, ROWS rows and one K chunk (grid x: column blocks,
// y: row blocks, z: K splits). Each invocation owns 4 adjacent columns × ROWS rows of C in
// registers (one named vec4 accumulator per row, written out by src/kernels/gemm-skinny.ts: an
// array indexed in a loop may be put in memory). It streams its 4 columns of B one k at a time
// (loadB4: one 16-byte load for f32, 8 for f16, where N is a multiple of 4 and coalesced across
// the workgroup; four rows of B fetched one 4-k step ahead, loadQuad) and multiplies them by the
// rows of A, which the workgroup stages in shared memory as vec4 over k: one broadcast load of A
// feeds 16 multiply-adds (the earlier kernel, one column per invocation, fed 4 and was bound by
// those loads: 15 TFLOP/s on an H200).
// The sums go to the split-K workspace ws[z][row][col]; the epilogue (alpha, beta, bias, ReLU,
// the output type) is gemm_splitk_reduce.wgsl's.
// Bindings: a: array<T> [m, k], b: array<T> or array<vec4<T>> [k, n] (VEC_B), ws: array<f32> (rw).
// Uniforms: m, n, k, alpha, beta (unused here), kchunk (a multiple of KT). Consts ROWS, KT, VEC_B.
// Columns past N read column N-1 (clamped) and are never stored; rows of A past M and k past the
// chunk are staged as zeros, and B's rows past the chunk are never read.

var<workgroup> a_tile: array<vec4<f32>, ROWS * KT / 4u>;

fn a_at(row: u32, col: u32, kend: u32) -> f32 {
  if (row < params.m && col < kend) {
    return f32(a[row * params.k + col]);
  }
  return 0.0;
}

// Row k of B at the invocation's 4 columns (c4: index of the first / 4), as f32.
/*@LOAD_B_QUAD@*/

// B's rows kk .. kk+3 at the invocation's 4 columns; rows at or past k1 (the chunk's end) are
// zeros and never read (A's are zero there, but B might hold an inf).
struct Quad { r0: vec4<f32>, r1: vec4<f32>, r2: vec4<f32>, r3: vec4<f32> }

fn loadQuad(kk: u32, k1: u32, c4: u32) -> Quad {
  var q = Quad(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
  if (kk + 3u < k1) {
    q.r0 = loadB4(kk, c4);
    q.r1 = loadB4(kk + 1u, c4);
    q.r2 = loadB4(kk + 2u, c4);
    q.r3 = loadB4(kk + 3u, c4);
  } else {
    if (kk < k1) { q.r0 = loadB4(kk, c4); }
    if (kk + 1u < k1) { q.r1 = loadB4(kk + 1u, c4); }
    if (kk + 2u < k1) { q.r2 = loadB4(kk + 2u, c4); }
  }
  return q;
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let quads = (params.n + 3u) / 4u;
  let q4 = wid.x * WG_X + lid;
  let in_range = q4 < quads;
  let c4 = min(q4, quads - 1u); // out-of-range invocations still stage A and hit the barriers
  let row0 = wid.y * ROWS;
  let k0 = wid.z * params.kchunk;
  let k1 = min(k0 + params.kchunk, params.k);
  /*@ROWS_DECL@*/
  // B's next 4 rows are fetched one 4-k step ahead (across staged tiles too: B is not staged), so
  // their loads are in flight while this step's multiply-adds run; without it each step waited
  // on its own loads, and few lanes per SM (the accumulators take ~160 registers) hid little.
  var next = loadQuad(k0, k1, c4);
  for (var kt = k0; kt < k1; kt += KT) {
    for (var i = lid; i < ROWS * KT / 4u; i += WG_X) {
      let r = row0 + i / (KT / 4u);
      let kk = kt + 4u * (i % (KT / 4u));
      a_tile[i] = vec4<f32>(a_at(r, kk, k1), a_at(r, kk + 1u, k1), a_at(r, kk + 2u, k1), a_at(r, kk + 3u, k1));
    }
    workgroupBarrier();
    let kn = min(KT, k1 - kt);
    let steps = (kn + 3u) / 4u;
    for (var q = 0u; q < steps; q++) {
      let cur = next;
      next = loadQuad(kt + 4u * (q + 1u), k1, c4);
      let b0 = cur.r0;
      let b1 = cur.r1;
      let b2 = cur.r2;
      let b3 = cur.r3;
      /*@ROWS_FMA@*/
    }
    workgroupBarrier();
  }
  if (in_range) {
    /*@ROWS_STORE@*/
  }
}

// One row's 4 sums into the workspace; columns past N are dropped.
fn storeRow(row: u32, c4: u32, z: u32, v: vec4<f32>) {
  if (row >= params.m) { return; }
  let base = (z * params.m + row) * params.n;
  let col = 4u * c4;
  ws[base + col] = v.x;
  if (col + 1u < params.n) { ws[base + col + 1u] = v.y; }
  if (col + 2u < params.n) { ws[base + col + 2u] = v.z; }
  if (col + 3u < params.n) { ws[base + col + 3u] = v.w; }
}
