// The weight gradient and its optimizer step overlapped (src/kernels/weight-grad-overlap.ts): each
// dispatch is the weight-gradient GEMM's grid of BM×BN tiles, split by rows of tiles into
// `chunks` interleaved chunks (row of tiles y belongs to chunk y % chunks). In a dispatch the
// workgroups of chunk gemm_chunk's rows compute dW there and store it in c, as the plain GEMM
// does; every other workgroup is a worker of the optimizer on chunk adam_chunk, whose dW the
// previous dispatch stored. So the memory-bound optimizer runs beside the GEMM, whose tensor
// cores wait on barriers and staging more than on memory, instead of after it — and because the
// chunks interleave, the two kinds of workgroup interleave in launch order too.
// A chunk index ≥ chunks means none: the first dispatch only computes, the last only updates.
// The workers update 16-byte slots (lib/fused_update_quad.wgsl, with the rule's slot lib), OV_UQ
// slots a thread loaded together so their loads are in flight at once; consecutive threads take
// consecutive slots, so each load of a warp covers one contiguous range.
// Needs: consts BM, BN (the GEMM's tile), OV_THREADS (threads a workgroup), OV_UQ; binding c
// (f32, dW [m, n] row-major); uniforms m, n (a multiple of 4), chunks, gemm_chunk, adam_chunk.

// Whether row of tiles y computes dW in this dispatch.
fn overlap_gemm_row(y: u32) -> bool {
  return params.gemm_chunk < params.chunks && y % params.chunks == params.gemm_chunk;
}

// The optimizer's share of workgroup wid (not a GEMM row) on chunk adam_chunk.
fn overlap_update(wid: vec3<u32>, tid: u32) {
  let chunks = params.chunks;
  let a = params.adam_chunk;
  if (a >= chunks) {
    return;
  }
  let tilesX = (params.n + BN - 1u) / BN;
  let tilesY = (params.m + BM - 1u) / BM;
  // Workers are numbered in launch order over the rows that are not this dispatch's GEMM rows.
  let g = params.gemm_chunk;
  var gemmBelow = 0u;
  var gemmRows = 0u;
  if (g < chunks) {
    gemmBelow = (wid.y + chunks - 1u - g) / chunks;
    gemmRows = (tilesY + chunks - 1u - g) / chunks;
  }
  let worker = (wid.y - gemmBelow) * tilesX + wid.x;
  let stride = (tilesY - gemmRows) * tilesX * OV_THREADS;
  // Chunk a's slots: its rows of tiles y = a, a + chunks, …, each BM·n/4 consecutive slots; the
  // last row of tiles may run past m (slots ≥ m·n/4 are skipped).
  let tileSlots = BM * params.n / 4u;
  let total = (tilesY + chunks - 1u - a) / chunks * tileSlots;
  let slots = params.m * params.n / 4u;
  let sc = step_consts();
  for (var q0 = worker * OV_THREADS + tid; q0 < total; q0 += stride * OV_UQ) {
    var s: array<Slot, OV_UQ>;
    var js: array<u32, OV_UQ>;
    var ok: array<bool, OV_UQ>;
    for (var u = 0u; u < OV_UQ; u++) {
      let q = q0 + u * stride;
      let j = (a + (q / tileSlots) * chunks) * tileSlots + q % tileSlots;
      js[u] = j;
      ok[u] = q < total && j < slots;
      if (ok[u]) {
        let e = 4u * j;
        s[u] = load_state(j, vec4<f32>(c[e], c[e + 1u], c[e + 2u], c[e + 3u]));
      }
    }
    for (var u = 0u; u < OV_UQ; u++) {
      if (ok[u]) {
        finish_quad(js[u], update_slot(s[u], sc));
      }
    }
  }
}

// The portable kernel's store of one 4-column group of dW (col a multiple of 4, n too).
fn store_four(row: u32, col: u32, g: vec4<f32>) {
  let e = row * params.n + col;
  c[e] = g.x;
  c[e + 1u] = g.y;
  c[e + 2u] = g.z;
  c[e + 3u] = g.w;
}
