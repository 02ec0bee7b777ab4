// The dense classifier on the GPU: flattened image → hidden layers (ReLU) → logits, trained with
// softmax cross-entropy. Built once per run: parameters, gradients and optimizer state in slabs,
// activations sized for the largest batch, and every step's dispatches recorded once per batch
// size (src/runtime/replay.ts replays them), so a step costs the CPU one encoder and one submit.
//
// Layout: weights[l] is [in, out] row-major (Z = H·W + b: the forward GEMM reads it untransposed);
// names "layers.<l>.weight" / "layers.<l>.bias" in the slabs and in checkpoints.
import type { GpuContext } from "../gpu/device.js";
import { adam } from "../kernels/adam.js";
import { batchInput } from "../kernels/batch-input.js";
import { biasGrad } from "../kernels/bias-grad.js";
import { cast } from "../kernels/cast.js";
import { describeGemm, type GemmOptions, gemm } from "../kernels/gemm.js";
import type { Rgb } from "../kernels/image-normalize.js";
import { lossScale } from "../kernels/loss-scale.js";
import { METRIC_WORDS, metrics } from "../kernels/metrics.js";
import { nonfinite } from "../kernels/nonfinite.js";
import type { RecordedDispatch } from "../kernels/program.js";
import { reluBackward } from "../kernels/relu-backward.js";
import { sgd } from "../kernels/sgd.js";
import { softmaxXent } from "../kernels/softmax-xent.js";
import {
  createTensor,
  destroyTensor,
  readBytes,
  reshapeView,
  storageLimit,
  type Tensor,
} from "../kernels/tensor.js";
import { readState, STATE, STATE_WORDS, stateWords, type TrainStateValues } from "../kernels/train-state.js";
import {
  describeWeightGradOverlap,
  OVERLAP_CHUNKS,
  weightGradOverlap,
} from "../kernels/weight-grad-overlap.js";
import {
  describeWeightGradUpdate,
  fusedUpdatePays,
  type UpdateRule,
  type WeightGradUpdateArgs,
  type WeightGradUpdateOptions,
  weightGradUpdate,
} from "../kernels/weight-update.js";
import { createSlab, layoutSlab, type Slab, slabChunks } from "../runtime/slab.js";
import { seededRandom } from "../util/rng.js";
import { ModelError } from "./errors.js";
import { modelFitReason } from "./fits.js";
import { stepGemm } from "./gemm-calls.js";
import type { OptimizerConfig } from "./optimizer.js";
import type { PrecisionPolicy } from "./policy.js";
import type { MlpShape } from "./shape.js";

/**
 * A split on the GPU: pixels, labels, and the order its batches are drawn in. Resident: the whole
 * split, `count` images. Streamed (a split past one binding, e.g. the 224×224 birds set): the
 * tensors hold one batch, filled before each step from the decoded-pixel cache (`stream`).
 */
export interface GpuSplit {
  name: string;
  /** Images in the split. */
  count: number;
  /** The whole split u8 [count, H·W·3], or (with `shards`) shard 0. */
  pixels: Tensor;
  /**
   * A resident split past one storage binding: u8 buffers of `imagesPerShard` whole images each,
   * in image order (src/model/shards.ts); shards[0] is `pixels`.
   */
  shards?: Tensor[];
  imagesPerShard?: number;
  labels: Tensor;
  order: Tensor;
  stream?: {
    read(indices: ArrayLike<number>, out: Uint8Array): void;
    labels: Uint32Array;
    host: Uint8Array<ArrayBuffer>;
    hostLabels: Uint32Array<ArrayBuffer>;
    imageBytes: number;
  };
}

/** Frees a split's device buffers (every shard of a sharded one). */
export function freeGpuSplit(s: GpuSplit): void {
  destroyTensor(s.pixels, s.labels, s.order, ...(s.shards?.slice(1) ?? []));
}

