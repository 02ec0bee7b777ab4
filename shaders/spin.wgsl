// Busy load that raises a GPU's clocks before a measured phase (src/experiment/clock-ramp.ts).
// Each invocation j iterates Numerical Recipes' LCG x ← x·1664525 + 1013904223 (mod 2³²) `iters`
// times from x₀ = j ^ seed and stores x: integer multiply-adds that keep every SM busy, cannot be
// folded away (the result is stored), and can be checked exactly on the host.
// Bindings: out: array<u32> (read_write). Uniforms: n (invocations), iters, seed.
// Dispatch: grid1d over ceil(n / WG_X).

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let j = (wid.x + wid.y * nwg.x) * WG_X + lid;
  if (j >= params.n) {
    return;
  }
  var x = j ^ params.seed;
  for (var i = 0u; i < params.iters; i++) {
    x = x * 1664525u + 1013904223u;
  }
  out[j] = x;
}
