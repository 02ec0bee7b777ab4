// The fused weight-gradient kernels' prologue (lib/fused_update.wgsl, lib/fused_update_quad.wgsl):
// a step the non-finite flag skips returns before any work. Needs binding flag (u32, read).

var<workgroup> update_skip: u32;

// Whether this step is skipped (the non-finite flag is set): read once per workgroup and made
// uniform, so the whole GEMM returns before any work, in uniform control flow for its barriers.
fn update_skipped(tid: u32) -> bool {
  if (tid == 0u) {
    update_skip = flag[0];
  }
  return workgroupUniformLoad(&update_skip) != 0u;
}