/** One row of the run's per-kernel precision table. */
export interface KernelRecord {
  op: string;
  role: string;
  input: string;
  output: string;
  variant?: string;
}

const variantOf = (ctx: GpuContext, a: Tensor, b: Tensor, c: Tensor, o: GemmOptions) =>
  describeGemm(ctx, a, b, c, o);

export const layerSizes = (s: MlpShape) => [s.inputs, ...s.hidden, s.classes];

export function paramEntries(s: MlpShape): { name: string; shape: number[] }[] {
  const sizes = layerSizes(s);
  return sizes.slice(1).flatMap((out, l) => [
    { name: `layers.${l}.weight`, shape: [sizes[l], out] },
    { name: `layers.${l}.bias`, shape: [out] },
  ]);
}

export interface GpuMlpOptions {
  /**
   * Fuse the first layer's weight gradient with the optimizer (weight-update.ts): its dW is
   * applied where it is computed and never stored in `grads`. Pass false where its gradient must
   * be seen. Needs an even first-layer width with an f16 copy (else unfused). "auto" (the
   * default): fused where the portable fused kernel pays (weight-update.ts, fusedUpdatePays:
   * f32 at batch ≤ 256, mixed precision at batch ≤ 64). On an H200 the steps went from 2.49 to
   * 1.77 ms (f32/32/1024), 2.23 to 1.64 ms (mixed/32/1024) and 6.6 to 6.1 ms (f32/256/1024);
   * mixed precision at batch 256 stays unfused, where GEMM + Adam on tensor cores was faster
   * (docs/performance.md).
   */
  fuseFirstLayerUpdate?: boolean | "auto";
  /**
   * The fused (or overlapped) kernel's choice where fused or overlapped (weight-update.ts options:
   * variant, tile, matrixTile); default its own (the tuned or built-in choice). For benches that
   * compare kernels.
   */
  firstLayerUpdateKernel?: Pick<WeightGradUpdateOptions, "variant" | "tile" | "matrixTile" | "tuned">;
  /**
   * Where not fused: layer 0's weight gradient is stored in `grads` as unfused, with its
   * optimizer step overlapped beside the GEMM in chunks (weight-grad-overlap.ts) instead of run
   * after it by the slab optimizer — the same values, fewer idle units. Needs the first layer's
   * width a multiple of 4 (else unfused). Default false; `overlapChunks` (default 4) sets the
   * chunks, `overlapSlots` the slots each worker thread loads together (default 4).
   */
  overlapFirstLayerUpdate?: boolean;
  overlapChunks?: number;
  overlapSlots?: number;
}

/** Slot of the training state's batch cursor: train batches and evaluation batches. */
export const TRAIN_SLOT = 0;
export const EVAL_SLOT = 1;

export class GpuMlp {
  readonly layers: number;
  /** f32 master weights; f32 gradients; optimizer state; the f16 copy (mixed). */
  readonly params: Slab;
  readonly grads: Slab;
  readonly m: Slab;
  readonly v: Slab | null;
  readonly half: Slab | null;
  readonly state: GPUBuffer;
  readonly flag: Tensor;
  readonly trainSums: Tensor;
  readonly evalSums: Tensor;
  readonly kernels: KernelRecord[] = [];
  private readonly acts: {
    x: Tensor;
    labels: Tensor;
    h: Tensor[];
    logits: Tensor;
    dLogits: Tensor;
    dh: Tensor[];
    dz: Tensor[];
    rowLoss: Tensor;
  };
  private readonly plans = new Map<string, RecordedDispatch[]>();
  /** Whether layer 0's weights are updated inside their weight-gradient kernel (no dW in grads). */
  readonly fusedFirstLayer: boolean;
  /** The fused kernel's choice (GpuMlpOptions.firstLayerUpdateKernel). */
  private readonly fusedKernel: GpuMlpOptions["firstLayerUpdateKernel"];
  /**
   * Chunks of layer 0's weight gradient with its optimizer step overlapped beside it
   * (GpuMlpOptions.overlapFirstLayerUpdate; dW still stored in grads), or 0: the slab optimizer.
   */
  readonly overlapChunks: number;
  /** Slots each of the overlapped update's worker threads loads together (default: the kernel's). */
  private readonly overlapSlots: number | undefined;

