// The tensor-core GEMM's staging of op(A) and op(B) tiles into workgroup memory, on any adapter:
// kind b's (16-byte chunks, gemm_subgroup_matrix.wgsl), its element path (contiguous directions
// not multiples of 8), and the experiments of lib/gemm_stage_words.wgsl — kind n (32-bit words) and
// kind r (kind b's chunks stored in a rotated order). The tiles are multiplied only by subgroup
// matrices (GPU-only tests in gemm.test.ts), but the staging is plain WGSL: this test compiles the
// shader's own module-scope code (everything before its entry point: the tile layout, fetches and
// stores) with the libraries into a harness that declares what the generator would (constants,
// uniforms, bindings), lets every workgroup of a (column tile, row tile, k tile) grid stage its A
// and B tiles, and copies the tiles out. Expectation, from the layout's definition (not from the
// code): element (m, k) of the staged A tile is op(A)[row0 + m][k0 + k] — at k·(BM+PAD) + m for
// Aᵀ, m·(BK+PAD) + k for A — and element (k, n) of B's is op(B)[k0 + k][col0 + n] at
// k·(BN+PAD) + n; 0 past M, N and the split's kEnd. Bit for bit (staging is a copy), every non-pad
// element, outputs poisoned with NaN. Below, the same harness runs kind q's persistent walk.
import { describe, expect, it } from "vitest";
import { f16BitsToF32, f32ToF16Bits } from "../../src/kernels/f16.js";
import { persistentLoop, STAGING_CALLS } from "../../src/kernels/gemm-subgroup-matrix-loop.js";
import { shaderBody, sync } from "../../src/kernels/program.js";
import {
  createTensor,
  destroyTensor,
  download,
  type Tensor,
  tensorFrom,
  upload,
} from "../../src/kernels/tensor.js";
import { useGpu } from "../helpers/gpu.js";

const env = useGpu("gemm-stage");

/** Each kind's way of storing its staged tiles (its fetch and store functions: STAGING_CALLS). */
const KINDS = { b: "chunks", n: "words", r: "rotated" } as const;

interface Case {
  kind: keyof typeof KINDS;
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  /** The split's end of K (a split-K chunk's boundary; K itself without split-K). */
  kEnd: number;
  /** Workgroup tile, as b2x2a4x4 (128 × 128, 128 threads) or b2x4a4x4 (128 × 256, 256 threads). */
  bm: number;
  bn: number;
  threads: number;
}

const BK = 32;
const PAD = 8;

/** Whether gemm() would stage this case's A (B) by vectors: its contiguous direction a multiple of 8. */
const vecA = (c: Case) => (c.transA ? c.m : c.k) % 8 === 0;
const vecB = (c: Case) => (c.transB ? c.k : c.n) % 8 === 0;

/**
 * What the generator would declare for gemm_subgroup_matrix.wgsl (its constants, the uniforms
 * m, n, k and a fourth named `last`, bindings a, b, a4, b4 and then `outputs`), the libraries, and
 * the shader's own module-scope code — everything a harness's entry point needs.
 */
function harnessModule(o: {
  threads: number;
  bm: number;
  bn: number;
  transA: boolean;
  transB: boolean;
  vecA: boolean;
  vecB: boolean;
  last: string;
  outputs: string[];
}): string {
  const moduleScope = shaderBody("gemm_subgroup_matrix").split("@compute")[0];
  return `enable f16;
alias T = f16;
const WG_X: u32 = ${o.threads}u;
const BM: u32 = ${o.bm}u;
const BN: u32 = ${o.bn}u;
const BK: u32 = ${BK}u;
const PAD: u32 = ${PAD}u;
const FN: u32 = 16u;
const NUM_SG: u32 = ${o.threads / 32}u;
const DIRECT: bool = false;
const TRANS_A: bool = ${o.transA};
const TRANS_B: bool = ${o.transB};
const VEC_A: bool = ${o.vecA};
const VEC_B: bool = ${o.vecB};
struct Params { m: u32, n: u32, k: u32, ${o.last}: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f16>;
@group(0) @binding(2) var<storage, read> b: array<f16>;
@group(0) @binding(3) var<storage, read> a4: array<vec4<u32>>;
@group(0) @binding(4) var<storage, read> b4: array<vec4<u32>>;
${o.outputs.map((name, i) => `@group(0) @binding(${5 + i}) var<storage, read_write> ${name}: array<f32>;`).join("\n")}
${shaderBody("lib/gemm_load")}
${shaderBody("lib/gemm_stage_words")}
${moduleScope}`;
}

