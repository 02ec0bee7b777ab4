// The entry point shared by the optimizers over a slab (sgd.wgsl, adam.wgsl): memory-bound, so
// every access is 16 bytes (vec4<f32> of weights, moments, f32 gradient; 8 bytes of f16 gradient
// and of the packed f16 copy per vec4). A workgroup owns 2·WG_X consecutive vec4 slots and thread
// lid takes slots lid and lid + WG_X, so each load and store instruction of a warp covers one
// contiguous range; both slots are loaded before either is updated, so their loads overlap.
// The op supplies fn load_slot(j) -> Slot (slot j's operands and gradient); its rule's slot lib
// (lib/adam_slot.wgsl, lib/sgd_slot.wgsl) the rest of the protocol:
//   struct Slot                        one vec4 of every operand (and the gradient as f32)
//   fn step_consts() -> ...            the step's shared values (bias corrections, 1 / scale)
//   fn update_slot(s, c) -> Slot       the rule (its lib's *_lane) on each of the 4 lanes
//   fn store_slot(j, s, full)          writes slot j back; `full` false: only lanes < n
//   fn slot_weights(s) -> vec4<f32>    the new weights, for the f16 copy
// The last slot of a count that is not a multiple of 4 holds lanes past n: they are computed on
// whatever the padding holds and never stored, and their halves of the copy's last word are +0.
// The bindings must cover every slot whole (the wrapper checks; createTensor rounds to 16 bytes).
// Nothing is written when the non-finite flag is set (the loss-scaled step is skipped on the
// GPU, no read-back).

fn finish_slot(j: u32, s: Slot) {
  let full = 4u * j + 4u <= params.n;
  store_slot(j, s, full);
  if (WRITE_COPY) {
    let inside = vec4<u32>(4u * j) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(params.n);
    let h = select(vec4<f32>(0.0), slot_weights(s), inside);
    let words = vec2<u32>(pack_half2(h.x, h.y), pack_half2(h.z, h.w));
    if (4u * j + 2u < params.n) {
      copy[j] = words;
    } else {
      copy[j].x = words.x; // the second word lies wholly past the tensor
    }
  }
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  if (flag[0] != 0u) {
    return;
  }
  let slots = (params.n + 3u) / 4u;
  let j0 = (wid.x + wid.y * nwg.x) * (2u * WG_X) + lid;
  let j1 = j0 + WG_X;
  if (j0 >= slots) {
    return;
  }
  let c = step_consts();
  let s0 = load_slot(j0);
  if (j1 < slots) {
    let s1 = load_slot(j1);
    finish_slot(j0, update_slot(s0, c));
    finish_slot(j1, update_slot(s1, c));
  } else {
    finish_slot(j0, update_slot(s0, c));
  }
}