  private constructor(
    readonly ctx: GpuContext,
    readonly shape: MlpShape,
    readonly policy: PrecisionPolicy,
    readonly optimizer: OptimizerConfig,
    readonly maxBatch: number,
    fuse: boolean,
    fusedKernel: GpuMlpOptions["firstLayerUpdateKernel"],
    overlap: { on: boolean; chunks: number; slots?: number },
    parts: Pick<
      GpuMlp,
      "params" | "grads" | "m" | "v" | "half" | "state" | "flag" | "trainSums" | "evalSums"
    > & {
      acts: GpuMlp["acts"];
    },
  ) {
    this.layers = shape.hidden.length + 1;
    const width0 = shape.hidden[0] ?? shape.classes;
    this.fusedFirstLayer = fuse && (policy.compute !== "f16" || width0 % 2 === 0);
    this.fusedKernel = fusedKernel;
    this.overlapChunks = overlap.on && !this.fusedFirstLayer && width0 % 4 === 0 ? overlap.chunks : 0;
    this.overlapSlots = overlap.slots;
    this.params = parts.params;
    this.grads = parts.grads;
    this.m = parts.m;
    this.v = parts.v;
    this.half = parts.half;
    this.state = parts.state;
    this.flag = parts.flag;
    this.trainSums = parts.trainSums;
    this.evalSums = parts.evalSums;
    this.acts = parts.acts;
  }

  static async create(
    ctx: GpuContext,
    shape: MlpShape,
    policy: PrecisionPolicy,
    optimizer: OptimizerConfig,
    maxBatch: number,
    options: GpuMlpOptions = {},
  ): Promise<GpuMlp> {
    for (const [what, v] of [
      ["inputs", shape.inputs],
      ["classes", shape.classes],
      ["batch", maxBatch],
      ...shape.hidden.map((h, i) => [`hidden[${i}]`, h] as const),
    ] as const)
      if (!(Number.isInteger(v) && v >= 1))
        throw new ModelError("bad-value", `model ${what} = ${v} must be an integer ≥ 1`);
    if (shape.classes < 2)
      throw new ModelError("bad-value", `a classifier needs ≥ 2 classes, got ${shape.classes}`);
    // Past the adapter's binding limit (lavapipe: 128 MiB), say which layer and what to change.
    const tooBig = modelFitReason(storageLimit(ctx), shape, policy.compute, maxBatch, ctx.adapterName);
    if (tooBig) throw new ModelError("bad-shape", tooBig);
    const layout = layoutSlab(paramEntries(shape));
    const t = policy.compute;
    const params = await createSlab(ctx, "f32", layout, "params");
    const grads = await createSlab(ctx, "f32", layout, "grads");
    const m = await createSlab(ctx, "f32", layout, optimizer.name === "sgd" ? "momentum" : "adam.m");
    const v = optimizer.name === "sgd" ? null : await createSlab(ctx, "f32", layout, "adam.v");
    const half = t === "f16" ? await createSlab(ctx, "f16", layout, "params.f16") : null;
    const state = ctx.device.createBuffer({
      size: STATE_WORDS * 4,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      label: "train state",
    });
    const B = maxBatch;
    const acts = {
      x: await createTensor(ctx, t, [B, shape.inputs], "x"),
      labels: await createTensor(ctx, "u32", [B], "labels"),
      h: await Promise.all(shape.hidden.map((n, l) => createTensor(ctx, t, [B, n], `h${l}`))),
      logits: await createTensor(ctx, t, [B, shape.classes], "logits"),
      dLogits: await createTensor(ctx, t, [B, shape.classes], "dlogits"),
      dh: await Promise.all(shape.hidden.map((n, l) => createTensor(ctx, t, [B, n], `dh${l}`))),
      dz: await Promise.all(shape.hidden.map((n, l) => createTensor(ctx, t, [B, n], `dz${l}`))),
      rowLoss: await createTensor(ctx, "f32", [B], "row loss"),
    };
    const fuseOpt = options.fuseFirstLayerUpdate ?? "auto";
    const fuse = fuseOpt === "auto" ? fusedUpdatePays(policy.compute, maxBatch) : fuseOpt;
    const chunks = options.overlapChunks ?? OVERLAP_CHUNKS;
    if (!(Number.isInteger(chunks) && chunks >= 1))
      throw new ModelError("bad-value", `overlap chunks ${chunks} must be an integer ≥ 1`);
    const overlap = { on: options.overlapFirstLayerUpdate === true, chunks, slots: options.overlapSlots };
    const model = new GpuMlp(
      ctx,
      shape,
      policy,
      optimizer,
      maxBatch,
      fuse,
      options.firstLayerUpdateKernel,
      overlap,
      {
        params,
        grads,
        m,
        v,
        half,
        state,
        flag: await createTensor(ctx, "u32", [1], "nonfinite flag"),
        trainSums: await createTensor(ctx, "u32", [8], "train sums"),
        evalSums: await createTensor(ctx, "u32", [8], "eval sums"),
        acts,
      },
    );
    model.writeState({ scale: policy.lossScaling?.initial ?? 1 });
    return model;
  }

