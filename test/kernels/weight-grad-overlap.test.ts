import { describe, expect, it } from "vitest";
import { KernelInputError } from "../../src/gpu/errors.js";
import { TILES } from "../../src/kernels/gemm.js";
import { MATRIX_TILES, matrixUnsupportedReason } from "../../src/kernels/gemm-subgroup-matrix.js";
import {
  createTensor,
  destroyTensor,
  downloadF32,
  fill,
  type Tensor,
  tensorFrom,
} from "../../src/kernels/tensor.js";
import {
  describeWeightGradOverlap,
  type WeightGradOverlapOptions,
  weightGradOverlap,
} from "../../src/kernels/weight-grad-overlap.js";
import type { UpdateRule } from "../../src/kernels/weight-update.js";
import { expectClose, useGpu } from "../helpers/gpu.js";
import { normal, uniform } from "../helpers/rng.js";
import {
  adamRef,
  expectBits,
  f16Bits,
  f32Bits,
  quantize,
  rawWords,
  sgdRef,
  smallInts,
  unzip,
  xtdz,
} from "./reference.js";

// The weight gradient with the optimizer overlapped beside it (src/kernels/weight-grad-overlap.ts)
// against the same float64 references as the fused kernel's test: dW = Xᵀ·dZ in float64 (X and dZ
// small integers times powers of two, so every partial sum is exact in f32 and the stored dW must
// equal the reference bit for bit), then one optimizer step by PyTorch's rules with bounds for the
// f32 arithmetic. dW's buffer and the f16 copy are poisoned with NaN first: a slot the GEMM never
// stores, or one the optimizer reads before its chunk was stored, turns w NaN; a slot updated
// twice, or never, misses the reference's moments. The chunk counts put the interleaved chunks
// (row of tiles y in chunk y % chunks) past several rows of tiles, the last one partial.
const env = useGpu("weight-grad-overlap");

interface Case {
  k: number;
  m: number;
  n: number;
  dtype: "f32" | "f16";
  rule: UpdateRule;
  lossScale: number;
  step: number;
  copy: boolean;
  options: WeightGradOverlapOptions;
}

async function runCase(c: Case, flagValue?: number) {
  const { ctx, rng, seed } = env;
  const { k, m, n } = c;
  const x0 = smallInts(rng, k * m, 2 ** -4);
  const dz0 = smallInts(rng, k * n, 2 ** -6 * c.lossScale);
  const w0 = quantize(normal(rng, m * n, 0, 0.05), "f32");
  const m0 = quantize(normal(rng, m * n, 0, 0.01), "f32");
  const v0 = quantize(uniform(rng, m * n, 1e-6, 1e-3), "f32");
  const x = await tensorFrom(ctx, c.dtype, [k, m], x0, "x");
  const dz = await tensorFrom(ctx, c.dtype, [k, n], dz0, "dz");
  const w = await tensorFrom(ctx, "f32", [m, n], w0, "w");
  const g = await createTensor(ctx, "f32", [m, n], "g");
  fill(ctx, g, Number.NaN);
  const mt = await tensorFrom(ctx, "f32", [m * n], m0, "m");
  const vt = c.rule.name === "adam" ? await tensorFrom(ctx, "f32", [m * n], v0, "v") : undefined;
  let wHalf: Tensor | undefined;
  if (c.copy) {
    wHalf = await createTensor(ctx, "f16", [m * n], "wHalf");
    fill(ctx, wHalf, Number.NaN);
  }
  const flag = flagValue === undefined ? undefined : await tensorFrom(ctx, "u32", [1], [flagValue], "flag");
  const before = await Promise.all(
    [w, mt, vt, wHalf].filter((t) => t).map((t) => rawWords(ctx, t as Tensor)),
  );
  await weightGradOverlap(
    ctx,
    { x, dz, w, g, m: mt, v: vt, rule: c.rule, step: c.step, lossScale: c.lossScale, flag, wHalf },
    c.options,
  );
  const what = `${c.dtype} ${k}×${m}×${n} ${c.rule.name} ${describeWeightGradOverlap(ctx, x, dz, g, c.options)}`;
  if (flagValue) {
    const after = await Promise.all(
      [w, mt, vt, wHalf].filter((t) => t).map((t) => rawWords(ctx, t as Tensor)),
    );
    for (const [i, a] of after.entries()) expectBits(a, before[i], `${what} skipped step, buffer ${i}`, seed);
  } else {
    const grad = xtdz(x0, dz0, k, m, n);
    expectBits(await rawWords(ctx, g), Array.from(grad, f32Bits), `${what} dW`, seed);
    const got = await downloadF32(ctx, w);
    if (c.rule.name === "adam") {
      const ref = adamRef(w0, m0, v0, grad, { ...c.rule, step: c.step, lossScale: c.lossScale });
      for (const [key, t] of [
        ["w", w],
        ["m", mt],
        ["v", vt as Tensor],
      ] as const) {
        const r = unzip(ref[key]);
        expectClose(await downloadF32(ctx, t), r.want, r.bound, `${what} ${key}`, seed);
      }
    } else {
      const h = {
        lr: c.rule.lr,
        momentum: c.rule.momentum ?? 0,
        weightDecay: c.rule.weightDecay ?? 0,
        nesterov: Boolean(c.rule.nesterov),
        lossScale: c.lossScale,
      };
      const ref = sgdRef(w0, m0, grad, h);
      const rw = unzip(ref.w);
      const rv = unzip(ref.v);
      expectClose(got, rw.want, rw.bound, `${what} w`, seed);
      expectClose(await downloadF32(ctx, mt), rv.want, rv.bound, `${what} momentum`, seed);
    }
    if (wHalf) expectBits(await rawWords(ctx, wHalf), Array.from(got, f16Bits), `${what} f16 copy`, seed);
  }
  destroyTensor(...([x, dz, w, g, mt, vt, wHalf, flag].filter((t) => t) as Tensor[]));
}

