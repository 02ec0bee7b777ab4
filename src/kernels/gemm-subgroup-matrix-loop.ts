// The k loops of the tensor-core GEMM's tile kinds (gemm-subgroup-matrix.ts describes the kinds and
// builds the spec): the text the generator writes at shaders/gemm_subgroup_matrix.wgsl's markers —
// accumulator declarations, the loop of each kind with one named variable per fragment and
// accumulator, the direct stores of the results.
import { fragmentShares, type MatrixTile } from "./gemm-subgroup-matrix-tile.js";

/**
 * The generated parts of the shader (markers in shaders/gemm_subgroup_matrix.wgsl): accumulator
 * declarations, the k loop of the tile's kind, the direct stores of the results and the copy
 * into the epilogue's array.
 */
export function tileSnippets(
  tile: MatrixTile,
  transA: boolean,
  transB: boolean,
  storeC: boolean,
): Record<string, string> {
  const fn = tile.fn;
  const L = "subgroup_matrix_left<f16, 16, 16>";
  const R = `subgroup_matrix_right<f16, ${fn}, 16>`;
  const I = [...Array(tile.am).keys()];
  const J = [...Array(tile.an).keys()];
  const pairs = J.flatMap((j) => I.map((i) => [i, j]));
  /** Where accumulator (i, j)'s 16 × FN block starts in C (row-major, N wide). */
  const atC = (i: number, j: number) => `(row0 + sgRow + ${i * 16}u) * params.n + col0 + sgCol + ${j * fn}u`;
  const mma = pairs.map(
    ([i, j]) => `c${i}_${j} = subgroupMatrixMultiplyAccumulate(l${i}, r${j}, c${i}_${j});`,
  );
  /** The direct loads of k step `k`, into variables named with `prefix`. */
  const directLoads = (k: string, decl: string, prefix = "") => [
    ...I.map((i) => {
      const m = `min(row0 + sgRow + ${i * 16}u, params.m - 16u)`;
      return transA
        ? `${decl}${prefix}l${i} = subgroupMatrixLoad<${L}, col_major>(&a, ${k} * params.m + ${m}, params.m);`
        : `${decl}${prefix}l${i} = subgroupMatrixLoad<${L}, row_major>(&a, ${m} * params.k + ${k}, params.k);`;
    }),
    ...J.map((j) => {
      const n = `min(col0 + sgCol + ${j * fn}u, params.n - ${fn}u)`;
      return transB
        ? `${decl}${prefix}r${j} = subgroupMatrixLoad<${R}, col_major>(&b, ${n} * params.k + ${k}, params.k);`
        : `${decl}${prefix}r${j} = subgroupMatrixLoad<${R}, row_major>(&b, ${k} * params.n + ${n}, params.n);`;
    }),
  ];
  let loop: string[];
  if (tile.direct && !tile.pipelined) {
    loop = [
      "for (var k0 = kBegin; k0 < kEnd; k0 += 16u) {",
      ...directLoads("k0", "let ").map((x) => `  ${x}`),
      ...mma.map((x) => `  ${x}`),
      "}",
    ];
  } else if (tile.direct) {
    // Every split spans at least one step (K and the chunk are multiples of 16); the last
    // iteration's look-ahead reloads its own step, which nothing uses.
    loop = [
      ...directLoads("kBegin", "var "),
      "for (var k0 = kBegin; k0 < kEnd; k0 += 16u) {",
      "  let kn = min(k0 + 16u, kEnd - 16u);",
      ...directLoads("kn", "let ", "n").map((x) => `  ${x}`),
      ...mma.map((x) => `  ${x}`),
      ...I.map((i) => `  l${i} = nl${i};`),
      ...J.map((j) => `  r${j} = nr${j};`),
      "}",
    ];
  } else if (tile.fragmentStaged) {
    loop = fragmentStagedLoop(tile, transA, transB, L, R, mma);
  } else if (tile.persistentWorkgroups !== null) {
    loop = persistentLoop(
      STAGING_CALLS[tile.stores],
      stagedMultiply(tile, transA, L, R, mma, false),
      pairs.map(([i, j]) => `c${i}_${j}`),
      `subgroup_matrix_result<f32, ${fn}, 16>`,
      storeC
        ? pairs.map(([i, j]) => `subgroupMatrixStore<row_major>(&c, ${atC(i, j)}, c${i}_${j}, params.n);`)
        : [],
    );
  } else {
    const inner = stagedMultiply(tile, transA, L, R, mma, false);
    const calls = STAGING_CALLS[tile.stores];
    loop = tile.prefetch
      ? [
          `${calls.fetch}A(tid, row0, kBegin, kEnd);`,
          `${calls.fetch}B(tid, col0, kBegin, kEnd);`,
          ...prefetchingKLoop(calls, inner),
        ]
      : [
          "for (var k0 = kBegin; k0 < kEnd; k0 += BK) {",
          "  fetchA(tid, row0, k0, kEnd);",
          "  fetchB(tid, col0, k0, kEnd);",
          "  storeA(tid, row0, k0, kEnd);",
          "  storeB(tid, col0, k0, kEnd);",
          "  workgroupBarrier();",
          ...inner.map((x) => `  ${x}`),
          "  workgroupBarrier();",
          "}",
        ];
  }
  const storeTo = (buf: string, base: string) =>
    pairs.map(
      ([i, j]) => `subgroupMatrixStore<row_major>(&${buf}, ${base}${atC(i, j)}, c${i}_${j}, params.n);`,
    );
  // C is named in a store only when it is an f32 array big enough for one whole matrix.
  const direct = [
    "if (SPLIT_K) {",
    ...storeTo("ws", "wid.z * params.m * params.n + ").map((x) => `  ${x}`),
    ...(storeC ? ["} else {", ...storeTo("c", "").map((x) => `  ${x}`)] : []),
    "}",
  ];
  const join = (xs: string[]) => xs.join("\n  ");
  return {
    ACC_DECL: join(pairs.map(([i, j]) => `var c${i}_${j}: subgroup_matrix_result<f32, ${fn}, 16>;`)),
    MAIN_LOOP: join(loop),
    STORE_DIRECT: join(direct),
    ACC_OUT: join(pairs.map(([i, j]) => `acc[${i * tile.an + j}] = c${i}_${j};`)),
  };
}