  /** He-normal weights (N(0, 2/fan_in), from the seeded generator, f64 then f32) and zero biases. */
  async initWeights(seed: number): Promise<void> {
    const rand = seededRandom(seed);
    const sizes = layerSizes(this.shape);
    const values: Record<string, Float32Array> = {};
    for (let l = 0; l < this.layers; l++) {
      const fanIn = sizes[l];
      const sd = Math.sqrt(2 / fanIn);
      const w = new Float32Array(fanIn * sizes[l + 1]);
      for (let i = 0; i < w.length; i += 2) {
        // Box–Muller: two normals from two uniforms in (0, 1].
        const u1 = 1 - rand();
        const u2 = rand();
        const r = Math.sqrt(-2 * Math.log(u1));
        w[i] = sd * r * Math.cos(2 * Math.PI * u2);
        if (i + 1 < w.length) w[i + 1] = sd * r * Math.sin(2 * Math.PI * u2);
      }
      values[`layers.${l}.weight`] = w;
      values[`layers.${l}.bias`] = new Float32Array(sizes[l + 1]);
    }
    await this.uploadParams(values);
  }

  /** Writes f32 master values (by name) and refreshes the f16 copy. */
  async uploadParams(values: Record<string, Float32Array>): Promise<void> {
    this.writeSlab(this.params, values, "parameter ");
    if (this.half) await cast(this.ctx, { src: this.params.all, dst: this.half.all });
  }

  /** Uploads optimizer state by name (checkpoints). */
  uploadSlab(which: "m" | "v", values: Record<string, Float32Array>): void {
    const slab = which === "m" ? this.m : this.v;
    if (!slab) throw new ModelError("bad-value", `this optimizer (${this.optimizer.name}) has no ${which}`);
    this.writeSlab(slab, values, `${which}.`);
  }

  /** Writes one f32 array per entry of an f32 slab, each checked against its entry's size. */
  private writeSlab(slab: Slab, values: Record<string, Float32Array>, what: string): void {
    for (const e of slab.layout.entries) {
      const v = values[e.name];
      if (!v || v.length !== e.size)
        throw new ModelError(
          "bad-shape",
          `${what}${e.name} needs ${e.size} values, got ${v?.length ?? "none"}`,
        );
      this.ctx.device.queue.writeBuffer(slab.all.buffer, e.offset * 4, v.buffer, v.byteOffset, v.byteLength);
    }
  }

