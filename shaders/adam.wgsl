// Adam / AdamW on f32 master weights, PyTorch's formulation (torch.optim.Adam / AdamW):
//   g = grad / loss_scale + l2 · w                (Adam's weight decay: L2 in the gradient)
//   w = w · decay                                 (AdamW: decay = 1 − lr · weight_decay)
//   m = β1 · m + (1 − β1) · g
//   v = β2 · v + (1 − β2) · g²
//   w = w − step_size · m / (sqrt(v) · inv_bc2_sqrt + eps)
// with step_size = lr / (1 − β1^t) and inv_bc2_sqrt = 1 / sqrt(1 − β2^t), the bias corrections,
// computed here in f32 from t = state steps + 1 (lib/train_state.wgsl) and ln β (f64 on the CPU),
// as PyTorch's `capturable` Adam does on the GPU. Moments and weights are f32; grad is read as T.
// loss_scale is the state's: the gradient is multiplied by its reciprocal.
// WRITE_COPY also writes the f16 copy of the new w.
//
// When flag[0] ≠ 0 (non-finite gradients this step) nothing is written: w, m, v and the copy keep
// their values, with no read-back on the CPU.
//
// Each invocation updates two adjacent elements so that the packed f16 copy (two halves per u32
// word, low first, converted bit-exactly) never has two writers per word.
// Bindings: w, m, v: array<f32> (rw), grad: array<T> (read), flag: array<u32> (read),
//   copy: array<u32> (rw), state: array<u32> (read).
// Uniforms: n, lr, beta1, beta2, eps, l2, decay, ln_beta1, ln_beta2.
// Const WRITE_COPY. Dispatch: grid1d over ceil(ceil(n / 2) / WG_X) workgroups.

// (f16 bit conversions: shaders/lib/f16_bits.wgsl, included by the generator)

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

fn update(i: u32) -> f32 {
  let t = f32(state[STATE_STEPS] + 1u);
  let step_size = params.lr / one_minus_pow(params.ln_beta1, t);
  let inv_bc2_sqrt = 1.0 / sqrt(one_minus_pow(params.ln_beta2, t));
  let w0 = w[i];
  let g = f32(grad[i]) * state_f32(STATE_INV_SCALE) + params.l2 * w0;
  let m1 = params.beta1 * m[i] + (1.0 - params.beta1) * g;
  let v1 = params.beta2 * v[i] + (1.0 - params.beta2) * g * g;
  m[i] = m1;
  v[i] = v1;
  let w1 = w0 * params.decay - step_size * m1 / (sqrt(v1) * inv_bc2_sqrt + params.eps);
  w[i] = w1;
  return w1;
}

// (fn main: shaders/lib/optimizer_step.wgsl)
