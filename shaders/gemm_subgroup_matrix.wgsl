// Tensor-core GEMM through chromium_experimental_subgroup_matrix: f16 inputs, f32 accumulation.
//   C = alpha · op(A) · op(B) + beta · C (+ bias[col]) (then ReLU); layouts as in gemm.wgsl.
//
// A workgroup of NUM_SG subgroups (SG_ROWS × SG_COLS) computes a BM×BN tile of C; each subgroup
// owns AM×AN accumulators of 16×FN (FN = 16, or 8 for the 16×8×16 config): a (16·AM)×(FN·AN) block. K advances BK at a time: all
// threads stage op(A) [BM×BK] and op(B) [BK×BN] row-major in workgroup memory (zero-padded past
// the edges, transposes resolved here), then each subgroup loads 16×16 fragments from there.
// Rows are padded by PAD halves so fragment loads don't hit the same banks.
// The results go through a per-subgroup 16×16 f32 scratch so the epilogue and the ragged edges
// are handled element by element.
//
// Subgroup-matrix loads and stores need subgroup-uniform offsets: tid / SG_SIZE would be uniform
// in practice but WGSL's analysis can't prove it ("requires argument 1 to be uniform"), so the
// subgroup index comes from the subgroup_id builtin, which is uniform by construction.
//
// DIRECT (M, N and K multiples of 16): no staging; each subgroup loads its fragments straight
// from the storage buffers (the GPU's caches share them between subgroups) and the transposes
// become column-major loads. Fragments past the last row or column are clamped onto the last
// full one (M, N ≥ 16): they compute duplicates that the epilogue's bounds check discards.
//
// Staging loads: with VEC_A (VEC_B) the contiguous direction of A (B) is a multiple of 8 long,
// so 8 halves come in one 16-byte load through a second, vec4<u32> view of the same buffer
// (a4, b4); otherwise element by element.

const LDA: u32 = BK + PAD;
const LDB: u32 = BN + PAD;
// The direct variant stages nothing: shrink the tiles so they cost less occupancy, to 16 rows,
// the least the staged path (still compiled, and checked against the array size) may address.
var<workgroup> tileA: array<T, select(BM * LDA, 16u * LDA, DIRECT)>;
var<workgroup> tileB: array<T, select(BK * LDB, 16u * LDB, DIRECT)>;
var<workgroup> scratch: array<f32, NUM_SG * 16u * FN>;

// (loadA / loadB: shaders/lib/gemm_load.wgsl)

fn halves(w: vec4<u32>) -> array<T, 8> {
  let p0 = bitcast<vec2<f16>>(w.x);
  let p1 = bitcast<vec2<f16>>(w.y);
  let p2 = bitcast<vec2<f16>>(w.z);
  let p3 = bitcast<vec2<f16>>(w.w);
  return array<T, 8>(p0.x, p0.y, p1.x, p1.y, p2.x, p2.y, p3.x, p3.y);
}

fn stageA(tid: u32, row0: u32, k0: u32, kEnd: u32) {
  if (VEC_A) {
    // Chunks of 8 along the contiguous direction: k (A [M,K]) or m (Aᵀ stored [K,M]).
    for (var l = tid; l < BM * BK / 8u; l += WG_X) {
      var m: u32; var k: u32;
      if (TRANS_A) { k = l / (BM / 8u); m = (l % (BM / 8u)) * 8u; } else { m = l / (BK / 8u); k = (l % (BK / 8u)) * 8u; }
      let gm = row0 + m;
      let gk = k0 + k;
      var h = array<T, 8>();
      if (TRANS_A) {
        if (gk < kEnd && gm < params.m) { h = halves(a4[(gk * params.m + gm) / 8u]); }
        for (var i = 0u; i < 8u; i++) { tileA[(m + i) * LDA + k] = h[i]; }
      } else {
        if (gk < kEnd && gm < params.m) { h = halves(a4[(gm * params.k + gk) / 8u]); }
        for (var i = 0u; i < 8u; i++) { tileA[m * LDA + k + i] = h[i]; }
      }
    }
  } else {
    for (var l = tid; l < BM * BK; l += WG_X) {
      var m: u32; var k: u32;
      if (TRANS_A) { k = l / BM; m = l % BM; } else { m = l / BK; k = l % BK; }
      tileA[m * LDA + k] = loadA(row0 + m, k0 + k, kEnd);
    }
  }
}

fn stageB(tid: u32, col0: u32, k0: u32, kEnd: u32) {
  if (VEC_B) {
    // Chunks of 8 along n (B [K,N]) or k (Bᵀ stored [N,K]).
    for (var l = tid; l < BK * BN / 8u; l += WG_X) {
      var n: u32; var k: u32;
      if (TRANS_B) { n = l / (BK / 8u); k = (l % (BK / 8u)) * 8u; } else { k = l / (BN / 8u); n = (l % (BN / 8u)) * 8u; }
      let gn = col0 + n;
      let gk = k0 + k;
      var h = array<T, 8>();
      if (TRANS_B) {
        if (gk < kEnd && gn < params.n) { h = halves(b4[(gn * params.k + gk) / 8u]); }
        for (var i = 0u; i < 8u; i++) { tileB[(k + i) * LDB + n] = h[i]; }
      } else {
        if (gk < kEnd && gn < params.n) { h = halves(b4[(gk * params.n + gn) / 8u]); }
        for (var i = 0u; i < 8u; i++) { tileB[k * LDB + n + i] = h[i]; }
      }
    }
  } else {
    for (var l = tid; l < BK * BN; l += WG_X) {
      var n: u32; var k: u32;
      if (TRANS_B) { n = l / BK; k = l % BK; } else { k = l / BN; n = l % BN; }
      tileB[k * LDB + n] = loadB(k0 + k, col0 + n, kEnd);
    }
  }
}

