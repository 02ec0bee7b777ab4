// train(config, hooks): the library entry point the CLI and the experiment suite call. Loads the
// data (src/data), puts each split on the GPU, builds the model (mlp.ts) and runs the epochs:
// one encoder and one submit per step, metrics read back every `readbackEvery` steps through a
// ring of mapped buffers (never stalling the step), hooks at step boundaries after the queue
// drains (so telemetry phases line up with GPU work), and a clean stop between steps.

import type { Dataset, LoadOptions, SplitData } from "../data/index.js";
import { loadDataset } from "../data/index.js";
import { type GpuContext, openDevice } from "../gpu/device.js";
import type { Rgb } from "../kernels/image-normalize.js";
import { METRIC_WORDS } from "../kernels/metrics.js";
import { createTensor, type Tensor, upload } from "../kernels/tensor.js";
import { readState, STATE_WORDS } from "../kernels/train-state.js";
import { ReadbackRing } from "../runtime/readback.js";
import { encodeDispatches } from "../runtime/replay.js";
import { seededRandom } from "../util/rng.js";
import { ModelError } from "./errors.js";
import { EVAL_SLOT, freeGpuSplit, GpuMlp, type GpuSplit, type KernelRecord, TRAIN_SLOT } from "./mlp.js";
import { type OptimizerConfig, optimizerConfig } from "./optimizer.js";
import { type LossScaling, precisionPolicy } from "./policy.js";
import { planShards, residentBudget } from "./shards.js";

export interface TrainConfig {
  /** An image folder or a synthetic spec ("synthetic:classes=10,size=32,…"). */
  data: string;
  precision: "f32" | "mixed";
  batch: number;
  /** Hidden layer widths, e.g. [1024]. */
  neurons: number[];
  epochs: number;
  optimizer: { name: "sgd" | "adam" | "adamw" } & Partial<Omit<OptimizerConfig, "name">>;
  seed: number;
  imageSize?: number;
  strict?: boolean;
  lossScaling?: Partial<LossScaling>;
  /** Steps between metric read-backs (default 50; the epoch's end always reads). */
  readbackEvery?: number;
  cacheDir?: string;
}

export interface SplitMetrics {
  loss: number;
  /** Top-1 accuracy. */
  accuracy: number;
  top5: number;
  samples: number;
  /** Rows whose logits held inf/NaN (never counted correct). */
  nonFiniteRows: number;
}

export interface EpochResult {
  epoch: number;
  train: SplitMetrics;
  valid: SplitMetrics;
  /** Wall time of the epoch's training steps, queue drained (evaluation excluded). */
  seconds: number;
  samplesPerSecond: number;
  steps: number;
  skippedSteps: number;
}

export interface LossScaleSummary {
  enabled: boolean;
  initial: number;
  final: number;
  min: number;
  max: number;
  skippedSteps: number;
  /** (step, scale) each time a read-back saw the scale change, plus the first and last. */
  history: { step: number; scale: number }[];
}

export interface TrainResult {
  config: TrainConfig;
  adapter: string;
  dataset: {
    source: string;
    classes: number;
    imageSize: number;
    train: number;
    valid: number;
    test: number;
    skipped: number;
    cacheReused: boolean;
  };
  parameters: number;
  /** Per-channel mean and std the inputs were normalised with (the train split's), on 0..1. */
  normalization: { mean: Rgb; std: Rgb };
  /** Class names; label i is classes[i]. */
  classes: string[];
  epochs: EpochResult[];
  test: SplitMetrics | null;
  lossScale: LossScaleSummary;
  kernels: KernelRecord[];
  steps: number;
  /** True when hooks.signal stopped the run early. */
  stopped: boolean;
  seconds: number;
}

export interface RunStartInfo {
  adapter: string;
  dataset: Dataset;
  parameters: number;
  stepsPerEpoch: number;
}

