// The Adam / AdamW update rule, written once: adam_lane updates one element from its values, and
// every kernel that applies Adam calls it — the optimizer over a slab (adam.wgsl, 8 elements a
// thread through lib/optimizer_step) and the first layer's weight gradient fused with its update
// (gemm_update.wgsl, gemm_subgroup_matrix.wgsl with FUSED_UPDATE, through lib/adam_indexed).
// PyTorch's formulation (torch.optim.Adam / AdamW):
//   g = grad / loss_scale + l2 · w                (Adam's weight decay: L2 in the gradient)
//   w = w · decay                                 (AdamW: decay = 1 − lr · weight_decay)
//   m = β1 · m + (1 − β1) · g
//   v = β2 · v + (1 − β2) · g²
//   w = w − step_size · m / (sqrt(v) · inv_bc2_sqrt + eps)
// with step_size = lr / (1 − β1^t) and inv_bc2_sqrt = 1 / sqrt(1 − β2^t), the bias corrections,
// computed here in f32 from t = state steps + 1 (lib/train_state.wgsl) and ln β (f64 on the CPU),
// as PyTorch's `capturable` Adam does on the GPU. loss_scale is the state's: the gradient is
// multiplied by its reciprocal. Needs the binding state and the uniforms lr, beta1, beta2, eps,
// l2, decay, ln_beta1, ln_beta2; no other binding (the callers own the element layout).

// 1 − β^t = −expm1(t · ln β). Near 0, where 1 − exp(x) would cancel (β2 = 0.999 at t = 1 keeps
// only 4 digits), a Taylor series in Horner form: terms to x⁹/9!, truncation < 0.5¹⁰/10! ≈ 3e-10
// relative for x > −0.5; below that 1 − exp(x) ≥ 0.39 and loses nothing.
fn one_minus_pow(ln_beta: f32, t: f32) -> f32 {
  let x = t * ln_beta;
  if (x > -0.5) {
    var p = 1.0;
    for (var k = 9; k >= 2; k--) {
      p = 1.0 + x * p / f32(k);
    }
    return -x * p;
  }
  return 1.0 - exp(x);
}

// What one step shares across its elements: formed once per thread, not per element.
struct AdamStep {
  step_size: f32,    // lr / (1 − β1^t)
  inv_bc2_sqrt: f32, // 1 / sqrt(1 − β2^t)
  inv_scale: f32,    // 1 / loss scale
}

fn adam_step() -> AdamStep {
  let t = f32(state[STATE_STEPS] + 1u);
  return AdamStep(
    params.lr / one_minus_pow(params.ln_beta1, t),
    1.0 / sqrt(one_minus_pow(params.ln_beta2, t)),
    state_f32(STATE_INV_SCALE),
  );
}

// One element's weight and moments.
struct AdamLane {
  w: f32,
  m: f32,
  v: f32,
}

// The rule on one element: w0, m0, v0 its current values, grad_scaled the gradient of the loss
// times the loss scale (in f32). Returns the new values.
fn adam_lane(w0: f32, m0: f32, v0: f32, grad_scaled: f32, c: AdamStep) -> AdamLane {
  let g = grad_scaled * c.inv_scale + params.l2 * w0;
  let m1 = params.beta1 * m0 + (1.0 - params.beta1) * g;
  let v1 = params.beta2 * v0 + (1.0 - params.beta2) * g * g;
  let w1 = w0 * params.decay - c.step_size * m1 / (sqrt(v1) * c.inv_bc2_sqrt + params.eps);
  return AdamLane(w1, m1, v1);
}
