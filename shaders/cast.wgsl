// Cast between f32 and f16, both ways, bit-exact IEEE: f32 -> f16 rounds to nearest even,
// overflows to ±inf (65520 and up; 65504 < |x| < 65520 rounds to ±65504), keeps NaN (quiet) and
// subnormals; f16 -> f32 is exact. Integer arithmetic only: no shader-f16 needed, and no
// dependence on how a GPU converts or flushes.
//
// Both sides are bound as raw u32 words (the f16 side holds two halves per word, low half first),
// so each invocation owns one f16 word = two elements and no two invocations write one word.
// Bindings: src: array<u32> (read), dst: array<u32> (read_write).
// Uniforms: n (elements). Const TO_F16: f32 -> f16, else f16 -> f32.
// Dispatch: grid1d over ceil(ceil(n / 2) / WG_X) workgroups.

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

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let j = (wid.x + wid.y * nwg.x) * WG_X + lid; // f16 word
  let i = 2u * j; // its first element
  if (i >= params.n) {
    return;
  }
  let second = i + 1u < params.n;
  if (TO_F16) {
    var hi = 0u; // an odd tensor's padding half is written as +0
    if (second) {
      hi = f32bits_to_f16bits(src[i + 1u]);
    }
    dst[j] = f32bits_to_f16bits(src[i]) | (hi << 16u);
  } else {
    let w = src[j];
    dst[i] = f16bits_to_f32bits(w & 0xffffu);
    if (second) {
      dst[i + 1u] = f16bits_to_f32bits(w >> 16u);
    }
  }
}
