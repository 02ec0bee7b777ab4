// The optimizer in a weight-gradient GEMM's epilogue (gemm_update.wgsl and gemm_subgroup_matrix.wgsl
// with FUSED_UPDATE): each dW element is applied to the weights where it is computed, so no
// gradient buffer is written or read back. Needs apply_update (lib/adam_indexed or lib/sgd_indexed),
// bindings flag (u32, read) and copy (u32, rw: the packed f16 copy, WRITE_COPY), uniform n.

var<workgroup> update_skip: u32;

// Whether this step is skipped (the non-finite flag is set): read once per workgroup and made
// uniform, so the whole GEMM returns before any work, in uniform control flow for its barriers.
fn update_skipped(tid: u32) -> bool {
  if (tid == 0u) {
    update_skip = flag[0];
  }
  return workgroupUniformLoad(&update_skip) != 0u;
}

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
    copy[i / 2u] = f32bits_to_f16bits(bitcast<u32>(lo)) | (f32bits_to_f16bits(bitcast<u32>(hi)) << 16u);
  }
}