function harness(c: Case): string {
  const { fetch, store } = STAGING_CALLS[KINDS[c.kind]];
  const lda = c.transA ? c.bm + PAD : BK + PAD;
  const aRows = c.transA ? BK : c.bm;
  const ldb = c.bn + PAD;
  const module = harnessModule({
    ...c,
    vecA: vecA(c),
    vecB: vecB(c),
    last: "kEnd",
    outputs: ["outA", "outB"],
  });
  return `${module}
const TILE_A: u32 = ${aRows * lda}u;
const TILE_B: u32 = ${BK * ldb}u;
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) tid: u32) {
  let row0 = wid.y * BM;
  let col0 = wid.x * BN;
  let k0 = wid.z * BK;
  ${fetch}A(tid, row0, k0, params.kEnd);
  ${fetch}B(tid, col0, k0, params.kEnd);
  ${store}A(tid, row0, k0, params.kEnd);
  ${store}B(tid, col0, k0, params.kEnd);
  workgroupBarrier();
  let g = (wid.z * nwg.y + wid.y) * nwg.x + wid.x;
  for (var i = tid; i < TILE_A; i += WG_X) { outA[g * TILE_A + i] = f32(tileA[i]); }
  for (var i = tid; i < TILE_B; i += WG_X) { outB[g * TILE_B + i] = f32(tileB[i]); }
}
`;
}

/** Distinct non-zero halves (the staged tiles' zeros past the edges then stand out). */
function halves(rng: () => number, count: number): number[] {
  return Array.from({ length: count }, () =>
    f16BitsToF32(f32ToF16Bits((rng() < 0.5 ? -1 : 1) * (1 + rng() * 1000))),
  );
}

/**
 * Compiles `code`, binds a uniform buffer of the u32 `uniforms` at binding 0 and `tensors` after it,
 * dispatches `grid` and waits. Returns the uniform buffer (the caller destroys it).
 */
async function runHarness(
  code: string,
  uniforms: number[],
  tensors: Tensor[],
  grid: [number, number, number],
): Promise<GPUBuffer> {
  const { device } = env.ctx;
  const params = device.createBuffer({
    size: 16 * Math.ceil(uniforms.length / 4),
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  device.queue.writeBuffer(params, 0, new Uint32Array(uniforms));
  const module = device.createShaderModule({ code });
  const pipeline = await device.createComputePipelineAsync({
    layout: "auto",
    compute: { module, entryPoint: "main" },
  });
  const bind = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [params, ...tensors.map((t) => t.buffer)].map((buffer, binding) => ({
      binding,
      resource: { buffer },
    })),
  });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bind);
  pass.dispatchWorkgroups(...grid);
  pass.end();
  device.queue.submit([enc.finish()]);
  await sync(env.ctx, "gemm staging harness");
  return params;
}