  /** Reads a slab back as one f32 array per parameter. */
  async readSlab(slab: Slab): Promise<Record<string, Float32Array>> {
    const raw = new Float32Array(await readBytes(this.ctx, slab.all.buffer, slab.layout.total * 4));
    const out: Record<string, Float32Array> = {};
    for (const e of slab.layout.entries) out[e.name] = raw.slice(e.offset, e.offset + e.size);
    return out;
  }

  writeState(v: TrainStateValues): void {
    this.ctx.device.queue.writeBuffer(this.state, 0, stateWords(v));
  }

  async readState(): Promise<ReturnType<typeof readState>> {
    return readState(new Uint32Array(await readBytes(this.ctx, this.state, STATE_WORDS * 4)));
  }

  /** Sets a batch cursor (queue-ordered with the steps around it). */
  setCursor(slot: number, value: number): void {
    this.ctx.device.queue.writeBuffer(this.state, (STATE.cursor + slot) * 4, new Uint32Array([value]));
  }

  private weightFor(l: number, kind: "weight" | "bias"): Tensor {
    const slab = this.half ?? this.params;
    const t = slab.views.get(`layers.${l}.${kind}`);
    if (!t) throw new ModelError("bad-shape", `no layers.${l}.${kind}`);
    return t;
  }

  private note(op: string, role: string, input: string, output: string, variant?: string): void {
    if (this.kernels.some((k) => k.op === op && k.role === role)) return;
    this.kernels.push({ op, role, input, output, variant });
  }

  /** Forward pass into `record` for a batch of b rows (x and labels already there). */
  private async recordForward(b: number, rec: RecordedDispatch[]): Promise<Tensor> {
    const t = this.policy.compute;
    let h = reshapeView(this.acts.x, [b, this.shape.inputs]);
    for (let l = 0; l < this.layers; l++) {
      const last = l === this.layers - 1;
      const out = last ? this.acts.logits : this.acts.h[l];
      const o = reshapeView(out, [b, out.shape[1]]);
      const w = this.weightFor(l, "weight");
      const g = stepGemm("forward", l, this.layers);
      await gemm(this.ctx, h, w, o, {
        bias: g.bias ? this.weightFor(l, "bias") : undefined,
        relu: g.relu,
        transA: g.transA,
        transB: g.transB,
        record: rec,
      });
      this.note(
        "gemm",
        `forward layer ${l}${last ? "" : " + bias + ReLU"}`,
        t,
        t,
        variantOf(this.ctx, h, w, o, {}),
      );
      h = o;
    }
    return h;
  }

