// Metrics: adds one batch's loss and accuracy to running sums on the GPU, so that the CPU reads
// them back only every few steps (src/runtime/readback.ts), and advances the batch cursor of the
// plan's slot in the training state.
//   sums[0]: Σ row losses (f32 bits), sums[1]: top-1 correct, sums[2]: top-5 correct,
//   sums[3]: samples, sums[4]: rows with a non-finite logit.
// A row is correct at k when fewer than k classes have a logit strictly greater than the label's
// (ties count for the sample); a row with any NaN or inf logit is never correct.
// One workgroup; invocations stride over rows and are summed in workgroup memory in a fixed order.
// Bindings: logits: array<T> (read), labels: array<u32> (read), row_loss: array<f32> (read),
//   sums: array<u32> (rw), state: array<u32> (rw).
// Uniforms: batch, classes, slot. Dispatch: 1 workgroup.

var<workgroup> loss_part: array<f32, WG_X>;
var<workgroup> top1_part: array<u32, WG_X>;
var<workgroup> top5_part: array<u32, WG_X>;
var<workgroup> bad_part: array<u32, WG_X>;

fn finite(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u;
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn main(@builtin(local_invocation_index) lid: u32) {
  var loss = 0.0;
  var top1 = 0u;
  var top5 = 0u;
  var bad = 0u;
  let classes = params.classes;
  for (var r = lid; r < params.batch; r += WG_X) {
    let base = r * classes;
    let target_logit = f32(logits[base + labels[r]]);
    var greater = 0u;
    var ok = finite(target_logit);
    for (var j = 0u; j < classes; j++) {
      let z = f32(logits[base + j]);
      ok = ok && finite(z);
      greater += select(0u, 1u, z > target_logit);
    }
    loss += row_loss[r];
    if (ok) {
      top1 += select(0u, 1u, greater < 1u);
      top5 += select(0u, 1u, greater < 5u);
    } else {
      bad += 1u;
    }
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
