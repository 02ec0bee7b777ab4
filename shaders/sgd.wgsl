// SGD with momentum on f32 master weights over a whole slab, 8 elements a thread as 2 vec4 slots
// (the mapping and the f16 copy: shaders/lib/optimizer_step.wgsl). The element rule (PyTorch's
// convention, torch.optim.SGD with dampening 0) is sgd_lane in shaders/lib/sgd_math.wgsl, shared
// with the fused weight-gradient kernels; all in f32, grad read as vec4<T> (T = f32 or f16).
// WRITE_COPY also writes the f16 copy of the new w that the f16 forward pass reads.
//
// When flag[0] ≠ 0 (the non-finite detector saw inf/NaN in this step's gradients) nothing is
// written at all — w, v and the copy keep their values, as PyTorch's GradScaler skips
// optimizer.step() — and the CPU never has to read the flag back.
// Bindings: w, vel: array<vec4<f32>> (rw), grad: array<vec4<T>> (read), flag: array<u32> (read),
//   copy: array<vec2<u32>> (rw; 4 halves per slot), state: array<u32> (read; 1 / loss scale).
// Uniforms: n (elements), lr, momentum, weight_decay.
// Consts: NESTEROV, WRITE_COPY. Dispatch: grid1d over ceil(n / (8 · WG_X)) workgroups.

// (f16 bit conversions: shaders/lib/f16_bits.wgsl; sgd_step, sgd_lane: shaders/lib/sgd_math.wgsl;
// Slot and its rule: shaders/lib/sgd_slot.wgsl)

fn load_slot(j: u32) -> Slot {
  return load_state(j, vec4<f32>(grad[j]));
}

// (fn main: shaders/lib/optimizer_step.wgsl)
