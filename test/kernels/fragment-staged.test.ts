// The fragment-staged tensor-core tiles (kind c) on any adapter: their k loop is generated text
// that only a GPU with subgroup matrices can run, so this test runs its index arithmetic on the
// CPU instead. It takes the offsets of every load and store from the generated WGSL, evaluates
// them as WGSL's unsigned integer expressions, and moves 16×16 fragments the way
// subgroupMatrixLoad / subgroupMatrixStore / subgroupMatrixMultiplyAccumulate define (row- or
// column-major, with a stride) through a model of the workgroup's tiles — the loop's structure
// (stage, barrier, multiply each 16-deep step before kEnd, barrier) is the kind's documented one.
// The result, over every workgroup and K split, must equal the float64 product of small integers
// exactly. A wrong offset in the generator (a fragment stored where another is read, a share
// staged twice or never) changes some element.
import { describe, expect, it } from "vitest";
import { kSplits } from "../../src/kernels/gemm-split-k.js";
import { type MatrixTile, matrixTile, matrixTileDims } from "../../src/kernels/gemm-subgroup-matrix.js";
import { tileSnippets } from "../../src/kernels/gemm-subgroup-matrix-loop.js";
import { gemmReference } from "../../src/kernels/reference/gemm.js";
import { seededRandom } from "../../src/util/rng.js";

/** Evaluates a WGSL u32 expression of + - * / % min() over named values (integer division). */
function evalU32(expr: string, vars: Record<string, number>): number {
  const tokens = expr.match(/\d+u?|[A-Za-z_][\w.]*|[-+*/%(),]/g);
  if (!tokens) throw new Error(`no tokens in ${expr}`);
  let i = 0;
  const peek = () => tokens[i];
  const next = () => tokens[i++];
  const primary = (): number => {
    const t = next();
    if (t === "(") {
      const v = sum();
      if (next() !== ")") throw new Error(`unbalanced: ${expr}`);
      return v;
    }
    if (t === "min") {
      if (next() !== "(") throw new Error(`min without (: ${expr}`);
      const a = sum();
      if (next() !== ",") throw new Error(`min without ,: ${expr}`);
      const b = sum();
      if (next() !== ")") throw new Error(`min without ): ${expr}`);
      return Math.min(a, b);
    }
    if (/^\d/.test(t)) return Number(t.replace(/u$/, ""));
    if (!(t in vars)) throw new Error(`unknown name ${t} in ${expr}`);
    return vars[t];
  };
  const product = (): number => {
    let v = primary();
    while (peek() === "*" || peek() === "/" || peek() === "%") {
      const op = next();
      const r = primary();
      v = op === "*" ? v * r : op === "/" ? Math.floor(v / r) : v % r;
    }
    return v;
  };
  const sum = (): number => {
    let v = product();
    while (peek() === "+" || peek() === "-") {
      const op = next();
      const r = product();
      v = op === "+" ? v + r : v - r;
      if (v < 0) throw new Error(`u32 underflow in ${expr}`);
    }
    return v;
  };
  const v = sum();
  if (i !== tokens.length) throw new Error(`trailing tokens in ${expr}`);
  return v;
}

/** A fragment: rows × cols values. */
type Frag = Float64Array[];

function loadFrag(
  src: ArrayLike<number>,
  off: number,
  stride: number,
  rows: number,
  cols: number,
  col: boolean,
) {
  const f: Frag = [];
  for (let r = 0; r < rows; r++) {
    f.push(new Float64Array(cols));
    for (let c = 0; c < cols; c++) {
      const at = col ? off + c * stride + r : off + r * stride + c;
      if (at >= src.length) throw new Error(`load past the end: ${at} ≥ ${src.length}`);
      f[r][c] = src[at];
    }
  }
  return f;
}

function storeFrag(dst: Float64Array, off: number, stride: number, f: Frag, col: boolean) {
  for (let r = 0; r < f.length; r++)
    for (let c = 0; c < f[r].length; c++) {
      const at = col ? off + c * stride + r : off + r * stride + c;
      if (at >= dst.length) throw new Error(`store past the tile: ${at} ≥ ${dst.length}`);
      dst[at] = f[r][c];
    }
}

