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

// (f16 bit conversions: shaders/lib/f16_bits.wgsl, included by the generator)

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
