// The training state: one small u32 buffer shared by a step's kernels, so that values which
// change from step to step (the loss scale, Adam's step count, the batch cursor) live on the GPU,
// are updated there, and never need a read-back or a new uniform buffer. Word layout (the CPU side
// is src/runtime/train-state.ts; keep the two in step):
const STATE_SCALE: u32 = 0u;     // f32 bits: the loss scale S (1 in f32 training)
const STATE_INV_SCALE: u32 = 1u; // f32 bits: 1/S, as PyTorch's GradScaler (reciprocal, then multiply)
const STATE_STEPS: u32 = 2u;     // optimizer steps applied so far; Adam's t for this step is this + 1
const STATE_GOOD: u32 = 3u;      // clean steps since the scale last changed
const STATE_SKIPPED: u32 = 4u;   // steps skipped for non-finite gradients, in all
const STATE_CURSOR: u32 = 8u;    // 8 + slot: the position of the next batch in its epoch's order

fn state_f32(word: u32) -> f32 {
  return bitcast<f32>(state[word]);
}