async function stage(c: Case): Promise<void> {
  const { ctx, rng } = env;
  const a = halves(rng, c.m * c.k); // op(A) [M,K], stored [K,M] when transposed
  const b = halves(rng, c.k * c.n); // op(B) [K,N], stored [N,K] when transposed
  const A = await tensorFrom(ctx, "f16", c.transA ? [c.k, c.m] : [c.m, c.k], a, "A");
  const B = await tensorFrom(ctx, "f16", c.transB ? [c.n, c.k] : [c.k, c.n], b, "B");
  const opA = (m: number, k: number) => (c.transA ? a[k * c.m + m] : a[m * c.k + k]);
  const opB = (k: number, n: number) => (c.transB ? b[n * c.k + k] : b[k * c.n + n]);
  const gx = Math.ceil(c.n / c.bn);
  const gy = Math.ceil(c.m / c.bm);
  const gz = Math.ceil(c.k / BK);
  const lda = c.transA ? c.bm + PAD : BK + PAD;
  const tileA = (c.transA ? BK : c.bm) * lda;
  const tileB = BK * (c.bn + PAD);
  const groups = gx * gy * gz;
  const outA = await createTensor(ctx, "f32", [groups * tileA], "outA");
  const outB = await createTensor(ctx, "f32", [groups * tileB], "outB");
  upload(ctx, outA, new Array(outA.size).fill(Number.NaN));
  upload(ctx, outB, new Array(outB.size).fill(Number.NaN));
  const params = await runHarness(
    harness(c),
    [c.m, c.n, c.k, c.kEnd],
    [A, B, A, B, outA, outB],
    [gx, gy, gz],
  );
  const gotA = (await download(ctx, outA)) as Float32Array;
  const gotB = (await download(ctx, outB)) as Float32Array;
  const what = `kind ${c.kind} (${vecA(c) ? "A by vectors" : "A by elements"}, ${vecB(c) ? "B by vectors" : "B by elements"}) ${c.transA ? "Aᵀ" : "A"} ${c.transB ? "Bᵀ" : "B"} ${c.m}×${c.n}×${c.k} kEnd ${c.kEnd}, tile ${c.bm}×${c.bn}, ${c.threads} threads (seed ${env.seed})`;
  const bad: string[] = [];
  for (let z = 0; z < gz; z++)
    for (let y = 0; y < gy; y++)
      for (let x = 0; x < gx; x++) {
        const g = (z * gy + y) * gx + x;
        const [row0, col0, k0] = [y * c.bm, x * c.bn, z * BK];
        for (let kk = 0; kk < BK; kk++) {
          const gk = k0 + kk;
          for (let mm = 0; mm < c.bm; mm++) {
            const gm = row0 + mm;
            const want = gm < c.m && gk < c.kEnd ? opA(gm, gk) : 0;
            const at = c.transA ? kk * lda + mm : mm * lda + kk;
            const got = gotA[g * tileA + at];
            if (!Object.is(got, want) && bad.length < 5)
              bad.push(`A tile ${g} (m ${gm}, k ${gk}): ${got}, want ${want}`);
          }
          for (let nn = 0; nn < c.bn; nn++) {
            const gn = col0 + nn;
            const want = gn < c.n && gk < c.kEnd ? opB(gk, gn) : 0;
            const got = gotB[g * tileB + kk * (c.bn + PAD) + nn];
            if (!Object.is(got, want) && bad.length < 5)
              bad.push(`B tile ${g} (k ${gk}, n ${gn}): ${got}, want ${want}`);
          }
        }
      }
  expect(bad, what).toEqual([]);
  params.destroy();
  destroyTensor(A, B, outA, outB);
}

describe("the tensor-core GEMM's staging (gemm_subgroup_matrix.wgsl, lib/gemm_stage_words.wgsl)", () => {
  const forms = [
    { transA: false, transB: false },
    { transA: true, transB: false },
    { transA: false, transB: true },
    { transA: true, transB: true },
  ];
  for (const kind of ["b", "n", "r"] as const)
    for (const f of forms)
      it(`kind ${kind}, ${f.transA ? "Aᵀ" : "A"}, ${f.transB ? "Bᵀ" : "B"}: every staged half where the layout puts it, zeros past the edges and kEnd`, async () => {
        // Every edge ragged (M, N, K multiples of 8, the vector paths, not of the tile); a split
        // that ends inside a k tile and leaves whole k tiles past it; 256 threads on a 128 × 256
        // tile; and odd sizes (the element path of every kind).
        await stage({ kind, ...f, m: 136, n: 264, k: 200, kEnd: 200, bm: 128, bn: 128, threads: 128 });
        await stage({ kind, ...f, m: 136, n: 264, k: 200, kEnd: 88, bm: 128, bn: 128, threads: 128 });
        await stage({ kind, ...f, m: 264, n: 40, k: 72, kEnd: 72, bm: 128, bn: 256, threads: 256 });
        await stage({ kind, ...f, m: 131, n: 37, k: 45, kEnd: 45, bm: 128, bn: 128, threads: 128 });
      });
});

// The persistent tile's walk (kind q, persistentLoop): the generated loop — which tile each
// workgroup takes next, the next tile's first k tile fetched during this one's last, the shadowed
// row0 / col0, the accumulators reset — with the tensor-core multiply and stores swapped for plain
// code (each thread a strided share of the BM × BN tile's outputs in a private array), so it runs
// here. Expectation: the float64 product of small integers (exact in f32 in any order), every
// element of C, C poisoned with NaN first; grids of fewer workgroups than tiles (each walks
// several), one workgroup (walks all), as many as tiles.
interface WalkCase {
  /** The staging the walk calls (kind q's default, qn's, qr's). */
  stores: keyof typeof STAGING_CALLS;
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  workgroups: number;
}

const WALK_BM = 64;
const WALK_BN = 64;
const WALK_THREADS = 128;
const WALK_OUTS = (WALK_BM * WALK_BN) / WALK_THREADS;