/**
 * The staging functions each way of storing calls, by name prefix (fetch<X>A, store<X>B, …):
 * kind b's in the shader, kinds n's and r's in lib/gemm_stage_words.wgsl.
 */
export const STAGING_CALLS: Record<MatrixTile["stores"], StagingCalls> = {
  chunks: { fetch: "fetch", store: "store" },
  words: { fetch: "fetchWords", store: "storeWords" },
  rotated: { fetch: "fetch", store: "storeRot" },
};
interface StagingCalls {
  fetch: string;
  store: string;
}

/**
 * A staged k loop that fetches the next k tile into registers while this one is multiplied
 * (kinds b, n, r, q): store the fetched tile, barrier, fetch the next, `multiply`, barrier. The
 * first tile is fetched before it. `lastFetch`: what to fetch during the last k tile instead
 * (kind q: the next output tile's first k tile).
 */
function prefetchingKLoop(calls: StagingCalls, multiply: string[], lastFetch: string[] = []): string[] {
  return [
    "for (var k0 = kBegin; k0 < kEnd; k0 += BK) {",
    `  ${calls.store}A(tid, row0, k0, kEnd);`,
    `  ${calls.store}B(tid, col0, k0, kEnd);`,
    "  workgroupBarrier();",
    "  if (k0 + BK < kEnd) {",
    `    ${calls.fetch}A(tid, row0, k0 + BK, kEnd);`,
    `    ${calls.fetch}B(tid, col0, k0 + BK, kEnd);`,
    ...(lastFetch.length ? ["  } else {", ...lastFetch.map((x) => `    ${x}`)] : []),
    "  }",
    ...multiply.map((x) => `  ${x}`),
    "  workgroupBarrier();",
    "}",
  ];
}

