// Softmax + cross-entropy, forward and backward, always in f32 whatever T is.
//
// Row pass (MEAN_PASS false): one workgroup per row of the [batch, classes] logits, WG_X
// invocations striding over the classes (525 classes = 3 per invocation), two workgroup
// reductions: the row max m, then s = Σ exp(x − m) (max subtraction: exp never overflows, s ≥ 1).
//   row_loss[r] = log(s) − (x[label] − m)                              (WRITE_LOSS)
//   dlogits[r, j] = (exp(x_j − m)/s − [j = label]) · params.grad_scale  (WRITE_GRAD)
// with grad_scale = loss scale · (1/batch) (the gradient of the mean loss, times the loss scale,
// read from the training state so that it can change on the GPU: lib/train_state.wgsl).
// exp is recomputed in the gradient loop rather than kept: a row may be longer than WG_X.
// A label ≥ classes makes the row's loss and its whole gradient row NaN: no read-back is needed
// for the non-finite detector to stop the step.
//
// Mean pass (MEAN_PASS true, one workgroup): loss[0] = Σ row_loss / batch, in a fixed order.
// Two dispatches because WGSL has no float atomics nor a grid-wide barrier.
//
// Bindings: logits: array<T> (read), labels: array<u32> (read), dlogits: array<T> (read_write),
//   row_loss: array<f32> (read_write), loss: array<f32> (read_write).
// Bindings also: state: array<u32> (read). Uniforms: batch, classes, inv_batch. Consts: MEAN_PASS, WRITE_LOSS, WRITE_GRAD; WG_X a power of 2.

// (f16 bit conversions: shaders/lib/f16_bits.wgsl, included by the generator)

// (to_t: shaders/lib/to_t.wgsl)

const F32_LOWEST: f32 = -0x1.fffffep+127f; // the lowest finite f32 (no infinities in WGSL constants)

var<workgroup> red: array<f32, WG_X>;

// Tree reductions over the workgroup; every invocation gets the result. The trailing barrier
// lets the next reduction reuse `red`.
fn reduce_max(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG_X / 2u; s > 0u; s /= 2u) {
    if (lid < s) {
      red[lid] = max(red[lid], red[lid + s]);
    }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

fn reduce_sum(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG_X / 2u; s > 0u; s /= 2u) {
    if (lid < s) {
      red[lid] += red[lid + s];
    }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

fn row_pass(row: u32, lid: u32) {
  let n = params.classes;
  let base = row * n;
  var m = F32_LOWEST;
  for (var j = lid; j < n; j += WG_X) {
    m = max(m, f32(logits[base + j]));
  }
  m = reduce_max(lid, m);
  var s = 0.0;
  for (var j = lid; j < n; j += WG_X) {
    s += exp(f32(logits[base + j]) - m);
  }
  s = reduce_sum(lid, s);

  let label = labels[row];
  let valid = label < n;
  // A runtime NaN (a constant one would be a shader-creation error).
  let nan = bitcast<f32>(0x7fc00000u | (label & 0u));
  if (WRITE_LOSS && lid == 0u) {
    var loss = nan;
    if (valid) {
      loss = log(s) - (f32(logits[base + label]) - m);
    }
    row_loss[row] = loss;
  }
  if (WRITE_GRAD) {
    for (var j = lid; j < n; j += WG_X) {
      var g = exp(f32(logits[base + j]) - m) / s;
      if (j == label) {
        g -= 1.0;
      }
      g *= state_f32(STATE_SCALE) * params.inv_batch;
      if (!valid) {
        g = nan;
      }
      dlogits[base + j] = to_t(g);
    }
  }
}

fn mean_pass(lid: u32) {
  var s = 0.0;
  for (var r = lid; r < params.batch; r += WG_X) {
    s += row_loss[r];
  }
  s = reduce_sum(lid, s);
  if (lid == 0u) {
    loss[0] = s / f32(params.batch);
  }
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  if (MEAN_PASS) {
    mean_pass(lid);
    return;
  }
  let row = wid.x + wid.y * nwg.x;
  if (row >= params.batch) {
    return;
  }
  row_pass(row, lid);
}
