// Batch input: gathers one batch of images from a GPU-resident uint8 split (NHWC RGB, any image
// size) in the epoch's shuffled order, normalises it to T as image_normalize does
// (x·scale[c] + bias[c], scale = 1/(255·std), bias = −mean/std, formed in f64 on the CPU, the
// result rounded once to T), and gathers the labels. The batch's first position in the order is
// the training state's cursor for this plan's slot (lib/train_state.wgsl), advanced on the GPU by
// the metrics kernel, so a recorded step needs no per-step uniform.
//
// One invocation per BPI consecutive bytes of a row (its last group holds image_bytes mod BPI when
// that is not 0): row r = t / groups, sample = order[cursor + r]. BPI = 16 where image_bytes is a
// multiple of 16 (the dissertation's 224×224×3, Fashion-MNIST's 28×28×3): four words of pixels,
// all loaded before any is written, as four 4-element stores (x bound as array<vec4<T>>), so each
// invocation has 16 bytes in flight (one word each left the batch-256 f16 input of an H100 at
// 882 GB/s). Else BPI = 4: the group's 4 bytes read as one u32 word (two, funnel-shifted, when the
// image does not start on a word: image_bytes not a multiple of 4) and written as one 4-element
// store where image_bytes is a multiple of 4 ("vector x"), else element by element. The loads and
// stores are the STORE_X marker (src/kernels/batch-input.ts). The split is held in SHARDS
// buffers of images_per_shard whole images each (a split past one storage binding;
// src/model/shards.ts): the sample lives in shard ⌊sample / images_per_shard⌋ at byte
// (sample mod images_per_shard)·image_bytes + offset in the image (4 per u32, byte k at bits 8k).
// WGSL cannot index an array of bindings, so pixel_word (generated) selects the shard by a switch.
// Every image holds H·W·3 bytes, so a byte's channel is its index in the image mod 3.
// Bindings: pixels0..pixels{SHARDS-1}: array<u32> (read), order: array<u32> (read), all_labels: array<u32> (read),
//   x: array<T> or array<vec4<T>> (vector x) (rw), labels: array<u32> (rw), state: array<u32> (read).
// Uniforms: n (= batch · image_bytes), image_bytes, images_per_shard, slot, scale0..2, bias0..2.
// Const BPI (4 or 16). Dispatch: grid1d over ceil(batch · ceil(image_bytes / BPI) / WG_X).

/*@PIXEL_WORD@*/

// Byte k of `bytes`, at byte `within + k` of its image, normalised to T.
fn normalised(bytes: u32, within: u32, k: u32) -> T {
  let scale = vec3<f32>(params.scale0, params.scale1, params.scale2);
  let bias = vec3<f32>(params.bias0, params.bias1, params.bias2);
  let c = (within + k) % 3u;
  return to_t(f32((bytes >> (8u * k)) & 0xffu) * scale[c] + bias[c]);
}

// 4 bytes from byte `byte` of a shard (byte k of the result at bits 8k); `count` ≤ 4 of them are
// real, and a second word is read only when they run into it (it then lies inside the image).
fn pixel_bytes(shard: u32, byte: u32, count: u32) -> u32 {
  let word = byte / 4u;
  let shift = 8u * (byte % 4u);
  let lo = pixel_word(shard, word);
  if (shift == 0u) {
    return lo;
  }
  var hi = 0u;
  if (byte % 4u + count > 4u) {
    hi = pixel_word(shard, word + 1u);
  }
  return (lo >> shift) | (hi << (32u - shift));
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let t = (wid.x + wid.y * nwg.x) * WG_X + lid;
  let groups = (params.image_bytes + BPI - 1u) / BPI;
  let r = t / groups;
  if (r >= params.n / params.image_bytes) {
    return;
  }
  let within = (t - r * groups) * BPI;
  let count = min(BPI, params.image_bytes - within);
  let sample = order[state[STATE_CURSOR + params.slot] + r];
  let shard = sample / params.images_per_shard;
  let byte = (sample - shard * params.images_per_shard) * params.image_bytes + within;
  let e = r * params.image_bytes + within;
  /*@STORE_X@*/
  if (within == 0u) {
    labels[r] = all_labels[sample];
  }
}
