// SGD with momentum on 4 elements at a time (one 16-byte slot of w, vel: array<vec4<f32>>, rw):
// the slot protocol of lib/optimizer_step.wgsl, shared by the slab optimizer (sgd.wgsl) and the
// fused weight-gradient kernels' vector epilogue (lib/fused_update_quad.wgsl). The element rule
// is lib/sgd_math.wgsl's sgd_lane.

struct Slot {
  w: vec4<f32>,
  vel: vec4<f32>,
  g: vec4<f32>,
}

// The step's shared values under the name the fused vector epilogue uses.
alias UpdateStep = SgdStep;

fn step_consts() -> SgdStep {
  return sgd_step();
}

// Slot j's weights and momentum, with its gradient g (of the scaled loss, as f32) from the
// caller: the slab's gradient buffer, or dW where a fused GEMM computed it.
fn load_state(j: u32, g: vec4<f32>) -> Slot {
  return Slot(w[j], vel[j], g);
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
