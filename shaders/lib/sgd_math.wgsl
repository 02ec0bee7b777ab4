// One SGD-with-momentum element update, shared by the optimizer over a slab (sgd.wgsl) and the
// first layer's weight gradient fused with its update (gemm_update.wgsl, gemm_subgroup_matrix.wgsl
// with FUSED_UPDATE). PyTorch's convention (torch.optim.SGD, dampening 0):
//   g = grad / loss_scale + weight_decay · w      (L2 decay folded into the gradient)
//   v = momentum · v + g                          (v starts at 0, so step 1 gives v = g as in PyTorch)
//   w = w − lr · v                                (NESTEROV: w = w − lr · (g + momentum · v))
// all in f32. Needs bindings w, vel (array<f32>, rw), state, the uniforms lr, momentum,
// weight_decay and the const NESTEROV.

// Updates element i from grad_scaled (the gradient of the loss times the loss scale, in f32);
// returns the new weight.
fn apply_update(i: u32, grad_scaled: f32) -> f32 {
  let w0 = w[i];
  let g = grad_scaled * state_f32(STATE_INV_SCALE) + params.weight_decay * w0;
  let v = params.momentum * vel[i] + g;
  vel[i] = v;
  var d = v;
  if (NESTEROV) {
    d = g + params.momentum * v;
  }
  let w1 = w0 - params.lr * d;
  w[i] = w1;
  return w1;
}
