// ReLU backward: dx = dy where the forward output y > 0, else exactly 0 (PyTorch's
// threshold_backward). y may be the forward output or the pre-activation: relu(z) > 0 ⟺ z > 0.
// A masked position gives 0 even when dy is inf/NaN, as in PyTorch; an unmasked non-finite dy
// passes through unchanged for the non-finite detector to see. One element per invocation.
//
// Bindings: dy: array<T> (read), y: array<T> (read), dx: array<T> (read_write).
// Uniforms: n (elements). Dispatch: grid1d over ceil(n / WG_X) workgroups.

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = (wid.x + wid.y * nwg.x) * WG_X + lid;
  if (i >= params.n) {
    return;
  }
  dx[i] = select(T(0), dy[i], y[i] > T(0));
}