export interface TrainHooks {
  onRunStart?(info: RunStartInfo): void | Promise<void>;
  onEpochStart?(epoch: number): void | Promise<void>;
  /** After each read-back: steps done in this epoch and the running train loss. */
  onProgress?(p: { epoch: number; step: number; steps: number; loss: number }): void;
  onEpochEnd?(e: EpochResult): void | Promise<void>;
  onEvaluation?(split: "valid" | "test", m: SplitMetrics, epoch: number): void | Promise<void>;
  /** After the last epoch, queue drained, before the test split is evaluated (a telemetry phase mark). */
  onTestStart?(): void | Promise<void>;
  onRunEnd?(r: TrainResult): void | Promise<void>;
  /** Aborting stops the run at the next step boundary (the result says `stopped`). */
  signal?: AbortSignal;
  data?: Pick<LoadOptions, "onProgress" | "onWarning">;
}

export interface TrainOptions {
  /** A device to train on (else one is opened, HALFWATT_ADAPTER honoured). */
  ctx?: GpuContext;
  /** An already loaded dataset (else config.data is loaded). */
  dataset?: Dataset;
  /** Initial weights and optimizer state (checkpoints), by parameter name. */
  initial?: {
    params: Record<string, Float32Array>;
    m?: Record<string, Float32Array>;
    v?: Record<string, Float32Array>;
    state?: { scale: number; steps: number; good: number; skipped: number };
  };
  /** Called with the model and the run's result before the model is destroyed (checkpoints, weights). */
  onModel?(model: GpuMlp, result: TrainResult): void | Promise<void>;
  /** Normalisation to use instead of the train split's statistics (a resumed checkpoint's). */
  normalization?: { mean: Rgb; std: Rgb };
  /**
   * The dataset's splits already on this device (a suite uploads them once, src/experiment/
   * resident-data.ts): used as they are, and left for the caller to free.
   */
  splits?: { train: GpuSplit; valid: GpuSplit | null; test: GpuSplit | null };
}

export function checkTrainConfig(c: TrainConfig): void {
  const int = (name: string, v: number, min: number) => {
    if (!(Number.isInteger(v) && v >= min))
      throw new ModelError("bad-value", `${name} = ${v} must be an integer ≥ ${min}`);
  };
  int("batch", c.batch, 1);
  int("epochs", c.epochs, 0);
  int("seed", c.seed, 0);
  if (!c.neurons.length) throw new ModelError("bad-value", "neurons: give at least one hidden layer width");
  for (const [i, n] of c.neurons.entries()) int(`neurons[${i}]`, n, 1);
  if (c.readbackEvery !== undefined) int("readbackEvery", c.readbackEvery, 1);
  precisionPolicy(c.precision, c.lossScaling);
  optimizerConfig(c.optimizer);
}