// The direct path's fragments of one k step: AM of op(A) from rows m0.., AN of op(B) from
// columns n0... Blocks past the last row / column are clamped onto the last full one.
fn loadFragments(l: ptr<function, array<subgroup_matrix_left<f16, 16, 16>, AM>>,
                 r: ptr<function, array<subgroup_matrix_right<f16, FN, 16>, AN>>,
                 m0: u32, n0: u32, k0: u32) {
  for (var i = 0u; i < AM; i++) {
    let m = min(m0 + i * 16u, params.m - 16u);
    if (TRANS_A) {
      (*l)[i] = subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>, col_major>(&a, k0 * params.m + m, params.m);
    } else {
      (*l)[i] = subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>, row_major>(&a, m * params.k + k0, params.k);
    }
  }
  for (var j = 0u; j < AN; j++) {
    let n = min(n0 + j * FN, params.n - FN);
    if (TRANS_B) {
      (*r)[j] = subgroupMatrixLoad<subgroup_matrix_right<f16, FN, 16>, col_major>(&b, n * params.k + k0, params.k);
    } else {
      (*r)[j] = subgroupMatrixLoad<subgroup_matrix_right<f16, FN, 16>, row_major>(&b, k0 * params.n + n, params.n);
    }
  }
}

@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32,
        @builtin(subgroup_id) sg: u32, @builtin(subgroup_invocation_id) lane: u32) {
  let row0 = wid.y * BM;
  let col0 = wid.x * BN;
  let sgRow = (sg / SG_COLS) * AM * 16u;
  let sgCol = (sg % SG_COLS) * AN * FN;
  var acc: array<subgroup_matrix_result<f32, FN, 16>, AM * AN>;
  // UNROLLED: one named accumulator per fragment pair (declared here, copied into acc at the end).
  /*@UNROLLED_DECL@*/

  // Split-K: workgroup z covers K range [kBegin, kEnd) and, with SPLIT_K, writes raw partial sums
  // to ws[z] for gemm_splitk_reduce.wgsl to add up and finish.
  let kBegin = wid.z * params.kchunk;
  let kEnd = min(params.k, kBegin + params.kchunk);
  if (DIRECT && UNROLLED) {
    // The same loop as below, written out by src/kernels/gemm-subgroup-matrix.ts with one named
    // variable per fragment and accumulator: arrays of subgroup matrices indexed in loops stay
    // out of registers (measured 25 vs 72 TFLOP/s, docs/performance.md).
    /*@UNROLLED_DIRECT@*/
  } else if (DIRECT) {
    // (Loading the next step's fragments before this step's multiply-adds — software
    // pipelining — was measured slower on an H200: 16.8 vs 25.6 TFLOP/s for d1x1a4x4 at 4096³.)
    var left: array<subgroup_matrix_left<f16, 16, 16>, AM>;
    var right: array<subgroup_matrix_right<f16, FN, 16>, AN>;
    for (var k0 = kBegin; k0 < kEnd; k0 += 16u) {
      loadFragments(&left, &right, row0 + sgRow, col0 + sgCol, k0);
      for (var j = 0u; j < AN; j++) {
        for (var i = 0u; i < AM; i++) {
          acc[i * AN + j] = subgroupMatrixMultiplyAccumulate(left[i], right[j], acc[i * AN + j]);
        }
      }
    }
  }
  for (var k0 = kBegin; k0 < kEnd && !DIRECT; k0 += BK) {
    stageA(tid, row0, k0, kEnd);
    stageB(tid, col0, k0, kEnd);
    workgroupBarrier();
    if (UNROLLED) {
      /*@UNROLLED_STAGED@*/
    }
    for (var kk = 0u; kk < BK && !UNROLLED; kk += 16u) {
      var left: array<subgroup_matrix_left<f16, 16, 16>, AM>;
      for (var i = 0u; i < AM; i++) {
        left[i] = subgroupMatrixLoad<subgroup_matrix_left<f16, 16, 16>, row_major>(&tileA, (sgRow + i * 16u) * LDA + kk, LDA);
      }
      for (var j = 0u; j < AN; j++) {
        let right = subgroupMatrixLoad<subgroup_matrix_right<f16, FN, 16>, row_major>(&tileB, kk * LDB + sgCol + j * FN, LDB);
        for (var i = 0u; i < AM; i++) {
          acc[i * AN + j] = subgroupMatrixMultiplyAccumulate(left[i], right, acc[i * AN + j]);
        }
      }
    }
    workgroupBarrier();
  }
  /*@UNROLLED_OUT@*/

  for (var i = 0u; i < AM; i++) {
    for (var j = 0u; j < AN; j++) {
      subgroupMatrixStore<row_major>(&scratch, sg * 16u * FN, acc[i * AN + j], FN);
      workgroupBarrier();
      for (var e = lane; e < 16u * FN; e += SG_SIZE) {
        let row = row0 + sgRow + i * 16u + e / FN;
        let col = col0 + sgCol + j * FN + e % FN;
        if (row < params.m && col < params.n) {
          let idx = row * params.n + col;
          if (SPLIT_K) { ws[wid.z * params.m * params.n + idx] = scratch[sg * 16u * FN + e]; continue; }
          var v = params.alpha * scratch[sg * 16u * FN + e];
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
