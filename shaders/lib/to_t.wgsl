// f32 -> T with IEEE overflow to ±inf and kept subnormals, for ops whose output type T may be
// f16 (needs lib/f16_bits, the alias TV8 and the const T_IS_F16 from the op's spec).

// The T whose bits are h (f16: the low 16 bits). TV8 is the 8-byte vector of T (vec4<f16> or
// vec2<f32>), so this one line is valid WGSL for both element types.
fn t_from_bits(h: u32) -> T {
  return bitcast<TV8>(vec2<u32>(h, 0u)).x;
}

// f32 -> T. For f16, the hardware conversion in the normal range [2^-14, 65504], where it rounds
// to a neighbour; outside it the exact integer path, so overflow gives ±inf (never an
// indeterminate value) and subnormal gradients are not flushed to zero.
fn to_t(x: f32) -> T {
  if (!T_IS_F16) {
    return T(x);
  }
  let a = bitcast<u32>(x) & 0x7fffffffu;
  if (a >= 0x38800000u && a <= 0x477fe000u) {
    return T(x);
  }
  return t_from_bits(f32bits_to_f16bits(bitcast<u32>(x)));
}