const ADAM: UpdateRule = { name: "adam", lr: 1e-3 };
const ADAMW: UpdateRule = {
  name: "adam",
  lr: 1e-2,
  beta1: 0.7,
  beta2: 0.95,
  eps: 3e-3,
  weightDecay: 0.1,
  decoupled: true,
};
const SGD: UpdateRule = { name: "sgd", lr: 0.05, momentum: 0.9, weightDecay: 1e-3 };

describe("weightGradOverlap, portable kernel (dW stored, the optimizer beside the GEMM)", () => {
  const tiled = (tile: keyof typeof TILES, chunks: number): WeightGradOverlapOptions => ({
    variant: "tiled",
    tuned: false,
    tile: TILES[tile],
    chunks,
  });
  const cases: [string, Omit<Case, "dtype">][] = [
    // 300 rows on 32-row tiles: 10 rows of tiles, the last 12 rows long.
    [
      "Adam t=1, S=1024, 3 chunks over 10 rows of tiles, odd K",
      { k: 7, m: 300, n: 20, rule: ADAM, lossScale: 1024, step: 1, copy: true, options: tiled("t32", 3) },
    ],
    [
      "AdamW t=3, 2 chunks, N past one column tile",
      { k: 9, m: 150, n: 68, rule: ADAMW, lossScale: 3, step: 3, copy: true, options: tiled("t32", 2) },
    ],
    [
      "Adam t=2, one chunk (GEMM, then the update)",
      { k: 5, m: 70, n: 12, rule: ADAM, lossScale: 1, step: 2, copy: false, options: tiled("t32", 1) },
    ],
    [
      "Adam t=4, more chunks asked than rows of tiles (one a row)",
      { k: 11, m: 97, n: 24, rule: ADAM, lossScale: 256, step: 4, copy: true, options: tiled("t32", 9) },
    ],
    [
      "SGD momentum, 4 chunks on the vector tile",
      { k: 37, m: 333, n: 36, rule: SGD, lossScale: 512, step: 1, copy: true, options: tiled("t64v", 4) },
    ],
  ];
  for (const dtype of ["f32", "f16"] as const)
    for (const [name, c] of cases)
      it(`${dtype}: ${name}`, async () => {
        if (dtype === "f16" && !env.ctx.caps.f16) return;
        await runCase({ ...c, dtype });
      });

  it("skips the update when the non-finite flag is set: w, m, v and the copy untouched", async () => {
    for (const rule of [ADAM, SGD])
      await runCase(
        {
          k: 7,
          m: 150,
          n: 24,
          dtype: "f32",
          rule,
          lossScale: 1024,
          step: 2,
          copy: true,
          options: tiled("t32", 3),
        },
        1,
      );
  });

  it("names its tile and chunks, at most one chunk a row of tiles", async () => {
    const { ctx } = env;
    const x = await createTensor(ctx, "f32", [4, 100], "x");
    const dz = await createTensor(ctx, "f32", [4, 8], "dz");
    const g = await createTensor(ctx, "f32", [100, 8], "g");
    expect(describeWeightGradOverlap(ctx, x, dz, g, tiled("t32", 3))).toBe(
      "tiled t32, optimizer overlapped in 3 chunks",
    );
    // 100 rows are 4 rows of 32-row tiles.
    expect(describeWeightGradOverlap(ctx, x, dz, g, tiled("t32", 8))).toBe(
      "tiled t32, optimizer overlapped in 4 chunks",
    );
    destroyTensor(x, dz, g);
  });

  it("rejects bad inputs with KernelInputError", async () => {
    const { ctx } = env;
    const x = await createTensor(ctx, "f32", [4, 6], "x");
    const dz = await createTensor(ctx, "f32", [4, 6], "dz");
    const w = await createTensor(ctx, "f32", [6, 6], "w");
    const g = await createTensor(ctx, "f32", [6, 6], "g");
    const g5 = await createTensor(ctx, "f32", [6, 5], "g5");
    const mm = await createTensor(ctx, "f32", [36], "m");
    const vv = await createTensor(ctx, "f32", [36], "v");
    const o = tiled("t32", 2);
    await expect(weightGradOverlap(ctx, { x, dz, w, g, m: mm, v: vv, rule: ADAM }, o)).rejects.toThrow(
      /multiple of 4/,
    );
    await expect(weightGradOverlap(ctx, { x, dz, w, g: g5, m: mm, v: vv, rule: ADAM }, o)).rejects.toThrow(
      KernelInputError,
    );
    await expect(
      weightGradOverlap(ctx, { x, dz, w, g, m: mm, v: vv, rule: ADAM }, { ...o, chunks: 0 }),
    ).rejects.toThrow(/chunks/);
    await expect(weightGradOverlap(ctx, { x, dz, w, g: w, m: mm, v: vv, rule: ADAM }, o)).rejects.toThrow(
      KernelInputError,
    );
    destroyTensor(x, dz, w, g, g5, mm, vv);
  });
});