  /**
   * The dispatches of one training step on a batch of b rows drawn from `split` (recorded once per
   * b and split, then replayed).
   */
  async trainPlan(split: GpuSplit, b: number, mean: Rgb, std: Rgb): Promise<RecordedDispatch[]> {
    const key = `train:${split.name}:${b}`;
    const hit = this.plans.get(key);
    if (hit) return hit;
    if (b > this.maxBatch) throw new ModelError("bad-value", `batch ${b} > the model's ${this.maxBatch}`);
    const { ctx } = this;
    const t = this.policy.compute;
    const rec: RecordedDispatch[] = [];
    const x = reshapeView(this.acts.x, [b, this.shape.inputs]);
    const labels = reshapeView(this.acts.labels, [b]);
    await batchInput(
      ctx,
      { ...split, allLabels: split.labels, x, labels, state: this.state, slot: TRAIN_SLOT, mean, std },
      { record: rec },
    );
    this.note("batch_input", "gather + normalise", "u8", t);
    const logits = await this.recordForward(b, rec);
    const dLogits = reshapeView(this.acts.dLogits, [b, this.shape.classes]);
    const rowLoss = reshapeView(this.acts.rowLoss, [b]);
    await softmaxXent(ctx, { logits, labels, dLogits, rowLoss, state: this.state }, { record: rec });
    this.note("softmax_xent", "loss and its (scaled) gradient, f32 inside", t, t);
    await metrics(
      ctx,
      { logits, labels, rowLoss, sums: this.trainSums, state: this.state, slot: TRAIN_SLOT },
      { record: rec },
    );
    this.note("metrics", "loss sum, top-1/top-5 counts", t, "f32/u32");
    let dz = dLogits;
    for (let l = this.layers - 1; l >= 0; l--) {
      const input = l === 0 ? x : reshapeView(this.acts.h[l - 1], [b, this.shape.hidden[l - 1]]);
      const gw = this.grads.views.get(`layers.${l}.weight`) as Tensor;
      const gb = this.grads.views.get(`layers.${l}.bias`) as Tensor;
      // The overflow decision must be on the GPU before the first layer's weight gradient, which
      // (fused) applies the update at once: every tensor it reads is final by now (see
      // overflowSources), and the check is the same for the unfused path.
      if (l === 0) await this.recordOverflowCheck(rec, b);
      if (l === 0 && this.fusedFirstLayer) {
        await this.recordFirstLayerUpdate(rec, input, dz);
      } else if (l === 0 && this.overlapChunks > 0) {
        await this.recordFirstLayerOverlap(rec, input, dz);
      } else {
        const g = stepGemm("weight gradient", l, this.layers);
        const opts = { transA: g.transA, transB: g.transB, relu: g.relu };
        await gemm(ctx, input, dz, gw, { ...opts, record: rec });
        this.note(
          "gemm",
          `weight gradient layer ${l} (Hᵀ·dZ)`,
          t,
          "f32",
          variantOf(ctx, input, dz, gw, opts),
        );
      }
      await biasGrad(ctx, { dY: dz, db: gb }, { record: rec });
      this.note("bias_grad", `bias gradient layer ${l}`, t, "f32");
      if (l > 0) {
        const dh = reshapeView(this.acts.dh[l - 1], [b, this.shape.hidden[l - 1]]);
        const g = stepGemm("input gradient", l, this.layers);
        const opts = { transA: g.transA, transB: g.transB, relu: g.relu };
        await gemm(ctx, dz, this.weightFor(l, "weight"), dh, { ...opts, record: rec });
        this.note(
          "gemm",
          `input gradient layer ${l} (dZ·Wᵀ)`,
          t,
          t,
          variantOf(ctx, dz, this.weightFor(l, "weight"), dh, opts),
        );
        const dzPrev = reshapeView(this.acts.dz[l - 1], [b, this.shape.hidden[l - 1]]);
        await reluBackward(ctx, { dY: dh, y: input, dX: dzPrev }, { record: rec });
        this.note("relu_backward", `layer ${l - 1}`, t, t);
        dz = dzPrev;
      }
    }
    await this.recordUpdate(rec, b);
    this.plans.set(key, rec);
    return rec;
  }

  /** Overflow check (mixed), the optimizer over whole slabs, and the loss-scale/step update. */
  private overflowSources(b: number): Tensor[] {
    const a = this.acts;
    return [
      reshapeView(a.dLogits, [b, this.shape.classes]),
      ...a.h.map((t) => reshapeView(t, [b, t.shape[1]])),
      ...a.dh.map((t) => reshapeView(t, [b, t.shape[1]])),
    ];
  }

  /**
   * The overflow check (mixed precision) into this.flag. It runs over the f16 tensors every
   * gradient is computed from — the hidden activations H, dLogits and each dH — not over the f32
   * gradients themselves: a weight gradient Hᵀ·dZ accumulates in f32 from f16 factors
   * (|·| ≤ 65504, K = batch), so it is non-finite exactly when one of them is (dZ is dH masked by
   * ReLU, X is checked finite before training). Same decision as a check of the gradients, on B·N
   * elements instead of every parameter (154 M at the dissertation's shapes: 0.4 ms of an H200's
   * step), and known before the first layer's dW, so its fused update can skip on the GPU.
   */
  private async recordOverflowCheck(rec: RecordedDispatch[], b: number): Promise<void> {
    if (!this.policy.lossScaling) return;
    // One dispatch over every source (a launch, not three, in each mixed-precision step).
    await nonfinite(this.ctx, { x: this.overflowSources(b), flag: this.flag }, { record: rec });
    this.note("nonfinite", "overflow check of the f16 activations and activation gradients", "f16", "flag");
  }