interface Access {
  name: string;
  col: boolean;
  offset: string;
}

/** The generated loop's loads and stores, by the variable they fill or store. */
function parseLoop(text: string) {
  const loads = new Map<string, Access & { buffer: string }>();
  const stores: (Access & { buffer: string })[] = [];
  for (const line of text.split("\n").map((l) => l.trim())) {
    const ld =
      /^(?:var |let )?(\w+) = subgroupMatrixLoad<.*, (row|col)_major>\(&(\w+), (.*), ([\w.]+)\);$/.exec(line);
    if (ld) loads.set(ld[1], { name: ld[1], col: ld[2] === "col", buffer: ld[3], offset: ld[4] });
    const st = /^subgroupMatrixStore<(row|col)_major>\(&(\w+), (.*), (\w+), (\w+)\);$/.exec(line);
    if (st) stores.push({ name: st[4], col: st[1] === "col", buffer: st[2], offset: st[3] });
  }
  return { loads, stores };
}

/** C = op(A)·op(B) through the generated fragment-staged loop, every workgroup and split. */
function runTile(
  tile: MatrixTile,
  s: { m: number; n: number; k: number; transA: boolean; transB: boolean },
  A: Float64Array,
  B: Float64Array,
  splitK?: number,
): Float64Array {
  const { m: M, n: N, k: K, transA, transB } = s;
  const { MAIN_LOOP } = tileSnippets(tile, transA, transB, false);
  const { loads, stores } = parseLoop(MAIN_LOOP);
  const fn = tile.fn;
  const BM = tile.sgRows * tile.am * 16;
  const BN = tile.sgCols * tile.an * fn;
  const BK = tile.bk;
  const LDA = transA ? BM + tile.pad : BK + tile.pad;
  const LDB = BN + tile.pad;
  const sgs = tile.sgRows * tile.sgCols;
  const { kchunk, used } = kSplits(s, matrixTileDims(tile), splitK);
  const C = new Float64Array(M * N);
  const shares = stores.filter((x) => x.buffer === "tileA").map((x) => x.name);
  const sharesB = stores.filter((x) => x.buffer === "tileB").map((x) => x.name);
  expect(shares.length, "A fragments staged per subgroup").toBeGreaterThan(0);
  expect(sharesB.length, "B fragments staged per subgroup").toBeGreaterThan(0);
  for (let wz = 0; wz < used; wz++)
    for (let wy = 0; wy < Math.ceil(M / BM); wy++)
      for (let wx = 0; wx < Math.ceil(N / BN); wx++) {
        const row0 = wy * BM;
        const col0 = wx * BN;
        const kBegin = wz * kchunk;
        const kEnd = Math.min(K, kBegin + kchunk);
        const base = { row0, col0, kBegin, BK, LDA, LDB, "params.m": M, "params.n": N, "params.k": K };
        const tileA = new Float64Array((transA ? BK : BM) * LDA).fill(Number.NaN);
        const tileB = new Float64Array(BK * LDB).fill(Number.NaN);
        const acc = new Map<string, Frag>();
        const at = (sg: number) => ({
          sgRow: Math.floor(sg / tile.sgCols) * tile.am * 16,
          sgCol: (sg % tile.sgCols) * tile.an * fn,
        });
        // Each subgroup's staged fragments, from storage (the first tile's, then a tile ahead).
        const fetch = (sg: number, k0: number, prefix: string) => {
          const out = new Map<string, Frag>();
          for (const name of [...shares, ...sharesB]) {
            const l = loads.get(`${prefix}${name}`);
            if (!l) throw new Error(`no load of ${prefix}${name}`);
            const vars = { ...base, sg, k0, ...at(sg) };
            const isA = l.buffer === "a";
            const src = isA ? A : B;
            const stride = isA ? (transA ? M : K) : transB ? K : N;
            out.set(name, loadFrag(src, evalU32(l.offset, vars), stride, 16, isA ? 16 : fn, l.col));
          }
          return out;
        };
        let held = [...Array(sgs).keys()].map((sg) => fetch(sg, kBegin, ""));
        for (let k0 = kBegin; k0 < kEnd; k0 += BK) {
          for (let sg = 0; sg < sgs; sg++)
            for (const st of stores) {
              const vars = { ...base, sg, k0, ...at(sg) };
              const dst = st.buffer === "tileA" ? tileA : tileB;
              storeFrag(
                dst,
                evalU32(st.offset, vars),
                st.buffer === "tileA" ? LDA : LDB,
                held[sg].get(st.name) as Frag,
                st.col,
              );
            }
          // (barrier) the next tile's fragments, then the multiply of this one's 16-deep steps.
          const ahead = [...Array(sgs).keys()].map((sg) => fetch(sg, k0, "n"));
          for (let kk = 0; kk < BK && k0 + kk < kEnd; kk += 16)
            for (let sg = 0; sg < sgs; sg++) {
              const vars = { ...base, sg, k0, kk, ...at(sg) };
              const frag = (name: string) => {
                const l = loads.get(name) as Access & { buffer: string };
                const isA = l.buffer === "tileA";
                return loadFrag(
                  isA ? tileA : tileB,
                  evalU32(l.offset, vars),
                  isA ? LDA : LDB,
                  16,
                  isA ? 16 : fn,
                  l.col,
                );
              };
              for (let i = 0; i < tile.am; i++) {
                const L = frag(`l${i}`);
                for (let j = 0; j < tile.an; j++) {
                  const R = frag(`r${j}`);
                  const key = `${sg}:${i}:${j}`;
                  const c = acc.get(key) ?? [...Array(16)].map(() => new Float64Array(fn));
                  for (let r = 0; r < 16; r++)
                    for (let q = 0; q < fn; q++) for (let t = 0; t < 16; t++) c[r][q] += L[r][t] * R[t][q];
                  acc.set(key, c);
                }
              }
            }
          held = ahead; // (barrier) the fragments fetched ahead become this step's
        }
        // The epilogue: each accumulator to its place in C, rows and columns past M, N dropped.
        for (const [key, c] of acc) {
          const [sg, i, j] = key.split(":").map(Number);
          const { sgRow, sgCol } = at(sg);
          for (let r = 0; r < 16; r++)
            for (let q = 0; q < fn; q++) {
              const row = row0 + sgRow + i * 16 + r;
              const col = col0 + sgCol + j * fn + q;
              if (row < M && col < N) C[row * N + col] += c[r][q];
            }
        }
      }
  return C;
}

