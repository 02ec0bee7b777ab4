// Finishes a split-K GEMM: C = alpha · Σ_z ws[z] + beta · C (+ bias[col]) (then ReLU).
// The partial sums are f32, so splitting K changes only the order of the f32 additions.

@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * nwg.x) * WG_X + lid;
  let mn = params.m * params.n;
  if (idx >= mn) { return; }
  var s = 0.0;
  for (var z = 0u; z < params.splits; z++) { s += ws[z * mn + idx]; }
  var v = params.alpha * s;
  if (USE_BETA) { v += params.beta * f32(c[idx]); }
  if (HAS_BIAS) { v += f32(bias[idx % params.n]); }
  if (RELU) { v = max(v, 0.0); }
  c[idx] = TC(v);
}
