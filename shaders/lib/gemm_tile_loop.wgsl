// A fragment, not a module: the portable GEMM kernels' register tile and k loop, written into
// `fn main` of gemm.wgsl and gemm_update.wgsl at their TILE_LOOP marker by the generator
// (src/kernels/gemm-tiled.ts, tileLoop), so both kernels run one copy of it as straight code (a
// function taking acc by pointer might leave it in memory). Before it: tid, row0, col0 and this
// workgroup's K range [kBegin, kEnd); after it, acc[r * CG + cg] holds row r of the thread's
// outputs at its 4-column group cg. Staging: lib/gemm_stage.wgsl.
  var acc: array<vec4<f32>, TM * CG>;   // acc[r * CG + cg]: row r of this thread, 4 columns
  var ra: array<vec4<f32>, RG>;
  var rb: array<vec4<f32>, CG>;

  // Vector views are named even where unused, so every tile's pipeline has the same bindings
  // (WebGPU's automatic layout leaves out what a shader never names).
  if (params.k == 0u) { _ = a4[0]; _ = b4[0]; }
  if (PREFETCH) {
    fetchA(tid, row0, kBegin, kEnd);
    fetchB(tid, col0, kBegin, kEnd);
  }
  // DOUBLE_BUF (needs PREFETCH): the first tile is staged before the loop; each step then stores
  // the next tile into the other buffer after multiplying this one, so one barrier a step
  // suffices (every thread has finished reading a buffer before anyone passes the barrier that
  // lets it be overwritten) and the stores wait on the fetch for the length of the multiply.
  var buf = 0u;
  if (DOUBLE_BUF) {
    storeA(tid, 0u);
    storeB(tid, 0u);
    workgroupBarrier();
  }
  for (var k0 = kBegin; k0 < kEnd; k0 += BK) {
    let more = k0 + BK < kEnd;
    if (!DOUBLE_BUF) {
      if (!PREFETCH) {
        fetchA(tid, row0, k0, kEnd);
        fetchB(tid, col0, k0, kEnd);
      }
      storeA(tid, 0u);
      storeB(tid, 0u);
      workgroupBarrier();
    }
    if (PREFETCH && more) {
      fetchA(tid, row0, k0 + BK, kEnd);
      fetchB(tid, col0, k0 + BK, kEnd);
    }
    let baseA = buf * BK * BM4;
    let baseB = buf * BK * BN4;
    for (var kk = 0u; kk < BK; kk++) {
      for (var g = 0u; g < RG; g++) { ra[g] = vec4<f32>(tileA[baseA + kk * BM4 + lid.y + g * WG_Y]); }
      for (var g = 0u; g < CG; g++) { rb[g] = vec4<f32>(tileB[baseB + kk * BN4 + lid.x + g * WG_X]); }
      for (var g = 0u; g < RG; g++) {
        for (var r = 0u; r < 4u; r++) {
          let av = vec4<f32>(ra[g][r]);
          for (var cg = 0u; cg < CG; cg++) {
            acc[(g * 4u + r) * CG + cg] = fma(av, rb[cg], acc[(g * 4u + r) * CG + cg]);
          }
        }
      }
    }
    if (DOUBLE_BUF) {
      if (more) {
        storeA(tid, 1u - buf);
        storeB(tid, 1u - buf);
      }
      buf = 1u - buf;
    }
    workgroupBarrier();
  }