  /** What layer 0's fused or overlapped weight update takes: its tensors, the rule, state and flag. */
  private firstLayerUpdateArgs(x: Tensor, dz: Tensor): WeightGradUpdateArgs {
    const name = "layers.0.weight";
    const view = (s: Slab | null) => s?.views.get(name);
    const o = this.optimizer;
    const rule: UpdateRule =
      o.name === "sgd"
        ? { name: "sgd", lr: o.lr, momentum: o.momentum, nesterov: o.nesterov, weightDecay: o.weightDecay }
        : {
            name: "adam",
            lr: o.lr,
            beta1: o.beta1,
            beta2: o.beta2,
            eps: o.eps,
            weightDecay: o.weightDecay,
            decoupled: o.name === "adamw",
          };
    return {
      x,
      dz,
      w: view(this.params) as Tensor,
      m: view(this.m) as Tensor,
      v: view(this.v),
      rule,
      state: this.state,
      flag: this.policy.lossScaling ? this.flag : undefined,
      wHalf: view(this.half),
    };
  }

  /** Layer 0's dW = Xᵀ·dZ with the optimizer in its epilogue: its weights, moments and f16 copy. */
  private async recordFirstLayerUpdate(rec: RecordedDispatch[], x: Tensor, dz: Tensor): Promise<void> {
    const o = this.optimizer;
    const args = this.firstLayerUpdateArgs(x, dz);
    const { w } = args;
    await weightGradUpdate(this.ctx, args, { ...this.fusedKernel, record: rec });
    this.note(
      "weight_grad_update",
      `weight gradient layer 0 (Xᵀ·dZ) + ${o.name}${this.half ? ", writes the f16 copy" : ""}`,
      this.policy.compute,
      "f32",
      describeWeightGradUpdate(this.ctx, x, dz, w, this.fusedKernel),
    );
  }

  /** Layer 0's dW = Xᵀ·dZ stored in grads, its optimizer step overlapped beside the GEMM. */
  private async recordFirstLayerOverlap(rec: RecordedDispatch[], x: Tensor, dz: Tensor): Promise<void> {
    const o = this.optimizer;
    const g = this.grads.views.get("layers.0.weight") as Tensor;
    // The kernel choice given for the fused update (firstLayerUpdateKernel) serves here too.
    const options = {
      ...this.fusedKernel,
      chunks: this.overlapChunks,
      slotsInFlight: this.overlapSlots,
      record: rec,
    };
    await weightGradOverlap(this.ctx, { ...this.firstLayerUpdateArgs(x, dz), g }, options);
    this.note(
      "weight_grad_overlap",
      `weight gradient layer 0 (Xᵀ·dZ) + ${o.name} beside it${this.half ? ", writes the f16 copy" : ""}`,
      this.policy.compute,
      "f32",
      describeWeightGradOverlap(this.ctx, x, dz, g, options),
    );
  }

  /** Whether layer 0's weights are updated before the slab optimizer runs (fused or overlapped). */
  get firstLayerUpdatedApart(): boolean {
    return this.fusedFirstLayer || this.overlapChunks > 0;
  }

