// The GPU training step against the float64 reference (src/model/reference): weights after several
// recorded-and-replayed steps, the per-batch metrics, loss scaling on the GPU.
import { describe, expect, it } from "vitest";
import { TILES } from "../../src/kernels/gemm.js";
import { createTensor, destroyTensor, readBytes, upload } from "../../src/kernels/tensor.js";
import { GpuMlp, type GpuMlpOptions, type GpuSplit, TRAIN_SLOT } from "../../src/model/mlp.js";
import { type OptimizerConfig, optimizerConfig } from "../../src/model/optimizer.js";
import { precisionPolicy } from "../../src/model/policy.js";
import {
  type MlpParamsRef,
  mlpLossAndGrads,
  normalizeImagesRef,
  type OptimizerRef,
  referenceTrainStep,
  type TrainStateRef,
  topkCorrect,
} from "../../src/model/reference/mlp.js";
import { adamStepRef, sgdStepRef } from "../../src/model/reference/optimizers.js";
import { encodeDispatches } from "../../src/runtime/replay.js";
import { useGpu } from "../helpers/gpu.js";
import { f32GradErrorEstimates } from "./f32-error-estimates.js";
import { mixedGradsRef } from "./mixed-reference.js";

const env = useGpu("trainer-steps");

// Odd sizes everywhere: 5×5 RGB images (75 inputs), two hidden layers, 6 classes, batch 7 of 21.
const SIZE = 5;
const INPUTS = SIZE * SIZE * 3;
const HIDDEN = [17, 9];
const CLASSES = 6;
const COUNT = 21;
const BATCH = 7;
const MEAN = [0.45, 0.5, 0.55] as const;
const STD = [0.2, 0.25, 0.3] as const;

async function setup(
  precision: "f32" | "mixed",
  opt: OptimizerConfig,
  scale?: Partial<{ initial: number; growthInterval: number }>,
  arch: { hidden?: number[]; options?: GpuMlpOptions } = {},
) {
  const hidden = arch.hidden ?? HIDDEN;
  const { ctx, rng } = env;
  const pixels = Uint8Array.from({ length: COUNT * INPUTS }, () => Math.floor(rng() * 256));
  const labels = Uint32Array.from({ length: COUNT }, () => Math.floor(rng() * CLASSES));
  const tp = await createTensor(ctx, "u8", [COUNT, INPUTS], "pixels");
  upload(ctx, tp, pixels);
  const tl = await createTensor(ctx, "u32", [COUNT], "labels");
  upload(ctx, tl, labels);
  // A fixed, non-identity order: the step must gather by it.
  const order = Uint32Array.from({ length: COUNT }, (_, i) => (i * 8) % COUNT);
  const to = await createTensor(ctx, "u32", [COUNT], "order");
  upload(ctx, to, order);
  const split: GpuSplit = { name: "t", count: COUNT, pixels: tp, labels: tl, order: to };
  const model = await GpuMlp.create(
    ctx,
    { inputs: INPUTS, hidden, classes: CLASSES },
    precisionPolicy(precision, scale),
    opt,
    BATCH,
    arch.options,
  );
  await model.initWeights(env.seed);
  const plan = await model.trainPlan(split, BATCH, MEAN, STD);
  const w0 = await model.readSlab(model.params);
  const sizes = [INPUTS, ...hidden, CLASSES];
  const params: MlpParamsRef = {
    sizes,
    weights: sizes.slice(1).map((_, l) => Float64Array.from(w0[`layers.${l}.weight`])),
    biases: sizes.slice(1).map((_, l) => Float64Array.from(w0[`layers.${l}.bias`])),
  };
  const batchOf = (step: number) => {
    const start = (step * BATCH) % COUNT;
    const idx = Array.from(order.subarray(start, start + BATCH));
    const px = new Uint8Array(BATCH * INPUTS);
    for (const [r, i] of idx.entries()) px.set(pixels.subarray(i * INPUTS, (i + 1) * INPUTS), r * INPUTS);
    return { X: normalizeImagesRef(px, MEAN, STD), y: Uint32Array.from(idx.map((s) => labels[s])) };
  };
  /** Runs `steps` training steps, the first of them step `from` of the run (from 0). */
  const run = async (steps: number, from = 0) => {
    for (let s = from; s < from + steps; s++) {
      if (s % (COUNT / BATCH) === 0) model.setCursor(TRAIN_SLOT, 0);
      const enc = ctx.device.createCommandEncoder();
      encodeDispatches(enc, plan);
      ctx.device.queue.submit([enc.finish()]);
    }
    await ctx.device.queue.onSubmittedWorkDone();
  };
  /**
   * The GPU's weights and optimizer state as float64 (tensors in flatten() order; SGD's velocity
   * stands in for v), for a reference step from where the GPU is; `step`: the steps taken so far.
   */
  const readBack = async (step: number): Promise<{ params: MlpParamsRef; state: TrainStateRef }> => {
    const tnames = names(sizes.length - 1);
    const of = (r: Record<string, Float32Array>) => tnames.map((n) => Float64Array.from(r[n]));
    const tensors = of(await model.readSlab(model.params));
    const m = of(await model.readSlab(model.m));
    const v = model.v ? of(await model.readSlab(model.v)) : m.map((t) => t.slice());
    return {
      params: {
        sizes,
        weights: tensors.filter((_, i) => i % 2 === 0),
        biases: tensors.filter((_, i) => i % 2 === 1),
      },
      state: { step, m, v },
    };
  };
  const cleanup = () => {
    model.destroy();
    destroyTensor(tp, tl, to);
  };
  return { model, params, batchOf, run, readBack, cleanup };
}

