// Adam / AdamW on f32 master weights, PyTorch's formulation (torch.optim.Adam / AdamW):
//   g = grad / loss_scale + l2 · w                (Adam's weight decay: L2 in the gradient)
//   w = w · decay                                 (AdamW: decay = 1 − lr · weight_decay)
//   m = β1 · m + (1 − β1) · g
//   v = β2 · v + (1 − β2) · g²
//   w = w − step_size · m / (sqrt(v) · inv_bc2_sqrt + eps)
// with step_size = lr / (1 − β1^t) and inv_bc2_sqrt = 1 / sqrt(1 − β2^t), the bias corrections,
// computed in f64 on the CPU from the step t. Moments and weights are f32; grad is read as T.
// WRITE_COPY also writes the f16 copy of the new w.
//
// When flag[0] ≠ 0 (non-finite gradients this step) nothing is written: w, m, v and the copy keep
// their values, with no read-back on the CPU.
//
// Each invocation updates two adjacent elements so that the packed f16 copy (two halves per u32
// word, low first, converted bit-exactly) never has two writers per word.
// Bindings: w, m, v: array<f32> (rw), grad: array<T> (read), flag: array<u32> (read),
//   copy: array<u32> (rw).
// Uniforms: n, step_size, inv_bc2_sqrt, beta1, beta2, eps, inv_scale, l2, decay.
// Const WRITE_COPY. Dispatch: grid1d over ceil(ceil(n / 2) / WG_X) workgroups.

// (f16 bit conversions: shaders/lib/f16_bits.wgsl, included by the generator)

fn update(i: u32) -> f32 {
  let w0 = w[i];
  let g = f32(grad[i]) * params.inv_scale + params.l2 * w0;
  let m1 = params.beta1 * m[i] + (1.0 - params.beta1) * g;
  let v1 = params.beta2 * v[i] + (1.0 - params.beta2) * g * g;
  m[i] = m1;
  v[i] = v1;
  let w1 = w0 * params.decay - params.step_size * m1 / (sqrt(v1) * params.inv_bc2_sqrt + params.eps);
  w[i] = w1;
  return w1;
}

// (fn main: shaders/lib/optimizer_step.wgsl)