/**
 * The k loop of a persistent tile (kind q, its staging functions named by `calls`): workgroup
 * wid.x walks the output tiles wid.x, wid.x + params.wgs, … (row-major over the grid of BM × BN
 * tiles; the shape is whole tiles), each as kind b runs one — stage the fetched k tile, barrier,
 * fetch the next, multiply, barrier — except
 * that during a tile's last k tile the next tile's first one is fetched, so its loads are in flight
 * while this tile's results are stored straight from the accumulators (`stores`) and the
 * accumulators are zeroed. Inside `if (params.n != 0u)` and ending in `return`, so the shader's own
 * epilogue after the marker stays reachable code (never run: kind q is refused for epilogues that
 * need it). `row0` and `col0` are shadowed per tile, so the staging calls, the stores and the
 * multiply read the tile being computed.
 */
export function persistentLoop(
  calls: StagingCalls,
  multiply: string[],
  accs: string[],
  accType: string,
  stores: string[],
): string[] {
  return [
    "if (params.n != 0u) {",
    "  let tilesN = params.n / BN;",
    "  let tiles = tilesN * (params.m / BM);",
    "  var t = wid.x;",
    `  ${calls.fetch}A(tid, (t / tilesN) * BM, kBegin, kEnd);`,
    `  ${calls.fetch}B(tid, (t % tilesN) * BN, kBegin, kEnd);`,
    "  for (; t < tiles; t += params.wgs) {",
    "    let row0 = (t / tilesN) * BM;",
    "    let col0 = (t % tilesN) * BN;",
    "    let next = t + params.wgs;",
    ...prefetchingKLoop(calls, multiply, [
      "if (next < tiles) {",
      `  ${calls.fetch}A(tid, (next / tilesN) * BM, kBegin, kEnd);`,
      `  ${calls.fetch}B(tid, (next % tilesN) * BN, kBegin, kEnd);`,
      "}",
    ]).map((x) => `    ${x}`),
    ...stores.map((x) => `    ${x}`),
    ...accs.map((c) => `    ${c} = ${accType}();`),
    "  }",
    "  return;",
    "}",
  ];
}

/**
 * A staged tile's multiply of the k tile in workgroup memory, 16 deep at a time: each subgroup's
 * fragments of A and B loaded from the tile, then its multiply-adds. `stopAtKEnd`: steps at or
 * past this split's kEnd are skipped (the fragment-staged kind, whose k tiles are not zero-filled).
 */
function stagedMultiply(
  tile: MatrixTile,
  transA: boolean,
  L: string,
  R: string,
  mma: string[],
  stopAtKEnd: boolean,
): string[] {
  const I = [...Array(tile.am).keys()];
  const J = [...Array(tile.an).keys()];
  return [
    "for (var kk = 0u; kk < BK; kk += 16u) {",
    ...(stopAtKEnd ? ["  if (k0 + kk >= kEnd) { break; }"] : []),
    // Aᵀ is staged in its stored order, k-major (the shader's LDA): its fragments load column-major.
    ...I.map((i) =>
      transA
        ? `  let l${i} = subgroupMatrixLoad<${L}, col_major>(&tileA, kk * LDA + sgRow + ${i * 16}u, LDA);`
        : `  let l${i} = subgroupMatrixLoad<${L}, row_major>(&tileA, (sgRow + ${i * 16}u) * LDA + kk, LDA);`,
    ),
    ...J.map(
      (j) =>
        `  let r${j} = subgroupMatrixLoad<${R}, row_major>(&tileB, kk * LDB + sgCol + ${j * tile.fn}u, LDB);`,
    ),
    ...mma.map((x) => `  ${x}`),
    "}",
  ];
}

/**
 * The k loop of a fragment-staged tile (kind c). Fragment f of a k tile's A (B) is staged by
 * subgroup f % NUM_SG: A's fragments numbered row-major over (BM/16) × (BK/16), B's over
 * (BK/16) × (BN/FN). Loaded from storage at clamped positions (rows and columns past M and N
 * duplicate the last full fragment, as the direct tiles do, and the epilogue drops them; k past K
 * re-reads its last fragment), stored into the same tile layout the other staged kinds use (Aᵀ
 * k-major, see LDA), then multiplied as theirs are; a k step at or past this split's kEnd (K an
 * odd multiple of 16) is skipped. The next tile's fragments are loaded before this one is
 * multiplied, into their own named variables.
 */
