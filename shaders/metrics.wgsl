// Metrics, second pass: adds one batch's loss and accuracy to running sums on the GPU, so that
// the CPU reads them back only every few steps (src/runtime/readback.ts), and advances the batch
// cursor of the plan's slot in the training state.
//   sums[0]: Σ row losses (f32 bits), sums[1]: top-1 correct, sums[2]: top-5 correct,
//   sums[3]: samples, sums[4]: rows with a non-finite logit.
// Each row's accuracy was classified by shaders/metrics_rows.wgsl (one workgroup per row) into
// codes[r]: bit 0 top-1 correct, bit 1 top-5 correct, bit 2 non-finite. Here one workgroup adds
// 2 words a row: invocations stride over rows and are summed in workgroup memory in a fixed order
// (the loss sum is the same, bit for bit, as when one workgroup also classified the rows).
// Bindings: codes: array<u32> (read), row_loss: array<f32> (read), sums: array<u32> (rw),
//   state: array<u32> (rw).
// Uniforms: batch, slot. Dispatch: 1 workgroup.

var<workgroup> loss_part: array<f32, WG_X>;
var<workgroup> top1_part: array<u32, WG_X>;
var<workgroup> top5_part: array<u32, WG_X>;
var<workgroup> bad_part: array<u32, WG_X>;

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn main(@builtin(local_invocation_index) lid: u32) {
  var loss = 0.0;
  var top1 = 0u;
  var top5 = 0u;
  var bad = 0u;
  for (var r = lid; r < params.batch; r += WG_X) {
    let code = codes[r];
    loss += row_loss[r];
    top1 += code & 1u;
    top5 += (code >> 1u) & 1u;
    bad += (code >> 2u) & 1u;
  }
  loss_part[lid] = loss;
  top1_part[lid] = top1;
  top5_part[lid] = top5;
  bad_part[lid] = bad;
  workgroupBarrier();
  for (var s = WG_X / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      loss_part[lid] += loss_part[lid + s];
      top1_part[lid] += top1_part[lid + s];
      top5_part[lid] += top5_part[lid + s];
      bad_part[lid] += bad_part[lid + s];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    sums[0] = bitcast<u32>(bitcast<f32>(sums[0]) + loss_part[0]);
    sums[1] += top1_part[0];
    sums[2] += top5_part[0];
    sums[3] += params.batch;
    sums[4] += bad_part[0];
    state[STATE_CURSOR + params.slot] += params.batch;
  }
}
