// warmUp: compiles every pipeline a run will use and runs a few uncounted training steps, before
// the run's `train` phase is marked. It trains a throwaway model of the run's shape on the run's
// splits (the trainer's public pieces: GpuMlp, uploadSplit's splits, evaluateSplit), then destroys
// it: pipelines are cached per device by their source (src/kernels/program.ts), so the run's own
// model, built next by train(), finds them compiled — and its weights and optimizer state are
// never touched, which is what "restored" would have to achieve. The throwaway model is not
// initialised (its zeros train as fast as any weights; the cast kernel that initWeights uses is
// compiled by train()'s own initialisation, which is in `setup` too). The timed steps also give the
// run's planned duration (an estimate: the step time × the steps the run will take).
//
// Why the steps and not only the pipelines: on lavapipe the first dispatch of a pipeline, not its
// creation, costs seconds (a run's first epoch took 16.5 s vs 0.2 s later); on the H200 the first
// epoch took 2.5× a later one. Running each plan once (full batch, remainder batch, evaluation)
// pays that outside the measurement.

import type { Dataset } from "../data/index.js";
import type { GpuContext } from "../gpu/device.js";
import type { Rgb } from "../kernels/image-normalize.js";
import { ReadbackRing } from "../runtime/readback.js";
import { encodeDispatches } from "../runtime/replay.js";
import { GpuMlp, type GpuSplit, TRAIN_SLOT } from "./mlp.js";
import { optimizerConfig } from "./optimizer.js";
import { precisionPolicy } from "./policy.js";
import { evaluateSplit, READBACK_BYTES, type TrainConfig } from "./trainer.js";

/** The splits a run trains and evaluates on, already on the device. */
export interface RunSplits {
  train: GpuSplit;
  valid: GpuSplit | null;
  test: GpuSplit | null;
}

export interface WarmupOptions {
  /** Timed full-batch steps after the first (compiling) one, the first timed chunk; default 3. */
  timedSteps?: number;
  /**
   * Keep timing until at least this long has been timed and two successive chunks agree within
   * 5 % in s per step (at most 10× as long), s; default 0 (one chunk of timedSteps).
   */
  minTimedSeconds?: number;
  /** Whether to evaluate the valid and test splits too (compiles their plans); default true. */
  evaluate?: boolean;
}

export interface WarmupResult {
  /** Training steps run (untimed first step, remainder step, timed steps). */
  steps: number;
  /** Wall time of the whole warm-up (compilation included), s. */
  seconds: number;
  /** Mean wall time of one full-batch step after compilation, queue drained, s. */
  secondsPerStep: number;
  /** Steps one epoch of the run takes (ceil(train / batch)). */
  stepsPerEpoch: number;
}

/** The trainer's normalisation (train(): a constant channel, std 0, is only shifted). */
export function normalizationOf(dataset: Dataset): { mean: Rgb; std: Rgb } {
  return {
    mean: dataset.channelMean,
    std: dataset.channelStd.map((s) => (s > 1e-6 ? s : 1)) as unknown as Rgb,
  };
}

/**
 * Warms up `config` on `splits` (dataset: the splits' source, for the shape and normalisation).
 * Runs on the device's queue; returns once the queue has drained.
 */
export async function warmUp(
  ctx: GpuContext,
  config: TrainConfig,
  dataset: Dataset,
  splits: RunSplits,
  options: WarmupOptions = {},
): Promise<WarmupResult> {
  const started = performance.now();
  const timed = options.timedSteps ?? 3;
  const policy = precisionPolicy(config.precision, config.lossScaling);
  const opt = optimizerConfig(config.optimizer);
  const { train } = splits;
  const B = Math.min(config.batch, train.count);
  const { mean, std } = normalizationOf(dataset);
  const shape = { inputs: dataset.train.imageBytes, hidden: config.neurons, classes: dataset.classes.length };
  const model = await GpuMlp.create(ctx, shape, policy, opt, B);
  const ring = new ReadbackRing(ctx, READBACK_BYTES, 4, "warm-up metrics");
  const q = ctx.device.queue;
  let steps = 0;
  try {
    // No initWeights: the throwaway model's values do not matter (only that each pipeline has run),
    // and drawing 154–308 M normals on the host took 3–7 s per run on the H200's host, twice per run
    // with the run's own model — device time paid for nothing. Its buffers hold WebGPU's zeros.
    const full = await model.trainPlan(train, B, mean, std);
    const rest = train.count % B ? await model.trainPlan(train, train.count % B, mean, std) : null;
    const step = (plan: typeof full) => {
      // Every warm-up step reads the first batch (a streamed split's buffer holds whatever batch it
      // last held): the values do not matter, only that each plan has run once.
      model.setCursor(TRAIN_SLOT, 0);
      const enc = ctx.device.createCommandEncoder({ label: "warm-up step" });
      encodeDispatches(enc, plan);
      q.submit([enc.finish()]);
      steps++;
    };
    step(full);
    if (rest) step(rest);
    await q.onSubmittedWorkDone();
    const secondsPerStep = await timeSteps(
      () => step(full),
      () => q.onSubmittedWorkDone(),
      timed,
      options.minTimedSeconds ?? 0,
    );
    if (options.evaluate ?? true)
      for (const split of [splits.valid, splits.test])
        if (split) await evaluateSplit(model, split, B, mean, std, ring);
    await q.onSubmittedWorkDone();
    ctx.check("warm-up");
    return {
      steps,
      seconds: (performance.now() - started) / 1000,
      secondsPerStep,
      stepsPerEpoch: Math.ceil(train.count / B),
    };
  } finally {
    ring.destroy();
    model.destroy();
  }
}

/** Chunks shorter than this are doubled: a chunk must outlast the queue's round trip, s. */
const MIN_CHUNK_S = 0.05;
/** Two successive chunks agreeing this closely (relative, s per step) make the time steady. */
const STEADY = 0.05;

/**
 * Mean s per step of the last chunk of `step`s (each chunk drained by `drain`): the first chunk
 * has `first` steps; chunks double while shorter than MIN_CHUNK_S; timing goes on until at least
 * `minSeconds` are timed and two successive chunks agree within STEADY, or 10 × minSeconds pass.
 * Why not the first chunk alone: on a GPU just out of its idle baseline the first steps run at
 * idle clocks — on the H200 a per-run estimate from 3 such steps was 2–4× the steps' real time.
 * first = 0: no timing (NaN).
 */
export async function timeSteps(
  step: () => void,
  drain: () => Promise<unknown>,
  first: number,
  minSeconds: number,
): Promise<number> {
  if (first < 1) return Number.NaN;
  let n = first;
  let spent = 0;
  let prev = Number.NaN;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) step();
    await drain();
    const dt = (performance.now() - t0) / 1000;
    const perStep = dt / n;
    spent += dt;
    if (spent >= 10 * minSeconds || (spent >= minSeconds && Math.abs(perStep - prev) <= STEADY * perStep))
      return perStep;
    prev = perStep;
    if (dt < MIN_CHUNK_S) n *= 2;
  }
}
