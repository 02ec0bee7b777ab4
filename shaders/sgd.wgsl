// SGD with momentum on f32 master weights, PyTorch's convention (torch.optim.SGD, dampening 0):
//   g = grad / loss_scale + weight_decay · w      (L2 decay folded into the gradient)
//   v = momentum · v + g                          (v starts at 0, so step 1 gives v = g as in PyTorch)
//   w = w − lr · v                                (NESTEROV: w = w − lr · (g + momentum · v))
// all in f32, grad read as T. WRITE_COPY also writes the f16 copy of the new w that the f16
// forward pass reads.
//
// When flag[0] ≠ 0 (the non-finite detector saw inf/NaN in this step's gradients) nothing is
// written at all — w, v and the copy keep their values, as PyTorch's GradScaler skips
// optimizer.step() — and the CPU never has to read the flag back.
//
// Each invocation updates two adjacent elements, because the f16 copy is written as packed u32
// words (two halves, low first, converted bit-exactly): two invocations never share a word.
// Bindings: w: array<f32> (rw), vel: array<f32> (rw), grad: array<T> (read), flag: array<u32>
//   (read), copy: array<u32> (rw), state: array<u32> (read; 1 / loss scale from lib/train_state).
// Uniforms: n, lr, momentum, weight_decay.
// Consts: NESTEROV, WRITE_COPY. Dispatch: grid1d over ceil(ceil(n / 2) / WG_X) workgroups.

// (f16 bit conversions: shaders/lib/f16_bits.wgsl, included by the generator)

// (apply_update: shaders/lib/sgd_math.wgsl)

fn update(i: u32) -> f32 {
  return apply_update(i, f32(grad[i]));
}

// (fn main: shaders/lib/optimizer_step.wgsl)
