// The optimizer in a weight-gradient GEMM's epilogue, 16 bytes at a time: where dW's N is a
// multiple of 4 (the classifier's first layer: 1024 or 2048), 4 adjacent dW values update one
// slot of w and the moments (lib/adam_slot.wgsl or lib/sgd_slot.wgsl: the slab optimizers' rule
// and loads) and write one 8-byte word pair of the f16 copy, so every access is a vector access.
// The element path (lib/fused_update.wgsl) serves any other N. Needs the slot protocol, bindings
// w and the moments as array<vec4<f32>> (rw), copy as array<vec2<u32>> (rw, WRITE_COPY), uniform
// n (dW's columns, a multiple of 4; the wrapper checks).

// Slot j's updated values written back whole, with its four halves of the f16 copy.
fn finish_quad(j: u32, s: Slot) {
  store_slot(j, s, true);
  if (WRITE_COPY) {
    let h = slot_weights(s);
    copy[j] = vec2<u32>(pack_half2(h.x, h.y), pack_half2(h.z, h.w));
  }
}

// dW at (row, col .. col + 3), col a multiple of 4 inside the row; c: the step's shared values.
fn update_quad(row: u32, col: u32, g: vec4<f32>, c: UpdateStep) {
  let j = (row * params.n + col) / 4u;
  finish_quad(j, update_slot(load_state(j, g), c));
}

// The portable kernel's 4-column group (lib/fused_update.wgsl's signature): col < n, so the whole
// group lies inside the row.
fn update_four(row: u32, col: u32, g: vec4<f32>) {
  update_quad(row, col, g, step_consts());
}
