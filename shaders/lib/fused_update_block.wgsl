// The tensor-core kernel's vector epilogue (gemm_subgroup_matrix.wgsl with the optimizer fused,
// generated after its k loop by src/kernels/gemm-subgroup-matrix.ts): each subgroup stores its
// accumulators into its own UROWS×UW block of `ublock` (all AM×AN at once where they fit, else
// one or more accumulator rows per pass: a barrier after the stores, one before the next pass
// overwrites the block — instead of one store and two barriers per 16×16 fragment), then its
// lanes update that block 16 bytes at a time through lib/fused_update_quad.wgsl: lane l takes
// slots l, l + SG_SIZE, …, so each load of a warp covers whole rows of the block in W, and UQ
// slots' w and moments are loaded before any of them is updated, so their loads are in flight
// together (a store to w could alias the next slot's load as far as the compiler knows, so it
// would not hoist them itself).
// Consts (generator): UROWS = 16 · accumulator rows per pass, UW = FN·AN (a multiple of 4), UQ
// (divides the slots per lane); the block's slots, UROWS·UW/4, a multiple of SG_SIZE. Rows past
// m and columns past n (the direct tiles' clamped fragments, the staged tiles' zero-filled
// edges) are dropped.

const UW4: u32 = UW / 4u;
const SLOTS_PER_LANE: u32 = UROWS * UW4 / SG_SIZE;
var<workgroup> ublock: array<f32, NUM_SG * UROWS * UW>;

// The block of subgroup-local offset `base` in ublock, whose element (0, 0) is dW[grow0, gcol0].
fn update_block(grow0: u32, gcol0: u32, base: u32, lane: u32) {
  let c = step_consts();
  for (var t = 0u; t < SLOTS_PER_LANE; t += UQ) {
    var s: array<Slot, UQ>;
    var js: array<u32, UQ>;
    var ok: array<bool, UQ>;
    for (var u = 0u; u < UQ; u++) {
      let q = lane + (t + u) * SG_SIZE;
      let r = q / UW4;
      let c4 = (q % UW4) * 4u;
      let row = grow0 + r;
      let col = gcol0 + c4;
      let e = base + r * UW + c4;
      ok[u] = row < params.m && col < params.n;
      js[u] = (row * params.n + col) / 4u;
      if (ok[u]) {
        s[u] = load_state(js[u], vec4<f32>(ublock[e], ublock[e + 1u], ublock[e + 2u], ublock[e + 3u]));
      }
    }
    for (var u = 0u; u < UQ; u++) {
      if (ok[u]) {
        finish_quad(js[u], update_slot(s[u], c));
      }
    }
  }
}
