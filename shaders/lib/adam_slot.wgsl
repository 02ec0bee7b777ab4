// Adam on 4 elements at a time (one 16-byte slot of w, m, v: array<vec4<f32>>, rw): the slot
// protocol of lib/optimizer_step.wgsl, shared by the slab optimizer (adam.wgsl) and the fused
// weight-gradient kernels' vector epilogue (lib/fused_update_quad.wgsl). The element rule is
// lib/adam_math.wgsl's adam_lane.

struct Slot {
  w: vec4<f32>,
  m: vec4<f32>,
  v: vec4<f32>,
  g: vec4<f32>,
}

// The step's shared values under the name the fused vector epilogue uses.
alias UpdateStep = AdamStep;

fn step_consts() -> AdamStep {
  return adam_step();
}

// Slot j's weights and moments, with its gradient g (of the scaled loss, as f32) from the caller:
// the slab's gradient buffer, or dW where a fused GEMM computed it.
fn load_state(j: u32, g: vec4<f32>) -> Slot {
  return Slot(w[j], m[j], v[j], g);
}

fn update_slot(s: Slot, c: AdamStep) -> Slot {
  var r: Slot;
  for (var k = 0u; k < 4u; k++) {
    let lane = adam_lane(s.w[k], s.m[k], s.v[k], s.g[k], c);
    r.w[k] = lane.w;
    r.m[k] = lane.m;
    r.v[k] = lane.v;
  }
  return r;
}

fn store_slot(j: u32, s: Slot, full: bool) {
  if (full) {
    w[j] = s.w;
    m[j] = s.m;
    v[j] = s.v;
    return;
  }
  for (var k = 0u; k < 4u; k++) {
    if (4u * j + k < params.n) {
      w[j][k] = s.w[k];
      m[j][k] = s.m[k];
      v[j][k] = s.v[k];
    }
  }
}

fn slot_weights(s: Slot) -> vec4<f32> {
  return s.w;
}
