// The optimizer in a weight-gradient GEMM's epilogue (gemm_update.wgsl and gemm_subgroup_matrix.wgsl
// with FUSED_UPDATE), element by element: each dW element is applied to the weights where it is
// computed, so no gradient buffer is written or read back. The path for any N (even N with the
// f16 copy); where N is a multiple of 4, lib/fused_update_quad.wgsl updates 16 bytes at a time.
// Needs apply_update (lib/adam_indexed or lib/sgd_indexed), bindings copy (u32, rw: the packed
// f16 copy, WRITE_COPY), uniform n (dW's columns).

// dW at (row, col) and (row, col + 1) (col even; has_hi: col + 1 < n), gradients of the scaled
// loss. The pair is one word of the f16 copy (n even when WRITE_COPY, so i is even), so no two
// threads ever share a word.
fn update_pair(row: u32, col: u32, g0: f32, g1: f32, has_hi: bool) {
  let i = row * params.n + col;
  let lo = apply_update(i, g0);
  var hi = 0.0;
  if (has_hi) {
    hi = apply_update(i + 1u, g1);
  }
  if (WRITE_COPY) {
    copy[i / 2u] = pack_half2(lo, hi);
  }
}

// dW at (row, col .. col + 3) (col a multiple of 4, < n): the portable kernel's 4-column group,
// as pairs; columns past n are dropped.
fn update_four(row: u32, col: u32, g: vec4<f32>) {
  for (var j = 0u; j < 4u; j += 2u) {
    if (col + j < params.n) {
      update_pair(row, col + j, g[j], g[j + 1u], col + j + 1u < params.n);
    }
  }
}
