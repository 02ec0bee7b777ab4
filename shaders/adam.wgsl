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

// ---- f16 bit conversions: kept identical in cast, softmax_xent, image_normalize, sgd and adam
// (test/kernels/cast.test.ts checks it). Integer-only, so exact on every GPU: WGSL leaves an
// out-of-range f32 -> f16 conversion indeterminate and lets in-range ones round either way. ----

// binary32 bits -> binary16 bits, IEEE round to nearest even. |x| >= 65520 and ±inf give ±inf
// (so an overflow stays visible to the non-finite detector), NaN a quiet NaN, values below half
// the smallest subnormal ±0; subnormals are kept, never flushed.
fn f32bits_to_f16bits(b: u32) -> u32 {
  let sign = (b >> 16u) & 0x8000u;
  let exp = (b >> 23u) & 0xffu;
  var mant = b & 0x7fffffu;
  if (exp == 0xffu) {
    return sign | 0x7c00u | select(0u, 0x200u | (mant >> 13u), mant != 0u);
  }
  let e = i32(exp) - 112; // rebias 127 -> 15
  if (e >= 0x1f) {
    return sign | 0x7c00u;
  }
  if (e <= 0) {
    if (e < -10) {
      return sign;
    }
    mant |= 0x800000u;
    let shift = u32(14 - e);
    var sub = mant >> shift;
    let rem = mant & ((1u << shift) - 1u);
    let mid = 1u << (shift - 1u);
    if (rem > mid || (rem == mid && (sub & 1u) != 0u)) {
      sub += 1u;
    }
    return sign | sub;
  }
  var h = (u32(e) << 10u) | (mant >> 13u);
  let rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u) != 0u)) {
    h += 1u; // a carry into the exponent is the correct rounding (up to inf)
  }
  return sign | h;
}

// binary16 bits (low 16 bits of h) -> binary32 bits, exact: subnormals normalized, inf and NaN kept.
fn f16bits_to_f32bits(h: u32) -> u32 {
  let sign = (h & 0x8000u) << 16u;
  let exp = (h >> 10u) & 0x1fu;
  let mant = h & 0x3ffu;
  if (exp == 0x1fu) {
    return sign | 0x7f800000u | (mant << 13u);
  }
  if (exp == 0u) {
    if (mant == 0u) {
      return sign;
    }
    let p = firstLeadingBit(mant); // value = 2^(p-24) · 1.f
    return sign | ((p + 103u) << 23u) | ((mant << (23u - p)) & 0x7fffffu);
  }
  return sign | ((exp + 112u) << 23u) | (mant << 13u);
}
// ---- end of f16 bit conversions ----

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

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  if (flag[0] != 0u) {
    return;
  }
  let j = (wid.x + wid.y * nwg.x) * WG_X + lid;
  let i = 2u * j;
  if (i >= params.n) {
    return;
  }
  let lo = update(i);
  var hi = 0.0; // an odd tensor's padding half of the copy is written as +0
  if (i + 1u < params.n) {
    hi = update(i + 1u);
  }
  if (WRITE_COPY) {
    copy[j] = f32bits_to_f16bits(bitcast<u32>(lo)) | (f32bits_to_f16bits(bitcast<u32>(hi)) << 16u);
  }
}
