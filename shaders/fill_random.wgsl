// Fills a tensor with uniform values in [lo, hi) from a counter-based hash (PCG output
// function of index ⊕ seed): the same seed gives the same tensor on any GPU, with no
// host-side generation or upload (the classifier's first weight matrix has 308M elements).

fn pcgHash(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG_X + lid;
  if (i >= params.count) { return; }
  let h = pcgHash(i ^ pcgHash(params.seed));
  let u = f32(h >> 8u) * (1.0 / 16777216.0); // 24 random bits -> [0, 1)
  out[i] = T(params.lo + (params.hi - params.lo) * u);
}
