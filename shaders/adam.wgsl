// Adam / AdamW on f32 master weights over a whole slab, 8 elements a thread as 2 vec4 slots
// (the mapping and the f16 copy: shaders/lib/optimizer_step.wgsl). The element rule (PyTorch's
// formulation, bias corrections on the GPU from the state's step count) is adam_lane in
// shaders/lib/adam_math.wgsl, shared with the fused weight-gradient kernels. Moments and weights
// are f32; grad is read as vec4<T> (T = f32 or f16). WRITE_COPY also writes the f16 copy of the
// new w.
//
// When flag[0] ≠ 0 (non-finite gradients this step) nothing is written: w, m, v and the copy keep
// their values, with no read-back on the CPU.
// Bindings: w, m, v: array<vec4<f32>> (rw), grad: array<vec4<T>> (read), flag: array<u32> (read),
//   copy: array<vec2<u32>> (rw; 4 halves per slot), state: array<u32> (read).
// Uniforms: n (elements), lr, beta1, beta2, eps, l2, decay, ln_beta1, ln_beta2.
// Const WRITE_COPY. Dispatch: grid1d over ceil(n / (8 · WG_X)) workgroups.

// (f16 bit conversions: shaders/lib/f16_bits.wgsl; adam_step, adam_lane: shaders/lib/adam_math.wgsl;
// Slot and its rule: shaders/lib/adam_slot.wgsl)

fn load_slot(j: u32) -> Slot {
  return load_state(j, vec4<f32>(grad[j]));
}

// (fn main: shaders/lib/optimizer_step.wgsl)
