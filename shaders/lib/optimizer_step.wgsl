// The entry point shared by the optimizers (sgd, adam): each thread updates two consecutive f32
// master weights through the op's `fn update(i) -> f32` and, with WRITE_COPY, writes both as one
// packed word of the f16 copy, so no two threads share a word. Nothing is written when the
// non-finite flag is set (the loss-scaled step is skipped on the GPU, no read-back).

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  if (flag[0] != 0u) {
    return;
  }
  let j = (wid.x + wid.y * nwg.x) * WG_X + lid;
  let i = 2u * j;
  if (i >= params.n) {
    return;
  }
  let lo = update(i);
  var hi = 0.0; // an odd tensor's padding half of the copy is written as +0
  if (i + 1u < params.n) {
    hi = update(i + 1u);
  }
  if (WRITE_COPY) {
    copy[j] = f32bits_to_f16bits(bitcast<u32>(lo)) | (f32bits_to_f16bits(bitcast<u32>(hi)) << 16u);
  }
}