const flatten = (p: MlpParamsRef) => p.weights.flatMap((w, l) => [w, p.biases[l]]);
const names = (n: number) =>
  Array.from({ length: n }, (_, l) => [`layers.${l}.weight`, `layers.${l}.bias`]).flat();

function refOptimizer(o: OptimizerConfig): OptimizerRef {
  if (o.name === "sgd")
    return {
      kind: "sgd",
      options: { lr: o.lr, momentum: o.momentum, nesterov: o.nesterov, weightDecay: o.weightDecay },
    };
  return {
    kind: "adam",
    options: {
      lr: o.lr,
      beta1: o.beta1,
      beta2: o.beta2,
      eps: o.eps,
      weightDecay: o.weightDecay,
      decoupled: o.name === "adamw",
    },
  };
}

/**
 * Largest |got − want| relative to the largest |want − start| (the total update), per tensor;
 * `allowance` (per tensor, element by element, absolute) is taken off each element's error first.
 */
function worstRelativeUpdateError(
  got: Record<string, Float32Array>,
  want: MlpParamsRef,
  start: MlpParamsRef,
  allowance?: Float64Array[],
): { name: string; err: number } {
  let worst = { name: "", err: 0 };
  const W = flatten(want);
  const S = flatten(start);
  names(W.length / 2).forEach((name, i) => {
    let maxUpdate = 0;
    let maxErr = 0;
    for (let j = 0; j < W[i].length; j++) {
      maxUpdate = Math.max(maxUpdate, Math.abs(W[i][j] - S[i][j]));
      const e = Math.max(0, Math.abs(got[name][j] - W[i][j]) - (allowance?.[i][j] ?? 0));
      if (!(e <= Number.MAX_VALUE)) maxErr = Number.POSITIVE_INFINITY;
      else maxErr = Math.max(maxErr, e);
    }
    const err = maxErr / Math.max(maxUpdate, 1e-30);
    if (!(err <= worst.err)) worst = { name, err };
  });
  return worst;
}

/**
 * Adam's update hardly depends on a gradient's relative error, except where the gradient is near
 * ε or near its own error (a near-zero activation from cancelling terms): there the GPU's weight
 * may land up to 2.02·lr from the reference's however good the kernels (|m̂|/(√v̂ + ε) ≤ 1.01 over
 * these few steps at β = (0.9, 0.999), by Cauchy–Schwarz, for either run). Each element's f32
 * gradient error is estimated from the reference alone (f32GradErrorEstimates) and pushed through one
 * reference Adam step from the same state; where it moves the update by more than a third of the
 * tight bound (bound·lr, a step's largest update being about lr), that element is allowed
 * 2.02·lr, else nothing.
 * Per tensor in flatten() order, absolute.
 */
