// Tensor-core GEMM through chromium_experimental_subgroup_matrix: f16 inputs, f32 accumulation.
//   C = alpha · op(A) · op(B) + beta · C (+ bias[col]) (then ReLU); layouts as in gemm.wgsl.
//
// A workgroup of NUM_SG subgroups (SG_ROWS × SG_COLS) computes a BM×BN tile of C; each subgroup
// owns AM×AN accumulators of 16×16 (a (16·AM)×(16·AN) block). K advances BK at a time: all
// threads stage op(A) [BM×BK] and op(B) [BK×BN] row-major in workgroup memory (zero-padded past
// the edges, transposes resolved here), then each subgroup loads 16×16 fragments from there.
// Rows are padded by PAD halves so fragment loads don't hit the same banks.
// The results go through a per-subgroup 16×16 f32 scratch so the epilogue and the ragged edges
// are handled element by element.
//
// Subgroup-matrix loads need subgroup-uniform offsets. The subgroup index is tid / SG_SIZE with
// SG_SIZE the device's (fixed) subgroup size: uniform within a subgroup on hardware that packs
// consecutive invocations into subgroups, which the TypeScript side checks (min = max size), but
// not provable by WGSL's analysis, hence the diagnostic filter the generator emits.

const LDA: u32 = BK + PAD;
const LDB: u32 = BN + PAD;
var<workgroup> tileA: array<T, BM * LDA>;
var<workgroup> tileB: array<T, BK * LDB>;
var<workgroup> scratch: array<f32, NUM_SG * 256u>;

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

@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let row0 = wid.y * BM;
  let col0 = wid.x * BN;
  let sg = tid / SG_SIZE;
  let lane = tid % SG_SIZE;
  let sgRow = (sg / SG_COLS) * AM * 16u;
  let sgCol = (sg % SG_COLS) * AN * 16u;
  var acc: array<subgroup_matrix_result<f32, 16, 16>, AM * AN>;

  // Split-K: workgroup z covers K range [kBegin, kEnd) and, with SPLIT_K, writes raw partial sums
  // to ws[z] for gemm_splitk_reduce.wgsl to add up and finish.
  let kBegin = wid.z * params.kchunk;
  let kEnd = min(params.k, kBegin + params.kchunk);
  for (var k0 = kBegin; k0 < kEnd; k0 += BK) {
    for (var l = tid; l < BM * BK; l += WG_X) {
      var m: u32; var k: u32;
      if (TRANS_A) { k = l / BM; m = l % BM; } else { m = l / BK; k = l % BK; }
      tileA[m * LDA + k] = loadA(row0 + m, k0 + k, kEnd);
    }
    for (var l = tid; l < BK * BN; l += WG_X) {
      var n: u32; var k: u32;
      if (TRANS_B) { n = l / BK; k = l % BK; } else { k = l / BN; n = l % BN; }
      tileB[k * LDB + n] = loadB(k0 + k, col0 + n, kEnd);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk += 16u) {
      var left: array<subgroup_matrix_left<f16, 16, 16>, AM>;
      for (var i = 0u; i < AM; i++) {
        left[i] = subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>, row_major>(&tileA, (sgRow + i * 16u) * LDA + kk, LDA);
      }
      for (var j = 0u; j < AN; j++) {
        let right = subgroupMatrixLoad<subgroup_matrix_right<f16, 16, 16>, row_major>(&tileB, kk * LDB + sgCol + j * 16u, LDB);
        for (var i = 0u; i < AM; i++) {
          acc[i * AN + j] = subgroupMatrixMultiplyAccumulate(left[i], right, acc[i * AN + j]);
        }
      }
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < AM; i++) {
    for (var j = 0u; j < AN; j++) {
      subgroupMatrixStore<row_major>(&scratch, sg * 256u, acc[i * AN + j], 16u);
      workgroupBarrier();
      for (var e = lane; e < 256u; e += SG_SIZE) {
        let row = row0 + sgRow + i * 16u + e / 16u;
        let col = col0 + sgCol + j * 16u + e % 16u;
        if (row < params.m && col < params.n) {
          let idx = row * params.n + col;
          if (SPLIT_K) { ws[wid.z * params.m * params.n + idx] = scratch[sg * 256u + e]; continue; }
          var v = params.alpha * scratch[sg * 256u + e];
          if (USE_BETA) { v += params.beta * f32(c[idx]); }
          if (HAS_BIAS) { v += f32(bias[col]); }
          if (RELU) { v = max(v, 0.0); }
          c[idx] = TC(v);
        }
      }
      workgroupBarrier();
    }
  }
}
