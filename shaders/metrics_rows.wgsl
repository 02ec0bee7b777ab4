// Metrics, first pass: one workgroup per row of logits classifies the row into a code —
//   bit 0: top-1 correct, bit 1: top-5 correct, bit 2: a non-finite logit (never correct) —
// which shaders/metrics.wgsl then sums with the row losses. A row is correct at k when fewer than
// k classes have a logit strictly greater than the label's (ties count for the sample).
// The row's classes are strided over the workgroup (adjacent threads read adjacent logits) and
// counted in workgroup memory; rows past the batch (the grid's rounding) return at once, whole
// workgroups at a time, so the barriers stay in uniform control flow.
// Bindings: logits: array<T> (read), labels: array<u32> (read), codes: array<u32> (rw, [batch]).
// Uniforms: batch, classes. Dispatch: grid1d over batch workgroups.

var<workgroup> greater_part: array<u32, WG_X>;
var<workgroup> bad_part: array<u32, WG_X>;

fn finite(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u;
}

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let r = wid.x + wid.y * nwg.x;
  if (r >= params.batch) {
    return;
  }
  let classes = params.classes;
  let base = r * classes;
  let target_logit = f32(logits[base + labels[r]]);
  var greater = 0u;
  var bad = select(1u, 0u, finite(target_logit));
  for (var j = lid; j < classes; j += WG_X) {
    let z = f32(logits[base + j]);
    bad |= select(1u, 0u, finite(z));
    greater += select(0u, 1u, z > target_logit);
  }
  greater_part[lid] = greater;
  bad_part[lid] = bad;
  workgroupBarrier();
  for (var s = WG_X / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      greater_part[lid] += greater_part[lid + s];
      bad_part[lid] |= bad_part[lid + s];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let g = greater_part[0];
    codes[r] = select(select(0u, 1u, g < 1u) | select(0u, 2u, g < 5u), 4u, bad_part[0] != 0u);
  }
}