describe("fragment-staged tensor-core tiles (kind c), their generated indexing on the CPU", () => {
  const cases: [string, number, number, number, number?][] = [
    // [tile, M, N, K, split-K]: edge tiles whose clamped fragments duplicate rows and columns; K
    // ending half-way into a k tile (48, 1040, 1552's last split); several splits.
    ["c2x2a4x4", 48, 80, 272],
    ["c2x2a4x4", 144, 32, 1040, 2],
    ["c2x4a4x4", 128, 272, 48],
    ["c2x4a4x4", 272, 48, 1552, 3],
    ["c1x2a1x4", 32, 160, 80],
  ];
  for (const [name, m, n, k, splitK] of cases)
    for (const [transA, transB] of [
      [false, false],
      [true, false],
      [false, true],
    ])
      it(`${name} ${m}×${n}×${k}${transA ? " Aᵀ" : ""}${transB ? " Bᵀ" : ""}${splitK ? ` split ${splitK}` : ""}`, () => {
        const rnd = seededRandom(m * 7919 + n * 31 + k + (transA ? 1 : 0) + (transB ? 2 : 0));
        // Small integers: every product and sum exact, so the comparison is equality.
        const int = () => Math.floor(rnd() * 7) - 3;
        const A = Float64Array.from({ length: m * k }, int);
        const B = Float64Array.from({ length: k * n }, int);
        const s = { m, n, k, transA, transB };
        const got = runTile(matrixTile(name), s, A, B, splitK);
        const want = gemmReference(A, B, null, null, { ...s, alpha: 1, beta: 0, relu: false }).c;
        const wrong = [...want.keys()].filter((i) => got[i] !== want[i]);
        expect(wrong.length, `first wrong: ${wrong[0]} got ${got[wrong[0]]} want ${want[wrong[0]]}`).toBe(0);
      });
});
