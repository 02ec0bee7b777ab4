// Bias gradient: db[c] = Σ_r dy[r, c] over a row-major [rows, cols] dy, accumulated in f32
// whatever T is (a 256-row f16 sum would lose ~8 bits otherwise), written as f32.
//
// A workgroup owns WG_X adjacent columns, so each row's read is one contiguous run; its WG_Y
// invocation rows split the rows (r ≡ lid.y mod WG_Y) and are summed in workgroup memory in a
// fixed order, so the result is deterministic.
//
// Bindings: dy: array<T> (read), db: array<f32> (read_write).
// Uniforms: rows, cols. Const ACCUMULATE: db += Σ (gradient accumulation) instead of db = Σ.
// Dispatch: grid1d over ceil(cols / WG_X) workgroups.

var<workgroup> partial: array<f32, WG_X * WG_Y>;

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
) {
  let col = (wid.x + wid.y * nwg.x) * WG_X + lid.x;
  let cols = params.cols;
  var acc = 0.0;
  if (col < cols) {
    for (var r = lid.y; r < params.rows; r += WG_Y) {
      acc += f32(dy[r * cols + col]);
    }
  }
  partial[lid.y * WG_X + lid.x] = acc;
  workgroupBarrier();
  if (lid.y == 0u && col < cols) {
    var s = partial[lid.x];
    for (var k = 1u; k < WG_Y; k++) {
      s += partial[k * WG_X + lid.x];
    }
    if (ACCUMULATE) {
      s += db[col];
    }
    db[col] = s;
  }
}
