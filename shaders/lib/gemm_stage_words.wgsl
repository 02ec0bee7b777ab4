// Staging without bank conflicts for the tensor-core GEMM (gemm_subgroup_matrix.wgsl, tile kinds
// n and r; experiments in dev/gemm-tiles.ts). Kind b fetches a 16-byte chunk (8 halves) a thread
// and stores it into workgroup memory as 8 two-byte stores, so in each store of a subgroup the 32
// lanes write 16 bytes apart: four lanes on every bank, four passes a store, unless the driver's
// compiler merges the 8 stores into one (which the index clamps of Dawn's robustness checks may
// prevent).
//
// Kind n: each thread fetches one 32-bit word (2 halves) at a time, consecutive threads on
// consecutive words, so a subgroup's fetch still reads 128 contiguous bytes and each of its
// two-byte stores writes 64 contiguous bytes: every lane on its own bank. Four times the fetch
// instructions of kind b, the same number of stores, and the same registers between fetch and
// store (a tile's words spread over the workgroup). Only with VEC_A (VEC_B): the contiguous
// direction is a multiple of 8, so a word never straddles a row and lies in the a4 (b4) view;
// otherwise the element path of storeA (storeB).

const WORDS_A: u32 = (BM * BK / 2u + WG_X - 1u) / WG_X;
const WORDS_B: u32 = (BK * BN / 2u + WG_X - 1u) / WG_X;
var<private> wordsA: array<u32, WORDS_A>;
var<private> wordsB: array<u32, WORDS_B>;

// Word l of the A tile: the (m, k) of its first half; its second is at m + 1 (Aᵀ, stored [K,M])
// or k + 1 (A, stored [M,K]).
fn wordPosA(l: u32) -> vec2<u32> {
  if (TRANS_A) { return vec2<u32>((l % (BM / 2u)) * 2u, l / (BM / 2u)); }
  return vec2<u32>(l / (BK / 2u), (l % (BK / 2u)) * 2u);
}

// Word l of the B tile: the (k, n) of its first half; its second is at k + 1 (Bᵀ) or n + 1 (B).
fn wordPosB(l: u32) -> vec2<u32> {
  if (TRANS_B) { return vec2<u32>((l % (BK / 2u)) * 2u, l / (BK / 2u)); }
  return vec2<u32>(l / (BN / 2u), (l % (BN / 2u)) * 2u);
}

// Storage → registers, zeros past the edges and past this split's kEnd (both halves of a word
// lie on the same side of either: M, K and kEnd are even where VEC_A holds).
fn fetchWordsA(tid: u32, row0: u32, k0: u32, kEnd: u32) {
  if (!VEC_A) { return; }
  for (var i = 0u; i < WORDS_A; i++) {
    let l = tid + i * WG_X;
    let mk = wordPosA(l);
    let gm = row0 + mk.x;
    let gk = k0 + mk.y;
    var w = 0u;
    if (l < BM * BK / 2u && gk < kEnd && gm < params.m) {
      var h: u32;
      if (TRANS_A) { h = gk * params.m + gm; } else { h = gm * params.k + gk; }
      w = a4[h / 8u][(h / 2u) % 4u];
    }
    wordsA[i] = w;
  }
}

fn fetchWordsB(tid: u32, col0: u32, k0: u32, kEnd: u32) {
  if (!VEC_B) { return; }
  for (var i = 0u; i < WORDS_B; i++) {
    let l = tid + i * WG_X;
    let kn = wordPosB(l);
    let gk = k0 + kn.x;
    let gn = col0 + kn.y;
    var w = 0u;
    if (l < BK * BN / 2u && gk < kEnd && gn < params.n) {
      var h: u32;
      if (TRANS_B) { h = gn * params.k + gk; } else { h = gk * params.n + gn; }
      w = b4[h / 8u][(h / 2u) % 4u];
    }
    wordsB[i] = w;
  }
}

// Registers → workgroup memory (VEC_A), or element by element from storage (storeA).
fn storeWordsA(tid: u32, row0: u32, k0: u32, kEnd: u32) {
  if (!VEC_A) {
    storeA(tid, row0, k0, kEnd);
    return;
  }
  for (var i = 0u; i < WORDS_A; i++) {
    let l = tid + i * WG_X;
    if (l >= BM * BK / 2u) { break; }
    let mk = wordPosA(l);
    let h = bitcast<vec2<f16>>(wordsA[i]);
    tileA[tileAAt(mk.x, mk.y)] = h.x;
    if (TRANS_A) { tileA[tileAAt(mk.x + 1u, mk.y)] = h.y; } else { tileA[tileAAt(mk.x, mk.y + 1u)] = h.y; }
  }
}

fn storeWordsB(tid: u32, col0: u32, k0: u32, kEnd: u32) {
  if (!VEC_B) {
    storeB(tid, col0, k0, kEnd);
    return;
  }
  for (var i = 0u; i < WORDS_B; i++) {
    let l = tid + i * WG_X;
    if (l >= BK * BN / 2u) { break; }
    let kn = wordPosB(l);
    let h = bitcast<vec2<f16>>(wordsB[i]);
    tileB[kn.x * LDB + kn.y] = h.x;
    if (TRANS_B) { tileB[(kn.x + 1u) * LDB + kn.y] = h.y; } else { tileB[kn.x * LDB + kn.y + 1u] = h.y; }
  }
}

// Kind r: kind b's 16-byte fetches kept, each chunk's 8 two-byte stores made in a rotated order,
// starting at half 2·((tid / 8) mod 4), so that in each store the lanes 8, 16 and 24 apart (on
// the same banks in kind b's order) write different words of their chunks: every lane on its own
// bank with 16-lane rows of chunks (Aᵀ and B, 128 or 256 wide). The order only moves the stores;
// any order stages the same tile. The half is picked from the chunk's word by a lane-dependent
// index (select code, not an array in memory).
fn storeRotA(tid: u32, row0: u32, k0: u32, kEnd: u32) {
  if (!VEC_A) {
    storeA(tid, row0, k0, kEnd);
    return;
  }
  let rot = 2u * ((tid >> 3u) & 3u);
  for (var i = 0u; i < CHUNKS_A; i++) {
    let l = tid + i * WG_X;
    if (l >= BM * BK / 8u) { break; }
    let mk = chunkA(l);
    let w = fetchedA[i];
    for (var s = 0u; s < 8u; s++) {
      let e = (s + rot) & 7u;
      let h = bitcast<vec2<f16>>(w[e >> 1u])[e & 1u];
      if (TRANS_A) { tileA[tileAAt(mk.x + e, mk.y)] = h; } else { tileA[tileAAt(mk.x, mk.y + e)] = h; }
    }
  }
}

fn storeRotB(tid: u32, col0: u32, k0: u32, kEnd: u32) {
  if (!VEC_B) {
    storeB(tid, col0, k0, kEnd);
    return;
  }
  let rot = 2u * ((tid >> 3u) & 3u);
  for (var i = 0u; i < CHUNKS_B; i++) {
    let l = tid + i * WG_X;
    if (l >= BK * BN / 8u) { break; }
    let kn = chunkB(l);
    let w = fetchedB[i];
    for (var s = 0u; s < 8u; s++) {
      let e = (s + rot) & 7u;
      let h = bitcast<vec2<f16>>(w[e >> 1u])[e & 1u];
      if (TRANS_B) { tileB[(kn.x + e) * LDB + kn.y] = h; } else { tileB[kn.x * LDB + kn.y + e] = h; }
    }
  }
}
