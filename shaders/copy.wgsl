// Device copy in 16-byte words, the memory ceiling the optimizers are measured against: the
// slab optimizers' access pattern (lib/optimizer_step.wgsl) with nothing computed — a workgroup
// owns 2·WG_X consecutive words and thread lid copies words lid and lid + WG_X, both loaded
// before either is stored. (copyBufferToBuffer is no ceiling for a compute kernel: on NVIDIA's
// Vulkan driver it ran at 0.85 TB/s on an H200 where this pattern reaches the DRAM's 4 TB/s.)
// Bindings: src: array<vec4<u32>> (read), dst: array<vec4<u32>> (read_write).
// Uniforms: words (16-byte words). Dispatch: grid1d over ceil(words / (2 · WG_X)) workgroups.

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let j0 = (wid.x + wid.y * nwg.x) * (2u * WG_X) + lid;
  let j1 = j0 + WG_X;
  if (j0 >= params.words) {
    return;
  }
  let a = src[j0];
  if (j1 < params.words) {
    let b = src[j1];
    dst[j0] = a;
    dst[j1] = b;
  } else {
    dst[j0] = a;
  }
}