  private async recordUpdate(rec: RecordedDispatch[], _b: number): Promise<void> {
    const { ctx } = this;
    const limit = storageLimit(ctx);
    // Fused or overlapped: layer 0's weights (the slab's first entry) are already updated; the
    // rest from the next entry's offset (a multiple of SLAB_ALIGN, so f16 and f32 chunks still
    // line up).
    const from = this.firstLayerUpdatedApart ? (this.params.layout.entries[1]?.offset ?? 0) : 0;
    const chunks = (s: Slab | null) => (s ? slabChunks(s, limit, from) : []);
    const [w, g, m, v, half] = [
      chunks(this.params),
      chunks(this.grads),
      chunks(this.m),
      chunks(this.v),
      chunks(this.half),
    ];
    const flag = this.policy.lossScaling ? this.flag : undefined;
    const o = this.optimizer;
    for (let i = 0; i < w.length; i++) {
      if (o.name === "sgd")
        await sgd(
          ctx,
          {
            w: w[i],
            v: m[i],
            g: g[i],
            lr: o.lr,
            momentum: o.momentum,
            nesterov: o.nesterov,
            weightDecay: o.weightDecay,
            flag,
            wHalf: half[i],
            state: this.state,
          },
          { record: rec },
        );
      else
        await adam(
          ctx,
          {
            w: w[i],
            m: m[i],
            v: v[i],
            g: g[i],
            step: 1,
            lr: o.lr,
            beta1: o.beta1,
            beta2: o.beta2,
            eps: o.eps,
            weightDecay: o.weightDecay,
            decoupled: o.name === "adamw",
            flag,
            wHalf: half[i],
            state: this.state,
          },
          { record: rec },
        );
    }
    this.note(
      o.name === "sgd" ? "sgd" : "adam",
      `${o.name} over ${this.firstLayerUpdatedApart ? "the parameters past layer 0's weights" : "all parameters"}${half.length ? ", writes the f16 copy" : ""}`,
      "f32",
      "f32",
    );
    const ls = this.policy.lossScaling;
    await lossScale(
      ctx,
      {
        flag: this.flag,
        state: this.state,
        dynamic: ls !== null,
        growth: ls?.growthFactor,
        backoff: ls?.backoffFactor,
        interval: ls?.growthInterval,
      },
      { record: rec },
    );
    this.note("loss_scale", ls ? "skip/step count, dynamic loss scale" : "step count", "flag", "state");
  }

  /** The dispatches of one evaluation batch of b rows from `split` (forward, loss, metrics). */
  async evalPlan(split: GpuSplit, b: number, mean: Rgb, std: Rgb): Promise<RecordedDispatch[]> {
    const key = `eval:${split.name}:${b}`;
    const hit = this.plans.get(key);
    if (hit) return hit;
    const { ctx } = this;
    const rec: RecordedDispatch[] = [];
    const x = reshapeView(this.acts.x, [b, this.shape.inputs]);
    const labels = reshapeView(this.acts.labels, [b]);
    await batchInput(
      ctx,
      { ...split, allLabels: split.labels, x, labels, state: this.state, slot: EVAL_SLOT, mean, std },
      { record: rec },
    );
    const logits = await this.recordForward(b, rec);
    const rowLoss = reshapeView(this.acts.rowLoss, [b]);
    await softmaxXent(ctx, { logits, labels, rowLoss, state: this.state }, { record: rec });
    await metrics(
      ctx,
      { logits, labels, rowLoss, sums: this.evalSums, state: this.state, slot: EVAL_SLOT },
      { record: rec },
    );
    this.plans.set(key, rec);
    return rec;
  }

  /** Parameters in all (padding excluded). */
  get parameterCount(): number {
    return this.params.layout.entries.reduce((a, e) => a + e.size, 0);
  }

  destroy(): void {
    for (const s of [this.params, this.grads, this.m, this.v, this.half]) s?.all.buffer.destroy();
    const a = this.acts;
    for (const t of [
      a.x,
      a.labels,
      a.logits,
      a.dLogits,
      a.rowLoss,
      ...a.h,
      ...a.dh,
      ...a.dz,
      this.flag,
      this.trainSums,
      this.evalSums,
    ])
      t.buffer.destroy();
    this.state.destroy();
  }
}

export { METRIC_WORDS };