// Tensor cores: only where the adapter has subgroup matrices (the GPU run, not lavapipe).
describe("weightGradOverlap, tensor-core kernel", () => {
  const sm = (tile: string, chunks: number): WeightGradOverlapOptions => ({
    variant: "subgroup-matrix",
    tuned: false,
    matrixTile: MATRIX_TILES[tile],
    chunks,
  });
  const cases: [string, Omit<Case, "dtype">][] = [
    // 700 rows on 128-row tiles: 6 rows of tiles, the last 60 rows long (the scratch epilogue).
    [
      "staged 128×128 tile (the weight gradients'), 4 chunks, M, N and K past its multiples, Adam",
      { k: 40, m: 700, n: 140, rule: ADAM, lossScale: 1024, step: 2, copy: true, options: sm("b2x2a4x4", 4) },
    ],
    [
      "direct tile, 3 chunks, AdamW",
      { k: 32, m: 448, n: 64, rule: ADAMW, lossScale: 4, step: 3, copy: true, options: sm("p1x1a4x4", 3) },
    ],
  ];
  for (const [name, c] of cases)
    it(`f16: ${name}`, async (t) => {
      const why = matrixUnsupportedReason(env.ctx);
      if (why) {
        console.log(`skipped: ${why}`);
        t.skip();
        return;
      }
      await runCase({ ...c, dtype: "f16" });
    });
});
