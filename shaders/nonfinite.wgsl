// Non-finite detector: sets flag[0] |= 1 if any element of x0, x1, … (one tensor or several of
// one type, checked in one dispatch) is ±inf or NaN. Bit tests only — WGSL has no isinf/isnan,
// and lets compilers assume floats are finite, so `x != x` may be folded away: an element is
// non-finite exactly when its exponent bits are all ones.
//
// Each tensor is bound as raw u32 words whatever its type (two f16 halves per word, low half
// first), so f16 needs no shader-f16. The flag is only ever raised, never cleared: the caller
// resets it (or asks the op to), and the detector can run over several tensors into one flag.
// Bindings: x0, x1, …: array<u32> (read), flag: array<atomic<u32>> (read_write).
// Uniforms: n<i> (elements), words<i> per tensor. Const IS_F16. Dispatch: grid1d over
// ceil(max words / WG_X). The generator writes one check per tensor (the CHECKS marker):
//   if (j < params.words<i>) { bad = bad || bad_word(x<i>[j], 2u * j + 1u < params.n<i>); }

// Whether word w holds a non-finite element; for f16, its high half only where hi_is_element
// (the high half of an odd tensor's last word is padding, which tests poison with NaN).
fn bad_word(w: u32, hi_is_element: bool) -> bool {
  if (IS_F16) {
    return (w & 0x7c00u) == 0x7c00u || (hi_is_element && (w & 0x7c000000u) == 0x7c000000u);
  }
  return (w & 0x7f800000u) == 0x7f800000u;
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let j = (wid.x + wid.y * nwg.x) * WG_X + lid;
  var bad = false;
  /*@CHECKS@*/
  if (bad) {
    atomicOr(&flag[0], 1u);
  }
}
