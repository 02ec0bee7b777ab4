// Adam on scalar-indexed f32 bindings w, m, v (array<f32>, rw), one element at a time: the
// fused weight-gradient GEMMs' epilogue (lib/fused_update.wgsl) calls it where each dW element is
// computed. The rule itself is lib/adam_math.wgsl's adam_lane.

// Updates element i from grad_scaled (the gradient of the loss times the loss scale, in f32);
// returns the new weight.
fn apply_update(i: u32, grad_scaled: f32) -> f32 {
  let r = adam_lane(w[i], m[i], v[i], grad_scaled, adam_step());
  m[i] = r.m;
  v[i] = r.v;
  w[i] = r.w;
  return r.w;
}