/** Seeded Fisher–Yates permutation of 0..n−1. */
export function shuffledOrder(n: number, seed: number): Uint32Array<ArrayBuffer> {
  const rand = seededRandom(seed);
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/**
 * Puts a split on the GPU: resident when it fits the shard rule (src/model/shards.ts: one storage
 * binding, or up to 8 bindings of whole images each, within the resident budget) and
 * HALFWATT_STREAM is not set; else as one batch-sized buffer refilled before each step from the
 * pixel cache (positional reads; the copy into the GPU is queued behind the previous step, so
 * reading the next batch overlaps the GPU's work on the current one). `budget`: bytes still
 * allowed resident (a caller uploading several splits shares one budget).
 */
export async function uploadSplit(
  ctx: GpuContext,
  split: SplitData,
  batch = split.count,
  budget = residentBudget(),
): Promise<GpuSplit> {
  const bytes = split.count * split.imageBytes;
  const l = ctx.device.limits;
  const limit = Math.min(l.maxStorageBufferBindingSize, l.maxBufferSize, 2 ** 32 - 4);
  const plan = planShards(ctx, split.count, split.imageBytes);
  const labels = await createTensor(ctx, "u32", [split.count], `${split.name} labels`);
  if (typeof plan !== "string" && bytes <= budget && !process.env.HALFWATT_STREAM) {
    const shards: Tensor[] = [];
    const host = new Uint8Array(Math.min(plan.imagesPerShard, split.count) * split.imageBytes);
    for (let k = 0; k < plan.shards; k++) {
      const start = k * plan.imagesPerShard;
      const n = Math.min(plan.imagesPerShard, split.count - start);
      const label = plan.shards > 1 ? `${split.name} pixels shard ${k}` : `${split.name} pixels`;
      const t = await createTensor(ctx, "u8", [n, split.imageBytes], label);
      const part = host.subarray(0, n * split.imageBytes);
      split.readRange(start, n, part);
      upload(ctx, t, part); // writeBuffer copies at once, so the host buffer is reused.
      shards.push(t);
    }
    upload(ctx, labels, split.labels);
    const order = await createTensor(ctx, "u32", [split.count], `${split.name} order`);
    upload(
      ctx,
      order,
      Uint32Array.from({ length: split.count }, (_, i) => i),
    );
    const sharded = plan.shards > 1 ? { shards, imagesPerShard: plan.imagesPerShard } : {};
    return { name: split.name, count: split.count, pixels: shards[0], ...sharded, labels, order };
  }
  if (!process.env.HALFWATT_STREAM)
    console.warn(
      `halfwatt: the ${split.name} split (${bytes} bytes) is streamed batch by batch: ${
        typeof plan === "string"
          ? plan
          : `past the resident budget of ${budget} bytes (HALFWATT_RESIDENT_BYTES)`
      }`,
    );
  const b = Math.min(batch, split.count);
  if (b * split.imageBytes > limit)
    throw new ModelError(
      "bad-value",
      `one batch of ${b} ${split.name} images (${b * split.imageBytes} bytes) is past this adapter's binding limit (${limit})`,
    );
  labels.buffer.destroy();
  const pixels = await createTensor(ctx, "u8", [b, split.imageBytes], `${split.name} batch pixels`);
  const order = await createTensor(ctx, "u32", [b], `${split.name} batch order`);
  upload(
    ctx,
    order,
    Uint32Array.from({ length: b }, (_, i) => i),
  );
  return {
    name: split.name,
    count: split.count,
    pixels,
    labels: await createTensor(ctx, "u32", [b], `${split.name} batch labels`),
    order,
    stream: {
      read: (indices, out) => split.readIndices(indices, out),
      labels: split.labels,
      host: new Uint8Array(b * split.imageBytes),
      hostLabels: new Uint32Array(b),
      imageBytes: split.imageBytes,
    },
  };
}

/** Streamed splits: uploads the images at `indices` as the next batch and rewinds the cursor. */
function feedBatch(model: GpuMlp, split: GpuSplit, slot: number, indices: ArrayLike<number>): void {
  const st = split.stream;
  if (!st) return;
  const n = indices.length;
  const host = st.host.subarray(0, n * st.imageBytes);
  st.read(indices, host);
  for (let i = 0; i < n; i++) st.hostLabels[i] = st.labels[indices[i]];
  const q = model.ctx.device.queue;
  q.writeBuffer(split.pixels.buffer, 0, host);
  q.writeBuffer(split.labels.buffer, 0, st.hostLabels, 0, n);
  model.setCursor(slot, 0);
}

const range = (start: number, n: number) => Uint32Array.from({ length: n }, (_, i) => start + i);

interface Sums {
  loss: number;
  top1: number;
  top5: number;
  samples: number;
  bad: number;
}
const zeroSums = (): Sums => ({ loss: 0, top1: 0, top5: 0, samples: 0, bad: 0 });
function addSums(acc: Sums, words: Uint32Array): void {
  acc.loss += new Float32Array(words.buffer, words.byteOffset, 1)[0];
  acc.top1 += words[1];
  acc.top5 += words[2];
  acc.samples += words[3];
  acc.bad += words[4];
}
const toMetrics = (s: Sums): SplitMetrics => ({
  loss: s.samples ? s.loss / s.samples : Number.NaN,
  accuracy: s.samples ? s.top1 / s.samples : Number.NaN,
  top5: s.samples ? s.top5 / s.samples : Number.NaN,
  samples: s.samples,
  nonFiniteRows: s.bad,
});

/**
 * Loss and accuracy of `model` over a whole resident split, in batches of up to B (forward only;
 * the eval cursor slot, so a training epoch's position is untouched).
 */
export async function evaluateSplit(
  model: GpuMlp,
  split: GpuSplit,
  B: number,
  mean: Rgb,
  std: Rgb,
  ring: ReadbackRing,
): Promise<SplitMetrics> {
  const { ctx } = model;
  model.setCursor(EVAL_SLOT, 0);
  const enc0 = ctx.device.createCommandEncoder({ label: `eval ${split.name}` });
  enc0.clearBuffer(model.evalSums.buffer);
  ctx.device.queue.submit([enc0.finish()]);
  for (let start = 0; start < split.count; start += B) {
    const b = Math.min(B, split.count - start);
    const plan = await model.evalPlan(split, b, mean, std);
    if (split.stream) feedBatch(model, split, EVAL_SLOT, range(start, b));
    const enc = ctx.device.createCommandEncoder({ label: `eval ${split.name}` });
    encodeDispatches(enc, plan);
    ctx.device.queue.submit([enc.finish()]);
  }
  const slot = await ring.acquire();
  const enc = ctx.device.createCommandEncoder({ label: "eval read-back" });
  enc.copyBufferToBuffer(model.evalSums.buffer, 0, slot.buffer, 0, SUMS_BYTES);
  ctx.device.queue.submit([enc.finish()]);
  const sums = zeroSums();
  addSums(sums, new Uint32Array(await ring.read(slot.index), 0, METRIC_WORDS));
  return toMetrics(sums);
}

/** Bytes of one read-back: the metric sums (8 words) then the training state. */
const SUMS_BYTES = 32;
export const READBACK_BYTES = SUMS_BYTES + STATE_WORDS * 4;

export async function train(
  config: TrainConfig,
  hooks: TrainHooks = {},
  options: TrainOptions = {},
): Promise<TrainResult> {
  checkTrainConfig(config);
  const started = performance.now();
  const policy = precisionPolicy(config.precision, config.lossScaling);
  const opt = optimizerConfig(config.optimizer);
  const dataset =
    options.dataset ??
    (await loadDataset(config.data, {
      imageSize: config.imageSize,
      strict: config.strict,
      cacheDir: config.cacheDir,
      onProgress: hooks.data?.onProgress,
      onWarning: hooks.data?.onWarning,
    }));
  const ownsData = !options.dataset;
  const ctx = options.ctx ?? (await openDevice());
  const splits: GpuSplit[] = [];
  let model: GpuMlp | undefined;
  let ring: ReadbackRing | undefined;
  try {
    if (dataset.train.count < 1)
      throw new ModelError("bad-value", `${dataset.source}: the train split is empty`);
    const B = Math.min(config.batch, dataset.train.count);
    const given = options.splits;
    const train = given?.train ?? (await uploadSplit(ctx, dataset.train, B));
    // One resident budget for the three splits (src/model/shards.ts), spent in upload order.
    const held = (sp: GpuSplit | null, d: SplitData) => (sp && !sp.stream ? d.count * d.imageBytes : 0);
    let left = residentBudget() - held(train, dataset.train);
    const valid = given
      ? given.valid
      : dataset.valid.count
        ? await uploadSplit(ctx, dataset.valid, B, left)
        : null;
    left -= held(valid, dataset.valid);
    const test = given
      ? given.test
      : dataset.test.count
        ? await uploadSplit(ctx, dataset.test, B, left)
        : null;
    if (!given) splits.push(train, ...(valid ? [valid] : []), ...(test ? [test] : []));
    // A constant channel (std 0) is only shifted, not scaled.
    const mean: Rgb = options.normalization?.mean ?? dataset.channelMean;
    const std: Rgb =
      options.normalization?.std ?? (dataset.channelStd.map((s) => (s > 1e-6 ? s : 1)) as unknown as Rgb);
    if (policy.compute === "f16")
      for (let c = 0; c < 3; c++)
        for (const v of [0, 1])
          if (!(Math.abs((v - mean[c]) / std[c]) <= 65504))
            throw new ModelError(
              "bad-value",
              `channel ${c}: mean ${mean[c]}, std ${std[c]} normalise pixels past f16's range (65504); mixed precision needs std ≥ 1/65504`,
            );
    const shape = {
      inputs: dataset.train.imageBytes,
      hidden: config.neurons,
      classes: dataset.classes.length,
    };
    model = await GpuMlp.create(ctx, shape, policy, opt, B);
    const m = model;
    if (options.initial) {
      await m.uploadParams(options.initial.params);
      if (options.initial.m) m.uploadSlab("m", options.initial.m);
      if (options.initial.v) m.uploadSlab("v", options.initial.v);
      if (options.initial.state) m.writeState(options.initial.state);
    } else await m.initWeights(config.seed);
    ring = new ReadbackRing(ctx, READBACK_BYTES, 4, "train metrics");
    const r = ring;
    const readEvery = config.readbackEvery ?? 50;
    const stepsPerEpoch = Math.ceil(train.count / B);
    const trainPlans = [await m.trainPlan(train, B, mean, std)];
    if (train.count % B) trainPlans.push(await m.trainPlan(train, train.count % B, mean, std));
    await hooks.onRunStart?.({
      adapter: ctx.adapterName,
      dataset,
      parameters: m.parameterCount,
      stepsPerEpoch,
    });

    const ls = policy.lossScaling;
    const scaleSummary: LossScaleSummary = {
      enabled: ls !== null,
      initial: options.initial?.state?.scale ?? ls?.initial ?? 1,
      final: ls?.initial ?? 1,
      min: ls?.initial ?? 1,
      max: ls?.initial ?? 1,
      skippedSteps: options.initial?.state?.skipped ?? 0,
      history: [{ step: 0, scale: options.initial?.state?.scale ?? ls?.initial ?? 1 }],
    };
    let globalStep = 0;
    let stopped = false;
    const epochs: EpochResult[] = [];

    const evaluate = (split: GpuSplit) => evaluateSplit(m, split, B, mean, std, r);

    for (let epoch = 1; epoch <= config.epochs && !stopped; epoch++) {
      if (hooks.signal?.aborted) {
        stopped = true;
        break;
      }
      await ctx.device.queue.onSubmittedWorkDone();
      await hooks.onEpochStart?.(epoch);
      const t0 = performance.now();
      const order = shuffledOrder(train.count, config.seed * 1000003 + epoch);
      if (!train.stream) ctx.device.queue.writeBuffer(train.order.buffer, 0, order);
      m.setCursor(TRAIN_SLOT, 0);
      const sums = zeroSums();
      // Skipped steps are a running total in the GPU state; an epoch's share is the difference.
      const skippedAtStart = scaleSummary.skippedSteps;
      const reads: Promise<void>[] = [];
      // Copies the metric sums and the training state into the next ring slot with `enc`'s step,
      // submits, and folds them in when the mapping resolves (the step never waits for it).
      const readBack = async (enc: GPUCommandEncoder, stepInEpoch: number) => {
        const slot = await r.acquire();
        enc.copyBufferToBuffer(m.trainSums.buffer, 0, slot.buffer, 0, SUMS_BYTES);
        enc.copyBufferToBuffer(m.state, 0, slot.buffer, SUMS_BYTES, STATE_WORDS * 4);
        enc.clearBuffer(m.trainSums.buffer);
        ctx.device.queue.submit([enc.finish()]);
        const stepNow = globalStep;
        reads.push(
          r.read(slot.index).then((bytes) => {
            addSums(sums, new Uint32Array(bytes, 0, METRIC_WORDS));
            const st = readState(new Uint32Array(bytes, SUMS_BYTES, STATE_WORDS));
            scaleSummary.skippedSteps = st.skipped;
            scaleSummary.final = st.scale;
            scaleSummary.min = Math.min(scaleSummary.min, st.scale);
            scaleSummary.max = Math.max(scaleSummary.max, st.scale);
            const prev = scaleSummary.history[scaleSummary.history.length - 1];
            if (prev.scale !== st.scale) scaleSummary.history.push({ step: stepNow, scale: st.scale });
            hooks.onProgress?.({
              epoch,
              step: stepInEpoch,
              steps: stepsPerEpoch,
              loss: sums.loss / Math.max(1, sums.samples),
            });
          }),
        );
      };
      let stepsDone = 0;
      for (let s = 0; s < stepsPerEpoch; s++) {
        if (hooks.signal?.aborted) {
          stopped = true;
          break;
        }
        const plan = s < Math.floor(train.count / B) ? trainPlans[0] : trainPlans[1];
        if (train.stream)
          feedBatch(m, train, TRAIN_SLOT, order.subarray(s * B, Math.min(train.count, (s + 1) * B)));
        const enc = ctx.device.createCommandEncoder({ label: "train step" });
        encodeDispatches(enc, plan);
        globalStep++;
        stepsDone++;
        if ((s + 1) % readEvery === 0 || s === stepsPerEpoch - 1) await readBack(enc, s + 1);
        else ctx.device.queue.submit([enc.finish()]);
      }
      // Stopped between read-backs: read what the last steps added.
      if (stopped && stepsDone % readEvery !== 0)
        await readBack(ctx.device.createCommandEncoder({ label: "final read-back" }), stepsDone);
      await Promise.all(reads);
      await ctx.device.queue.onSubmittedWorkDone();
      ctx.check(`training epoch ${epoch}`);
      const seconds = (performance.now() - t0) / 1000;
      const validM = valid ? await evaluate(valid) : toMetrics(zeroSums());
      if (valid) await hooks.onEvaluation?.("valid", validM, epoch);
      const e: EpochResult = {
        epoch,
        train: toMetrics(sums),
        valid: validM,
        seconds,
        samplesPerSecond: sums.samples / seconds,
        steps: stepsDone,
        skippedSteps: scaleSummary.skippedSteps - skippedAtStart,
      };
      epochs.push(e);
      await hooks.onEpochEnd?.(e);
    }
    const last = scaleSummary.history[scaleSummary.history.length - 1];
    if (last.step !== globalStep) scaleSummary.history.push({ step: globalStep, scale: scaleSummary.final });
    await ctx.device.queue.onSubmittedWorkDone();
    if (test && !stopped) await hooks.onTestStart?.();
    const testM = test && !stopped ? await evaluate(test) : null;
    if (testM) await hooks.onEvaluation?.("test", testM, epochs.length);
    const result: TrainResult = {
      config,
      adapter: ctx.adapterName,
      dataset: {
        source: dataset.source,
        classes: dataset.classes.length,
        imageSize: dataset.imageSize,
        train: dataset.train.count,
        valid: dataset.valid.count,
        test: dataset.test.count,
        skipped: dataset.skipped.length,
        cacheReused: dataset.cache.reused,
      },
      parameters: m.parameterCount,
      normalization: { mean, std },
      classes: dataset.classes,
      epochs,
      test: testM,
      lossScale: scaleSummary,
      kernels: m.kernels,
      steps: globalStep,
      stopped,
      seconds: (performance.now() - started) / 1000,
    };
    await options.onModel?.(m, result);
    await hooks.onRunEnd?.(result);
    return result;
  } finally {
    ring?.destroy();
    model?.destroy();
    for (const s of splits) freeGpuSplit(s);
    if (ownsData) dataset.close();
  }
}
