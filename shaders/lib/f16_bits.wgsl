// f16 bit conversions in integer arithmetic, shared by cast, softmax_xent, image_normalize, sgd
// and adam (listed in their specs' `includes`; the generator inserts this file before their body).
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

// Two f32 values as one word of f16 bits (lo in the low half), each rounded as above.
fn pack_half2(lo: f32, hi: f32) -> u32 {
  return f32bits_to_f16bits(bitcast<u32>(lo)) | (f32bits_to_f16bits(bitcast<u32>(hi)) << 16u);
}
