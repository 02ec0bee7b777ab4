// End of a training step, on the GPU (one invocation): counts the step as applied or skipped and
// updates the dynamic loss scale as PyTorch's GradScaler does (torch.amp.GradScaler.update):
//   non-finite gradients (flag set): the optimizer wrote nothing; skipped += 1, and with DYNAMIC
//     scale ·= backoff, good = 0;
//   otherwise: steps += 1 (Adam's t), and with DYNAMIC good += 1; when good reaches the interval,
//     scale ·= growth (kept only if finite, as PyTorch) and good = 0.
// 1/scale is recomputed beside it. Then the flag is cleared for the next step's detector.
// Bindings: flag: array<u32> (rw), state: array<u32> (rw).
// Uniforms: growth, backoff, interval. Const DYNAMIC. Dispatch: 1 workgroup of 1.

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn main() {
  var scale = state_f32(STATE_SCALE);
  if (flag[0] != 0u) {
    state[STATE_SKIPPED] += 1u;
    if (DYNAMIC) {
      scale = scale * params.backoff;
      state[STATE_GOOD] = 0u;
    }
  } else {
    state[STATE_STEPS] += 1u;
    if (DYNAMIC) {
      let good = state[STATE_GOOD] + 1u;
      if (good >= params.interval) {
        let grown = scale * params.growth;
        if ((bitcast<u32>(grown) & 0x7f800000u) != 0x7f800000u) {
          scale = grown;
        }
        state[STATE_GOOD] = 0u;
      } else {
        state[STATE_GOOD] = good;
      }
    }
  }
  state[STATE_SCALE] = bitcast<u32>(scale);
  state[STATE_INV_SCALE] = bitcast<u32>(1.0 / scale);
  flag[0] = 0u;
}