function adamAllowance(
  ref: MlpParamsRef,
  state: TrainStateRef,
  X: Float64Array,
  y: Uint32Array,
  ro: Extract<OptimizerRef, { kind: "adam" }>,
  lr: number,
  bound: number,
): Float64Array[] {
  const eb = f32GradErrorEstimates(ref, X, y, BATCH);
  const errs = eb.weights.flatMap((e, l) => [e, eb.biases[l]]);
  const grads = eb.grads.flatMap((g, l) => [g, eb.biasGrads[l]]);
  return flatten(ref).map((t, i) =>
    t.map((w0, j) => {
      const one = (g: number) => {
        const w = Float64Array.of(w0);
        adamStepRef(w, Float64Array.of(state.m[i][j]), Float64Array.of(state.v[i][j]), [g], {
          ...ro.options,
          step: state.step + 1,
        });
        return w[0];
      };
      const base = one(grads[i][j]);
      const moved = Math.max(
        Math.abs(one(grads[i][j] + errs[i][j]) - base),
        Math.abs(one(grads[i][j] - errs[i][j]) - base),
      );
      return moved > (bound / 3) * lr ? 2.02 * lr : 0;
    }),
  );
}

const clone = (p: MlpParamsRef): MlpParamsRef => ({
  sizes: p.sizes,
  weights: p.weights.map((w) => w.slice()),
  biases: p.biases.map((b) => b.slice()),
});

