// Adam / AdamW on f32 master weights over a whole slab: the element update (PyTorch's formulation,
// bias corrections on the GPU from the state's step count) is shaders/lib/adam_math.wgsl, shared
// with the fused weight-gradient kernels. Moments and weights are f32; grad is read as T.
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

// (one_minus_pow, apply_update: shaders/lib/adam_math.wgsl)

fn update(i: u32) -> f32 {
  return apply_update(i, f32(grad[i]));
}

// (fn main: shaders/lib/optimizer_step.wgsl)
