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

// (f16 bit conversions: shaders/lib/f16_bits.wgsl; sgd_step, sgd_lane: shaders/lib/sgd_math.wgsl)

struct Slot {
  w: vec4<f32>,
  vel: vec4<f32>,
  g: vec4<f32>,
}

fn step_consts() -> SgdStep {
  return sgd_step();
}

fn load_slot(j: u32) -> Slot {
  return Slot(w[j], vel[j], vec4<f32>(grad[j]));
}

fn update_slot(s: Slot, c: SgdStep) -> Slot {
  var r: Slot;
  for (var k = 0u; k < 4u; k++) {
    let lane = sgd_lane(s.w[k], s.vel[k], s.g[k], c);
    r.w[k] = lane.w;
    r.vel[k] = lane.vel;
  }
  return r;
}

fn store_slot(j: u32, s: Slot, full: bool) {
  if (full) {
    w[j] = s.w;
    vel[j] = s.vel;
    return;
  }
  for (var k = 0u; k < 4u; k++) {
    if (4u * j + k < params.n) {
      w[j][k] = s.w[k];
      vel[j][k] = s.vel[k];
    }
  }
}

fn slot_weights(s: Slot) -> vec4<f32> {
  return s.w;
}

// (fn main: shaders/lib/optimizer_step.wgsl)