function fragmentStagedLoop(
  tile: MatrixTile,
  transA: boolean,
  transB: boolean,
  L: string,
  R: string,
  mma: string[],
): string[] {
  const fn = tile.fn;
  const kf = tile.bk / 16;
  const nb = tile.sgCols * tile.an;
  const shares = fragmentShares(tile);
  const A = [...Array(shares.a).keys()];
  const B = [...Array(shares.b).keys()];
  const sgs = tile.sgRows * tile.sgCols;
  const fidx = (t: number) => `(${t * sgs}u + sg)`;
  const kAt = (k: string, fk: string) => `min(${k} + ${fk} * 16u, params.k - 16u)`;
  // Share t's fragment of A at row block fi, k block fk; of B at k block fk, column block fj.
  const posA = (t: number) => ({ fi: `${fidx(t)} / ${kf}u`, fk: `${fidx(t)} % ${kf}u` });
  const posB = (t: number) => ({ fk: `${fidx(t)} / ${nb}u`, fj: `${fidx(t)} % ${nb}u` });
  const loadA = (t: number, k: string) => {
    const { fi, fk } = posA(t);
    const m = `min(row0 + ${fi} * 16u, params.m - 16u)`;
    return transA
      ? `subgroupMatrixLoad<${L}, col_major>(&a, ${kAt(k, fk)} * params.m + ${m}, params.m)`
      : `subgroupMatrixLoad<${L}, row_major>(&a, ${m} * params.k + ${kAt(k, fk)}, params.k)`;
  };
  const storeA = (t: number) => {
    const { fi, fk } = posA(t);
    return transA
      ? `subgroupMatrixStore<col_major>(&tileA, (${fk}) * 16u * LDA + (${fi}) * 16u, fa${t}, LDA);`
      : `subgroupMatrixStore<row_major>(&tileA, (${fi}) * 16u * LDA + (${fk}) * 16u, fa${t}, LDA);`;
  };
  const loadB = (t: number, k: string) => {
    const { fk, fj } = posB(t);
    const n = `min(col0 + ${fj} * ${fn}u, params.n - ${fn}u)`;
    return transB
      ? `subgroupMatrixLoad<${R}, col_major>(&b, ${n} * params.k + ${kAt(k, fk)}, params.k)`
      : `subgroupMatrixLoad<${R}, row_major>(&b, ${kAt(k, fk)} * params.n + ${n}, params.n)`;
  };
  const storeB = (t: number) => {
    const { fk, fj } = posB(t);
    return `subgroupMatrixStore<row_major>(&tileB, (${fk}) * 16u * LDB + (${fj}) * ${fn}u, fb${t}, LDB);`;
  };
  return [
    // The vector views are named so every tile's pipeline has the same bindings (never read here).
    "if (params.k == 0u) { _ = a4[0]; _ = b4[0]; }",
    ...A.map((t) => `var fa${t} = ${loadA(t, "kBegin")};`),
    ...B.map((t) => `var fb${t} = ${loadB(t, "kBegin")};`),
    "for (var k0 = kBegin; k0 < kEnd; k0 += BK) {",
    ...A.map((t) => `  ${storeA(t)}`),
    ...B.map((t) => `  ${storeB(t)}`),
    "  workgroupBarrier();",
    ...A.map((t) => `  let nfa${t} = ${loadA(t, "k0 + BK")};`),
    ...B.map((t) => `  let nfb${t} = ${loadB(t, "k0 + BK")};`),
    ...stagedMultiply(tile, transA, L, R, mma, true).map((x) => `  ${x}`),
    "  workgroupBarrier();",
    ...A.map((t) => `  fa${t} = nfa${t};`),
    ...B.map((t) => `  fb${t} = nfb${t};`),
    "}",
  ];
}
