// SGD on scalar-indexed f32 bindings w, vel (array<f32>, rw), one element at a time: the fused
// weight-gradient GEMMs' epilogue (lib/fused_update.wgsl) calls it where each dW element is
// computed. The rule itself is lib/sgd_math.wgsl's sgd_lane.

// Updates element i from grad_scaled (the gradient of the loss times the loss scale, in f32);
// returns the new weight.
fn apply_update(i: u32, grad_scaled: f32) -> f32 {
  let r = sgd_lane(w[i], vel[i], grad_scaled, sgd_step());
  vel[i] = r.vel;
  w[i] = r.w;
  return r.w;
}
