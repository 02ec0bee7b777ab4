// The SGD-with-momentum update rule, written once: sgd_lane updates one element from its values,
// and every kernel that applies SGD calls it — the optimizer over a slab (sgd.wgsl, 8 elements a
// thread through lib/optimizer_step) and the first layer's weight gradient fused with its update
// (gemm_update.wgsl, gemm_subgroup_matrix.wgsl with FUSED_UPDATE, through lib/sgd_indexed).
// PyTorch's convention (torch.optim.SGD, dampening 0):
//   g = grad / loss_scale + weight_decay · w      (L2 decay folded into the gradient)
//   v = momentum · v + g                          (v starts at 0, so step 1 gives v = g as in PyTorch)
//   w = w − lr · v                                (NESTEROV: w = w − lr · (g + momentum · v))
// all in f32. Needs the binding state, the uniforms lr, momentum, weight_decay and the const
// NESTEROV; no other binding (the callers own the element layout).

// What one step shares across its elements.
struct SgdStep {
  inv_scale: f32, // 1 / loss scale
}

fn sgd_step() -> SgdStep {
  return SgdStep(state_f32(STATE_INV_SCALE));
}

// One element's weight and momentum.
struct SgdLane {
  w: f32,
  vel: f32,
}

// The rule on one element: w0, vel0 its current values, grad_scaled the gradient of the loss
// times the loss scale (in f32). Returns the new values.
fn sgd_lane(w0: f32, vel0: f32, grad_scaled: f32, c: SgdStep) -> SgdLane {
  let g = grad_scaled * c.inv_scale + params.weight_decay * w0;
  let v = params.momentum * vel0 + g;
  var d = v;
  if (NESTEROV) {
    d = g + params.momentum * v;
  }
  return SgdLane(w0 - params.lr * d, v);
}
