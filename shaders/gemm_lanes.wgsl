// C = alpha · op(A) · op(B) + beta · C (+ bias[col]) (then ReLU), any M, N, K: the GEMM for CPU
// adapters (Mesa's lavapipe/llvmpipe), which run a workgroup's invocations as the SIMD lanes of
// one CPU thread. There, workgroup memory and barriers cost (each barrier splits the shader into
// resumable pieces), a load whose address differs per lane is a gather, and a load whose address
// is the same for the whole workgroup is one scalar load broadcast to every lane. So this kernel
// has neither workgroup memory nor barriers:
//   - each invocation (lane) owns CW = 4 adjacent columns of C, as vec4 accumulators, for the
//     workgroup's ROWS rows — a ROWS × 4 register tile;
//   - per k it loads its 4 elements of op(B) (per-lane: the gather) and the workgroup's ROWS
//     elements of op(A) at addresses uniform over the workgroup (broadcast), then does 4·ROWS
//     multiply-adds: the register tile is what amortises the gather.
// Grid: x = column blocks of 4·WG_X, y = row blocks of ROWS, z = K splits (SPLIT_K: raw partial
// sums to ws[z] for gemm_splitk_reduce.wgsl). op(A)/op(B) as in gemm.wgsl; shapes need not be
// multiples of anything.
// The row loop is written out by the generator (/*@ROWS_*@*/ snippets, one named accumulator per
// row): a function-scope array indexed in a loop would live in memory on a CPU adapter.

@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let col0 = (wid.x * WG_X + lid) * 4u;
  let row0 = wid.y * ROWS;
  let kBegin = wid.z * params.kchunk;
  let kEnd = min(params.k, kBegin + params.kchunk);
  // No bounds checks in the k loop (a branch per load costs more than the multiply-adds): rows
  // past M and columns past N read row M-1 / column N-1 and are never stored; k stays < kEnd.
  // Element (r, k) of op(A) is a[aRow(r) + k·aStep], element (k, n) of op(B) b[bCol(n) + k·bStep].
  let aStep = select(1u, params.m, TRANS_A);
  let bStep = select(params.n, 1u, TRANS_B);
  let last = params.n - 1u;
  let bCol = vec4<u32>(min(col0, last), min(col0 + 1u, last), min(col0 + 2u, last), min(col0 + 3u, last)) *
    select(1u, params.k, TRANS_B);
  /*@ROWS_DECL@*/
  for (var k = kBegin; k < kEnd; k++) {
    let bk = k * bStep;
    let bv = vec4<f32>(f32(b[bCol.x + bk]), f32(b[bCol.y + bk]), f32(b[bCol.z + bk]), f32(b[bCol.w + bk]));
    let ak = k * aStep;
    /*@ROWS_FMA@*/
  }
  /*@ROWS_STORE@*/
}

// Where row r of op(A) starts (rows past M read row M-1).
fn aRow(r: u32) -> u32 {
  let rr = min(r, params.m - 1u);
  return select(rr * params.k, rr, TRANS_A);
}

// One row of the register tile into C (or the split-K workspace): the epilogue of gemm.wgsl.
fn storeRow(row: u32, col0: u32, z: u32, v4: vec4<f32>) {
  if (row >= params.m) { return; }
  for (var j = 0u; j < 4u; j++) {
    let col = col0 + j;
    if (col >= params.n) { return; }
    let idx = row * params.n + col;
    if (SPLIT_K) { ws[z * params.m * params.n + idx] = v4[j]; continue; }
    var v = params.alpha * v4[j];
    if (USE_BETA) { v += params.beta * f32(c[idx]); }
    if (HAS_BIAS) { v += f32(bias[col]); }
    if (RELU) { v = max(v, 0.0); }
    c[idx] = TC(v);
  }
}
