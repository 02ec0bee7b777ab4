// One element of op(A) or op(B) for the GEMM kernels (gemm, gemm_subgroup_matrix): the layout
// switch (TRANS_A / TRANS_B) in one place, and 0 past the edges and past this split's kEnd, so
// shapes need not be tile multiples.

fn loadA(m: u32, k: u32, kEnd: u32) -> T {
  if (m >= params.m || k >= kEnd) { return T(0); }
  if (TRANS_A) { return a[k * params.m + m]; }
  return a[m * params.k + k];
}

fn loadB(k: u32, n: u32, kEnd: u32) -> T {
  if (k >= kEnd || n >= params.n) { return T(0); }
  if (TRANS_B) { return b[n * params.k + k]; }
  return b[k * params.n + n];
}