describe("training step on the GPU vs the float64 reference", () => {
  // Each step starts from the GPU's own weights and optimizer state (read back before it), so one
  // step's rounding cannot steer the two trajectories apart (ReLU masks, Adam's near-zero
  // gradients). Bounds, as a fraction of each tensor's largest update in that step:
  //  - each gradient element is a sum of ≤ 75 f32 products (2^-24 each, ~75·2^-24 ≈ 5e-6
  //    relative to Σ|terms| in the worst case), through up to 3 layers; SGD's update is linear in
  //    the gradient, so 1e-5 of the update leaves room for some cancellation.
  //  - Adam's update hardly depends on a gradient's relative error, so 3e-4, except for the few
  //    elements whose gradient is near ε or near its own f32 error: those are found from the
  //    reference alone (adamAllowance) and allowed 2.02·lr (seed 1732469041 failed the whole-run
  //    comparison at 1.4e-3 through one such element of layers.2.weight); at most 2 % of them.
  //    (Observed on lavapipe: SGD 3.4e-7, Adam/AdamW 1.4e-5; 0.1–1.2 % of elements allowed.)
  //  Mixed precision has its own test below: no element-wise bound holds there (see it).
  //  The first layer's dW + update is fused by default at this batch in f32 (element by element
  //  at width 17, on 16-byte slots at width 20); `fused` says which path each case must take.
  const CASES: {
    precision: "f32" | "mixed";
    opt: OptimizerConfig;
    steps: number;
    bound: number;
    fused: boolean;
    hidden?: number[];
    options?: GpuMlpOptions;
  }[] = [
    {
      precision: "f32",
      opt: optimizerConfig({ name: "sgd", lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 }),
      steps: 5,
      bound: 1e-5,
      fused: true,
    },
    {
      precision: "f32",
      opt: optimizerConfig({ name: "sgd", lr: 0.05, momentum: 0.9, weightDecay: 1e-3 }),
      steps: 5,
      bound: 1e-5,
      fused: true,
      hidden: [20, 9],
      options: { firstLayerUpdateKernel: { variant: "tiled", tile: TILES.t32 } },
    },
    {
      precision: "f32",
      opt: optimizerConfig({ name: "adam", lr: 1e-2, weightDecay: 1e-2 }),
      steps: 4,
      bound: 3e-4,
      fused: true,
      hidden: [20, 9],
    },
    {
      precision: "f32",
      opt: optimizerConfig({ name: "adam", lr: 1e-2 }),
      steps: 4,
      bound: 3e-4,
      fused: false,
      options: { fuseFirstLayerUpdate: false },
    },
    {
      precision: "f32",
      opt: optimizerConfig({ name: "adamw", lr: 1e-2, weightDecay: 0.05 }),
      steps: 5,
      bound: 3e-4,
      fused: true,
    },
    // Layer 0's weight gradient stored, its update overlapped beside the GEMM (3 chunks of rows
    // of tiles; weight-grad-overlap.ts), the rest by the slab optimizer.
    {
      precision: "f32",
      opt: optimizerConfig({ name: "adam", lr: 1e-2, weightDecay: 1e-2 }),
      steps: 4,
      bound: 3e-4,
      fused: false,
      hidden: [20, 9],
      options: { fuseFirstLayerUpdate: false, overlapFirstLayerUpdate: true, overlapChunks: 3 },
    },
    {
      precision: "f32",
      opt: optimizerConfig({ name: "adam", lr: 1e-2, weightDecay: 1e-2 }),
      steps: 4,
      bound: 3e-4,
      fused: true,
    },
  ];
  for (const c of CASES)
    it(`${c.precision} ${c.opt.name}${c.fused ? `, layer 0 fused (width ${(c.hidden ?? HIDDEN)[0]})` : c.options?.overlapFirstLayerUpdate ? ", layer 0 overlapped" : ", unfused"}: weights after ${c.steps} steps within ${c.bound} of each tensor's update; loss and accuracy sums exact to f32`, async () => {
      const s = await setup(c.precision, c.opt, undefined, { hidden: c.hidden, options: c.options });
      expect(s.model.fusedFirstLayer).toBe(c.fused);
      expect(s.model.overlapChunks).toBe(c.options?.overlapFirstLayerUpdate ? c.options.overlapChunks : 0);
      try {
        const scale = 1;
        const ro = refOptimizer(c.opt);
        let lossSum = 0;
        let top1 = 0;
        let top5 = 0;
        let unsureCount = 0;
        let elements = 0;
        for (let k = 0; k < c.steps; k++) {
          // Each step from the GPU's own weights and optimizer state, read back before it.
          const { params: ref, state } = await s.readBack(k);
          const start = clone(ref);
          const { X, y } = s.batchOf(k);
          const allowance =
            ro.kind === "adam" ? adamAllowance(ref, state, X, y, ro, c.opt.lr, c.bound) : undefined;
          if (allowance) {
            unsureCount += allowance.reduce((n, t) => n + t.filter((a) => a > 0).length, 0);
            elements += allowance.reduce((n, t) => n + t.length, 0);
          }
          const r = referenceTrainStep(ref, state, X, y, BATCH, ro, scale);
          lossSum += r.loss * BATCH;
          top1 += topkCorrect(r.logits, y, BATCH, CLASSES, 1);
          top5 += topkCorrect(r.logits, y, BATCH, CLASSES, 5);
          await s.run(1, k);
          const got = await s.model.readSlab(s.model.params);
          const worst = worstRelativeUpdateError(got, ref, start, allowance);
          expect(worst.err, `${worst.name} step ${k + 1}: seed ${env.seed}`).toBeLessThanOrEqual(c.bound);
        }
        // The allowance must stay the exception, or the bound would say little.
        expect(unsureCount, `elements allowed a step of lr: seed ${env.seed}`).toBeLessThanOrEqual(
          0.02 * elements,
        );
        const sums = new Uint32Array(await readBytes(env.ctx, s.model.trainSums.buffer, 32));
        expect(sums[3]).toBe(c.steps * BATCH);
        // The loss sum is accumulated in f32 from f32 row losses: relative 1e-5 (f32) / 1e-2 (mixed).
        expect(Math.abs(new Float32Array(sums.buffer, 0, 1)[0] - lossSum) / lossSum).toBeLessThan(
          c.precision === "f32" ? 1e-5 : 1e-2,
        );
        if (c.precision === "f32") {
          // Counts can only differ where two logits tie to within f32 rounding; not with random data.
          expect([sums[1], sums[2]]).toEqual([top1, top5]);
        }
        const st = await s.model.readState();
        expect(st.steps).toBe(c.steps);
        expect(st.skipped).toBe(0);
      } finally {
        s.cleanup();
      }
    });

  // Mixed precision against a float64 reference that rounds to f16 at the same storage points
  // (mixed-reference.ts). What remains is f32 vs f64 accumulation before each rounding: an
  // occasional 1-ulp f16 difference (2^-11 ≈ 4.9e-4 relative) in an activation, which the next
  // layers carry; and, for Adam, the amplification of near-zero gradients. So the bound is on
  // each tensor's whole update in the L2 norm, ‖Δw_gpu − Δw_ref‖ ≤ bound·‖Δw_ref‖. For SGD the
  // bound is one such f16 step, 2^-11: most seeds show ≤ 3.4e-7 (no flip), but one flipped
  // rounding reaches 1.1e-4 (seed 1627051387, layer 0's weights), which the earlier 1e-4 bound
  // failed although nothing was wrong. Adam: 5e-3 (≤ 2.1e-4 seen). Against a reference
  // without the f16 roundings the same steps miss by up to 0.57 of an element's update (a ReLU
  // mask flipped by rounding), which is why the roundings are modelled rather than bounded.
  // Each step starts from the GPU's own weights and optimizer state (read back before it), so an
  // earlier step's rounding cannot steer the two trajectories apart: with the whole run compared
  // at its end, seed 1450147343 failed Adam's bound (0.019) because one early near-zero
  // difference, which Adam turns into a step of about ±lr, changed the ReLU masks of later steps.
  // Mixed precision is unfused by default (the fused kernels' f16-copy epilogue is slower than
  // GEMM + Adam on an H200, docs/performance.md); width 20 forces it on (the f16 inputs' fused
  // kernel, 16-byte slots), width 17 (odd: no f16 copy a word at a time) stays unfused even then.
  // With `overlap`, layer 0's update runs beside its weight gradient instead (2 chunks; width 20,
  // a multiple of 4), dW still stored.
  for (const [name, opt, bound, hidden, fused, overlap] of [
    ["sgd", optimizerConfig({ name: "sgd", lr: 0.05, momentum: 0.9 }), 2 ** -11, [17, 9], false, false],
    ["adam", optimizerConfig({ name: "adam", lr: 1e-2 }), 5e-3, [17, 9], false, false],
    ["sgd", optimizerConfig({ name: "sgd", lr: 0.05, momentum: 0.9 }), 2 ** -11, [20, 9], true, false],
    ["adam", optimizerConfig({ name: "adam", lr: 1e-2 }), 5e-3, [20, 9], true, false],
    ["adam", optimizerConfig({ name: "adam", lr: 1e-2 }), 5e-3, [20, 9], false, true],
  ] as const)
    it(`mixed ${name}${fused ? ", layer 0 fused (forced)" : overlap ? ", layer 0 overlapped" : ", unfused"} (width ${hidden[0]}): each tensor's update within ${bound} (L2) of an f16-rounding float64 reference`, async () => {
      const steps = 4;
      const scale = 2 ** 15;
      const s = await setup("mixed", opt, undefined, {
        hidden: [...hidden],
        options: overlap
          ? { fuseFirstLayerUpdate: false, overlapFirstLayerUpdate: true, overlapChunks: 2 }
          : { fuseFirstLayerUpdate: true },
      });
      expect(s.model.fusedFirstLayer).toBe(fused);
      expect(s.model.overlapChunks).toBe(overlap ? 2 : 0);
      try {
        const tnames = names(s.params.sizes.length - 1);
        for (let k = 0; k < steps; k++) {
          const gpu = await s.readBack(k);
          const S = flatten(gpu.params);
          const ps = S.map((x) => Float64Array.from(x));
          const { m, v } = gpu.state;
          const { X, y } = s.batchOf(k);
          const weights = ps.filter((_, i) => i % 2 === 0);
          const biases = ps.filter((_, i) => i % 2 === 1);
          const g = mixedGradsRef(s.params.sizes, weights, biases, X, y, BATCH, scale);
          ps.forEach((p, i) => {
            if (opt.name === "sgd")
              sgdStepRef(p, m[i], g[i], { lr: opt.lr, momentum: opt.momentum, lossScale: scale });
            else adamStepRef(p, m[i], v[i], g[i], { step: k + 1, lr: opt.lr, lossScale: scale });
          });
          await s.run(1, k);
          const got = await s.model.readSlab(s.model.params);
          tnames.forEach((tname, i) => {
            let num = 0;
            let den = 0;
            for (let j = 0; j < ps[i].length; j++) {
              expect(Number.isFinite(got[tname][j]), `${tname}[${j}]`).toBe(true);
              // The master weights are f32 on the GPU: the reference's step ends there too.
              num += (got[tname][j] - Math.fround(ps[i][j])) ** 2;
              den += (ps[i][j] - S[i][j]) ** 2;
            }
            expect(Math.sqrt(num / den), `${tname} step ${k + 1}: seed ${env.seed}`).toBeLessThanOrEqual(
              bound,
            );
          });
        }
        expect(s.model.kernels.some((k) => k.op === "weight_grad_update")).toBe(fused);
      } finally {
        s.cleanup();
      }
    });

  // Width 20 fused, and overlapped (layer 0's update beside its weight gradient).
  for (const [hidden, overlap] of [
    [[17, 9], false],
    [[20, 9], false],
    [[20, 9], true],
  ] as const)
    it(`mixed, width ${hidden[0]}${overlap ? ", layer 0 overlapped" : ""}: a loss scale that overflows f16 skips the step on the GPU, halves the scale, and training goes on`, async () => {
      const opt = optimizerConfig({ name: "sgd", lr: 0.05 });
      const s = await setup(
        "mixed",
        opt,
        { initial: 2 ** 40, growthInterval: 1000 },
        {
          hidden: [...hidden],
          options: overlap
            ? { fuseFirstLayerUpdate: false, overlapFirstLayerUpdate: true, overlapChunks: 2 }
            : { fuseFirstLayerUpdate: true },
        },
      );
      expect(s.model.fusedFirstLayer).toBe(!overlap && hidden[0] % 2 === 0);
      expect(s.model.overlapChunks).toBe(overlap ? 2 : 0);
      try {
        const before = await s.model.readSlab(s.model.params);
        await s.run(1);
        const after1 = await s.model.readSlab(s.model.params);
        let st = await s.model.readState();
        expect(st.skipped).toBe(1);
        expect(st.steps).toBe(0);
        expect(st.scale).toBe(2 ** 39);
        for (const n of Object.keys(before)) expect(after1[n]).toEqual(before[n]);
        // 2^40 → the scale must fall below ~2^16·B/max|dlogit| before a step is clean: ≤ 30 steps.
        await s.run(40);
        st = await s.model.readState();
        expect(st.skipped).toBeGreaterThan(1);
        expect(st.skipped).toBeLessThan(40);
        expect(st.steps).toBe(41 - st.skipped);
        expect(st.scale).toBe(2 ** (40 - st.skipped));
        const after = await s.model.readSlab(s.model.params);
        expect(after["layers.0.weight"]).not.toEqual(before["layers.0.weight"]);
        const anyNaN = Object.values(after).some((a) => a.some((v) => !Number.isFinite(v)));
        expect(anyNaN).toBe(false);
      } finally {
        s.cleanup();
      }
    });

  it("mixed: the scale doubles after the growth interval of clean steps", async () => {
    const s = await setup("mixed", optimizerConfig({ name: "sgd", lr: 0.01 }), {
      initial: 16,
      growthInterval: 3,
    });
    try {
      await s.run(2);
      expect((await s.model.readState()).scale).toBe(16);
      await s.run(1);
      let st = await s.model.readState();
      expect(st.scale).toBe(32);
      expect(st.good).toBe(0);
      await s.run(7);
      st = await s.model.readState();
      expect(st.scale).toBe(16 * 2 ** 3);
      expect(st.good).toBe(1);
      expect(st.skipped).toBe(0);
    } finally {
      s.cleanup();
    }
  });

  it("the reference's gradient of one batch matches what the step applied (SGD, no momentum: Δw = −lr·g)", async () => {
    const lr = 0.125;
    const s = await setup("f32", optimizerConfig({ name: "sgd", lr }));
    try {
      const { X, y } = s.batchOf(0);
      const { grads } = mlpLossAndGrads(s.params, X, y, BATCH);
      await s.run(1);
      const got = await s.model.readSlab(s.model.params);
      const g = flatten({ sizes: s.params.sizes, weights: grads.weights, biases: grads.biases });
      const w0 = flatten(s.params);
      names(g.length / 2).forEach((name, i) => {
        const scaleOf = Math.max(...Array.from(g[i], Math.abs));
        for (let j = 0; j < g[i].length; j++) {
          const applied = (w0[i][j] - got[name][j]) / lr;
          expect(Math.abs(applied - g[i][j]), `${name}[${j}]`).toBeLessThanOrEqual(
            1e-4 * scaleOf + (1e-6 * Math.abs(w0[i][j])) / lr,
          );
        }
      });
    } finally {
      s.cleanup();
    }
  });
});
