// Image normalization: a uint8 NHWC RGB batch -> T, y = (x/255 − mean[c]) / std[c], computed in
// f32 as one multiply-add x·scale[c] + bias[c] (scale = 1/(255·std), bias = −mean/std, prepared on
// the CPU). The output keeps the input's order, [batch, H·W·3] flattened HWC, which is what the
// dense classifier reads. Every image holds H·W·3 bytes, a multiple of 3, so a byte's channel is
// its global index mod 3.
//
// Each invocation reads one u32 word = 4 packed bytes (byte k at bits 8k) and writes 4 outputs.
// Bindings: pixels: array<u32> (read), y: array<T> (read_write).
// Uniforms: n (elements), scale0..2, bias0..2. Dispatch: grid1d over ceil(ceil(n / 4) / WG_X).

// (f16 bit conversions: shaders/lib/f16_bits.wgsl, included by the generator)

// (to_t: shaders/lib/to_t.wgsl)

@compute @workgroup_size(WG_X, WG_Y, WG_Z)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let j = (wid.x + wid.y * nwg.x) * WG_X + lid;
  let first = 4u * j;
  if (first >= params.n) {
    return;
  }
  let scale = vec3<f32>(params.scale0, params.scale1, params.scale2);
  let bias = vec3<f32>(params.bias0, params.bias1, params.bias2);
  let word = pixels[j];
  for (var k = 0u; k < 4u; k++) {
    let i = first + k;
    if (i < params.n) {
      let c = i % 3u;
      let v = f32((word >> (8u * k)) & 0xffu);
      y[i] = to_t(v * scale[c] + bias[c]);
    }
  }
}
