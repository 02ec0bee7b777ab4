// Non-finite detector: sets flag[0] |= 1 if any element of x is ±inf or NaN. Bit tests only —
// WGSL has no isinf/isnan, and lets compilers assume floats are finite, so `x != x` may be folded
// away: an element is non-finite exactly when its exponent bits are all ones.
//
// x is bound as raw u32 words whatever its type (two f16 halves per word, low half first), so f16
// needs no shader-f16. The flag is only ever raised, never cleared: the caller resets it (or asks
// the op to), and the detector can run over several tensors into one flag.
// Bindings: x: array<u32> (read), flag: array<atomic<u32>> (read_write).
// Uniforms: n (elements), words. Const IS_F16. Dispatch: grid1d over ceil(words / WG_X).

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let j = (wid.x + wid.y * nwg.x) * WG_X + lid;
  if (j >= params.words) {
    return;
  }
  let w = x[j];
  var bad: bool;
  if (IS_F16) {
    // The high half of an odd tensor's last word is padding (tests poison it with NaN): skip it.
    let hi_is_element = 2u * j + 1u < params.n;
    bad = (w & 0x7c00u) == 0x7c00u || (hi_is_element && (w & 0x7c000000u) == 0x7c000000u);
  } else {
    bad = (w & 0x7f800000u) == 0x7f800000u;
  }
  if (bad) {
    atomicOr(&flag[0], 1u);
  }
}
