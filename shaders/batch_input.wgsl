// Batch input: gathers one batch of images from a GPU-resident uint8 split (NHWC RGB, any image
// size) in the epoch's shuffled order, normalises it to T as image_normalize does
// (x·scale[c] + bias[c], scale = 1/(255·std), bias = −mean/std, formed in f64 on the CPU, the
// result rounded once to T), and gathers the labels. The batch's first position in the order is
// the training state's cursor for this plan's slot (lib/train_state.wgsl), advanced on the GPU by
// the metrics kernel, so a recorded step needs no per-step uniform.
//
// One invocation per output element: row r = e / image_bytes, sample = order[cursor + r]. The
// split is held in SHARDS buffers of images_per_shard whole images each (a split past one storage
// binding; src/model/shards.ts): the sample lives in shard ⌊sample / images_per_shard⌋ at byte
// (sample mod images_per_shard)·image_bytes + e mod image_bytes (4 per u32, byte k at bits 8k).
// WGSL cannot index an array of bindings, so pixel_word (generated) selects the shard by a switch.
// Every image holds H·W·3 bytes, so a byte's channel is its index in the image mod 3.
// Bindings: pixels0..pixels{SHARDS-1}: array<u32> (read), order: array<u32> (read), all_labels: array<u32> (read),
//   x: array<T> (rw), labels: array<u32> (rw), state: array<u32> (read).
// Uniforms: n (= batch · image_bytes), image_bytes, images_per_shard, slot, scale0..2, bias0..2.
// Dispatch: grid1d over ceil(n / WG_X).

/*@PIXEL_WORD@*/

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let e = (wid.x + wid.y * nwg.x) * WG_X + lid;
  if (e >= params.n) {
    return;
  }
  let r = e / params.image_bytes;
  let within = e - r * params.image_bytes;
  let sample = order[state[STATE_CURSOR + params.slot] + r];
  let shard = sample / params.images_per_shard;
  let byte = (sample - shard * params.images_per_shard) * params.image_bytes + within;
  let v = f32((pixel_word(shard, byte / 4u) >> (8u * (byte % 4u))) & 0xffu);
  let c = within % 3u;
  let scale = vec3<f32>(params.scale0, params.scale1, params.scale2);
  let bias = vec3<f32>(params.bias0, params.bias1, params.bias2);
  x[e] = to_t(v * scale[c] + bias[c]);
  if (within == 0u) {
    labels[r] = all_labels[sample];
  }
}