function walkHarness(c: WalkCase): string {
  const multiply = [
    "for (var i = 0u; i < OUTS; i++) {",
    "  let e = tid + i * WG_X;",
    "  var s = acc[i];",
    "  for (var kk = 0u; kk < BK; kk++) { s += f32(tileA[tileAAt(e / BN, kk)]) * f32(tileB[kk * LDB + e % BN]); }",
    "  acc[i] = s;",
    "}",
  ];
  const stores = [
    "for (var i = 0u; i < OUTS; i++) {",
    "  let e = tid + i * WG_X;",
    "  c[(row0 + e / BN) * params.n + col0 + e % BN] = acc[i];",
    "}",
  ];
  const loop = persistentLoop(STAGING_CALLS[c.stores], multiply, ["acc"], "array<f32, OUTS>", stores);
  const module = harnessModule({
    threads: WALK_THREADS,
    bm: WALK_BM,
    bn: WALK_BN,
    transA: c.transA,
    transB: c.transB,
    vecA: true,
    vecB: true,
    last: "wgs",
    outputs: ["c"],
  });
  return `${module}
const OUTS: u32 = ${WALK_OUTS}u;
var<private> acc: array<f32, OUTS>;
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let kBegin = 0u;
  let kEnd = params.k;
  ${loop.join("\n  ")}
}
`;
}

async function walk(c: WalkCase): Promise<void> {
  const { ctx, rng } = env;
  const ints = (count: number) => Array.from({ length: count }, () => Math.floor(rng() * 9) - 4);
  const a = ints(c.m * c.k);
  const b = ints(c.k * c.n);
  const A = await tensorFrom(ctx, "f16", c.transA ? [c.k, c.m] : [c.m, c.k], a, "A");
  const B = await tensorFrom(ctx, "f16", c.transB ? [c.n, c.k] : [c.k, c.n], b, "B");
  const C = await createTensor(ctx, "f32", [c.m, c.n], "C");
  upload(ctx, C, new Array(C.size).fill(Number.NaN));
  const tiles = (c.m / WALK_BM) * (c.n / WALK_BN);
  const grid = Math.min(c.workgroups, tiles);
  const params = await runHarness(walkHarness(c), [c.m, c.n, c.k, grid], [A, B, A, B, C], [grid, 1, 1]);
  const got = (await download(ctx, C)) as Float32Array;
  const bad: string[] = [];
  for (let i = 0; i < c.m; i++)
    for (let j = 0; j < c.n; j++) {
      let want = 0;
      for (let k = 0; k < c.k; k++)
        want += (c.transA ? a[k * c.m + i] : a[i * c.k + k]) * (c.transB ? b[j * c.k + k] : b[k * c.n + j]);
      const g = got[i * c.n + j];
      if (g !== want && bad.length < 5) bad.push(`C[${i}][${j}] = ${g}, want ${want}`);
    }
  const what = `${c.stores} staging, ${c.transA ? "Aᵀ" : "A"} ${c.transB ? "Bᵀ" : "B"} ${c.m}×${c.n}×${c.k}, ${tiles} tiles on ${grid} workgroups (seed ${env.seed})`;
  expect(bad, what).toEqual([]);
  params.destroy();
  destroyTensor(A, B, C);
}

describe("the persistent tile's walk through the output tiles (kind q, persistentLoop)", () => {
  for (const f of [
    { transA: false, transB: false },
    { transA: true, transB: false },
  ])
    it(`${f.transA ? "Aᵀ" : "A"}·B: every tile computed once, from its own k tiles, by grids smaller than, equal to and of one workgroup`, async () => {
      // 3 × 2 tiles; K = 200 ends a quarter into its last k tile (and each tile's first k tile is
      // the one fetched during the previous tile's last).
      for (const workgroups of [4, 1, 6])
        await walk({ stores: "chunks", ...f, m: 192, n: 128, k: 200, workgroups });
      // One k tile: the next tile's fetch happens in the only iteration.
      await walk({ stores: "chunks", ...f, m: 128, n: 192, k: 32, workgroups: 2 });
      // Kinds qn and qr: the walk with the other stagings.
      await walk({ stores: "words", ...f, m: 192, n: 128, k: 200, workgroups: 4 });
      await walk({ stores: "rotated", ...f, m: 192, n: 128, k: 200, workgroups: 4 });
    });
});
