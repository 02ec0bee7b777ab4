// Float64 CPU reference of the dense classifier the trainer runs on the GPU: forward, the
// gradient of the mean softmax cross-entropy, top-k accuracy, and one training step composed with
// the optimizer references. Plain loops, no cleverness: it is what the fast path is checked
// against (the trainer's self-check and the tests), so it must be obviously right, not fast.
//
// Layout (the GPU side uses the same):
//   X       [B, D] row-major, already normalised (normalizeImagesRef);
//   W_l     [in_l, out_l] row-major, b_l [out_l], for l = 0..L−1;
//   Z_l     = H_{l−1}·W_l + b_l with H_{−1} = X;  H_l = ReLU(Z_l) for l < L−1;
//   logits  = Z_{L−1} [B, C];  loss = mean over rows of (logsumexp(z) − z[label]).
// ReLU's derivative at exactly 0 is 0, as relu_backward (src/kernels/relu-backward.ts: dX = dY
// where Y > 0) and PyTorch's threshold_backward.
import { ModelError } from "../errors.js";
import {
  type AdamRefOptions,
  adamStepRef,
  anyNonFinite,
  type SgdRefOptions,
  sgdStepRef,
} from "./optimizers.js";

export type Rgb = readonly [number, number, number];

/** The classifier's parameters: sizes [D, hidden…, C], weights[l] [sizes[l], sizes[l+1]], biases[l] [sizes[l+1]]. */
export interface MlpParamsRef {
  sizes: readonly number[];
  weights: Float64Array[];
  biases: Float64Array[];
}

/** Gradients, shaped as the parameters. */
export interface MlpGradsRef {
  weights: Float64Array[];
  biases: Float64Array[];
}

export interface MlpForwardRef {
  /** [B, C]. */
  logits: Float64Array;
  /** The hidden activations H_0..H_{L−2} (post-ReLU), each [B, sizes[l+1]]: the backward pass needs them. */
  hidden: Float64Array[];
}

export interface MlpLossAndGradsRef {
  /** Mean cross-entropy over the batch (unscaled). */
  loss: number;
  /** Each row's cross-entropy, [B]. */
  rowLoss: Float64Array;
  /** Gradient of (mean loss × lossScale). */
  grads: MlpGradsRef;
  logits: Float64Array;
}

/** y = (x/255 − mean[c]) / std[c] with channel c = index % 3 (NHWC, flattened HWC per image), as image_normalize. */
export function normalizeImagesRef(images: Uint8Array, mean: Rgb, std: Rgb): Float64Array {
  if (images.length % 3 !== 0)
    throw new ModelError(
      "bad-shape",
      `normalizeImagesRef: ${images.length} bytes is not a multiple of 3 (RGB)`,
    );
  for (let c = 0; c < 3; c++)
    if (!Number.isFinite(mean[c]) || !(std[c] > 0) || !Number.isFinite(std[c]))
      throw new ModelError(
        "bad-value",
        `normalizeImagesRef: channel ${c} needs a finite mean and std > 0, got ${mean[c]}, ${std[c]}`,
      );
  const out = new Float64Array(images.length);
  for (let i = 0; i < images.length; i++) {
    const c = i % 3;
    out[i] = (images[i] / 255 - mean[c]) / std[c];
  }
  return out;
}

/** Throws unless params hold consistent shapes. */
export function checkParams(params: MlpParamsRef): void {
  const { sizes, weights, biases } = params;
  const L = sizes.length - 1;
  if (L < 1) throw new ModelError("bad-shape", `mlp: sizes ${JSON.stringify(sizes)} need at least [D, C]`);
  for (const [i, s] of sizes.entries())
    if (!Number.isInteger(s) || s < 1)
      throw new ModelError("bad-shape", `mlp: sizes[${i}] = ${s} must be a positive integer`);
  if (weights.length !== L || biases.length !== L)
    throw new ModelError(
      "bad-shape",
      `mlp: ${L} layers need ${L} weights and biases, got ${weights.length} and ${biases.length}`,
    );
  for (let l = 0; l < L; l++) {
    if (weights[l].length !== sizes[l] * sizes[l + 1])
      throw new ModelError(
        "bad-shape",
        `mlp: weights[${l}] has ${weights[l].length} values, want [${sizes[l]}, ${sizes[l + 1]}]`,
      );
    if (biases[l].length !== sizes[l + 1])
      throw new ModelError(
        "bad-shape",
        `mlp: biases[${l}] has ${biases[l].length} values, want [${sizes[l + 1]}]`,
      );
  }
}

function checkInput(params: MlpParamsRef, X: ArrayLike<number>, B: number): void {
  checkParams(params);
  if (!Number.isInteger(B) || B < 1)
    throw new ModelError("bad-shape", `mlp: batch ${B} must be a positive integer`);
  const D = params.sizes[0];
  if (X.length !== B * D)
    throw new ModelError("bad-shape", `mlp: X has ${X.length} values, want [${B}, ${D}]`);
}

/** out[B, n] = A[B, k]·W[k, n] + b, then ReLU when asked. */
function dense(
  A: ArrayLike<number>,
  W: Float64Array,
  b: Float64Array,
  B: number,
  k: number,
  n: number,
  relu: boolean,
) {
  const out = new Float64Array(B * n);
  for (let r = 0; r < B; r++)
    for (let j = 0; j < n; j++) {
      let s = b[j];
      for (let p = 0; p < k; p++) s += A[r * k + p] * W[p * n + j];
      out[r * n + j] = relu ? Math.max(s, 0) : s; // max keeps a NaN, as torch.relu
    }
  return out;
}

/** Logits [B, C] and the hidden activations of a batch X [B, D]. */
export function mlpForward(params: MlpParamsRef, X: ArrayLike<number>, B: number): MlpForwardRef {
  checkInput(params, X, B);
  const { sizes, weights, biases } = params;
  const L = sizes.length - 1;
  const hidden: Float64Array[] = [];
  let h: ArrayLike<number> = X;
  for (let l = 0; l < L; l++) {
    const z = dense(h, weights[l], biases[l], B, sizes[l], sizes[l + 1], l < L - 1);
    if (l < L - 1) hidden.push(z);
    h = z;
  }
  return { logits: h as Float64Array, hidden };
}

function checkLabels(labels: ArrayLike<number>, B: number, C: number, who: string): void {
  if (labels.length !== B)
    throw new ModelError("bad-shape", `${who}: ${labels.length} labels for a batch of ${B}`);
  for (let r = 0; r < B; r++)
    if (!Number.isInteger(labels[r]) || labels[r] < 0 || labels[r] >= C)
      throw new ModelError(
        "bad-label",
        `${who}: label of row ${r} is ${labels[r]}, want an integer in [0, ${C})`,
      );
}

/**
 * Mean softmax cross-entropy of logits [B, C] and the gradient of (mean loss × lossScale),
 * dLogits = (softmax − onehot) / B · lossScale. Stable: logsumexp after subtracting the row max.
 */
export function softmaxXentRef(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  B: number,
  C: number,
  lossScale = 1,
): { loss: number; rowLoss: Float64Array; dLogits: Float64Array } {
  if (logits.length !== B * C)
    throw new ModelError(
      "bad-shape",
      `softmaxXentRef: logits have ${logits.length} values, want [${B}, ${C}]`,
    );
  checkLabels(labels, B, C, "softmaxXentRef");
  const rowLoss = new Float64Array(B);
  const dLogits = new Float64Array(B * C);
  let sum = 0;
  for (let r = 0; r < B; r++) {
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < C; j++) max = Math.max(max, logits[r * C + j]);
    let se = 0;
    for (let j = 0; j < C; j++) se += Math.exp(logits[r * C + j] - max);
    // ln(se) − (z_y − max) rather than (max + ln se) − z_y: no cancellation at large logits.
    rowLoss[r] = Math.log(se) - (logits[r * C + labels[r]] - max);
    sum += rowLoss[r];
    for (let j = 0; j < C; j++) {
      const p = Math.exp(logits[r * C + j] - max) / se;
      dLogits[r * C + j] = ((p - (j === labels[r] ? 1 : 0)) / B) * lossScale;
    }
  }
  return { loss: sum / B, rowLoss, dLogits };
}

/**
 * The mean loss of a batch and its gradient with respect to every parameter, by the chain rule:
 *   dZ_{L−1} = dLogits;  dW_l = H_{l−1}ᵀ·dZ_l;  db_l = Σ_rows dZ_l;
 *   dZ_{l−1} = (dZ_l·W_lᵀ) ⊙ [H_{l−1} > 0].
 * lossScale multiplies the gradients (not the loss), as mixed precision's scaled loss does.
 */
export function mlpLossAndGrads(
  params: MlpParamsRef,
  X: ArrayLike<number>,
  labels: ArrayLike<number>,
  B: number,
  lossScale = 1,
): MlpLossAndGradsRef {
  const { logits, hidden } = mlpForward(params, X, B);
  const { sizes, weights } = params;
  const L = sizes.length - 1;
  const C = sizes[L];
  const { loss, rowLoss, dLogits } = softmaxXentRef(logits, labels, B, C, lossScale);
  const gW: Float64Array[] = new Array(L);
  const gB: Float64Array[] = new Array(L);
  let dZ = dLogits;
  for (let l = L - 1; l >= 0; l--) {
    const k = sizes[l];
    const n = sizes[l + 1];
    const A: ArrayLike<number> = l === 0 ? X : hidden[l - 1];
    const dW = new Float64Array(k * n);
    const db = new Float64Array(n);
    for (let r = 0; r < B; r++)
      for (let j = 0; j < n; j++) {
        const d = dZ[r * n + j];
        db[j] += d;
        for (let p = 0; p < k; p++) dW[p * n + j] += A[r * k + p] * d;
      }
    gW[l] = dW;
    gB[l] = db;
    if (l > 0) {
      const W = weights[l];
      const dA = new Float64Array(B * k);
      for (let r = 0; r < B; r++)
        for (let p = 0; p < k; p++) {
          if (!(A[r * k + p] > 0)) continue; // ReLU'(0) = 0: Y > 0, as relu_backward
          let s = 0;
          for (let j = 0; j < n; j++) s += dZ[r * n + j] * W[p * n + j];
          dA[r * k + p] = s;
        }
      dZ = dA;
    }
  }
  return { loss, rowLoss, grads: { weights: gW, biases: gB }, logits };
}

/**
 * Samples of the batch that are correct at top-k: the number of classes whose logit is strictly
 * greater than the label's logit is < k (ties count for the label). A row holding any NaN logit is
 * incorrect whatever its order.
 */
export function topkCorrect(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  B: number,
  C: number,
  k: number,
): number {
  if (logits.length !== B * C)
    throw new ModelError("bad-shape", `topkCorrect: logits have ${logits.length} values, want [${B}, ${C}]`);
  if (!Number.isInteger(k) || k < 1)
    throw new ModelError("bad-value", `topkCorrect: k = ${k} must be a positive integer`);
  checkLabels(labels, B, C, "topkCorrect");
  let correct = 0;
  for (let r = 0; r < B; r++) {
    const y = logits[r * C + labels[r]];
    let above = 0;
    let nan = false;
    for (let j = 0; j < C; j++) {
      const z = logits[r * C + j];
      if (Number.isNaN(z)) nan = true;
      else if (z > y) above++;
    }
    if (!nan && above < k) correct++;
  }
  return correct;
}

/** The optimizer of a reference training step: PyTorch's hyper-parameters (optimizers.ts). */
export type OptimizerRef =
  | { kind: "sgd"; options: Omit<SgdRefOptions, "lossScale" | "skip"> }
  | { kind: "adam"; options: Omit<AdamRefOptions, "step" | "lossScale" | "skip"> };

/**
 * Optimizer state per parameter tensor, in the order weights[0], biases[0], weights[1], …:
 * `m` is SGD's momentum buffer or Adam's first moment, `v` Adam's second moment (unused by SGD).
 * `step` counts the steps taken, not the skipped ones (GradScaler's convention).
 */
export interface TrainStateRef {
  step: number;
  m: Float64Array[];
  v: Float64Array[];
}

function paramTensors(p: MlpParamsRef | MlpGradsRef): Float64Array[] {
  return p.weights.flatMap((w, l) => [w, p.biases[l]]);
}

/** Zero optimizer state for params (PyTorch starts the buffers at 0 and the step at 0). */
export function initTrainStateRef(params: MlpParamsRef): TrainStateRef {
  checkParams(params);
  const zeros = () => paramTensors(params).map((t) => new Float64Array(t.length));
  return { step: 0, m: zeros(), v: zeros() };
}

export interface TrainStepRef {
  /** Loss and logits of the batch before the update. */
  loss: number;
  logits: Float64Array;
  /** False when a gradient was non-finite and the step was skipped (nothing changed). */
  stepped: boolean;
}

/**
 * One training step, in place on params and state: the gradient of the mean loss × lossScale
 * (mixed precision's scaled loss), then the optimizer with that lossScale, skipping the whole
 * step (every tensor, and Adam's step count) when any gradient is non-finite, as GradScaler.
 */
export function referenceTrainStep(
  params: MlpParamsRef,
  state: TrainStateRef,
  X: ArrayLike<number>,
  labels: ArrayLike<number>,
  B: number,
  optimizer: OptimizerRef,
  lossScale = 1,
): TrainStepRef {
  const { loss, logits, grads } = mlpLossAndGrads(params, X, labels, B, lossScale);
  const ps = paramTensors(params);
  const gs = paramTensors(grads);
  if (state.m.length !== ps.length || (optimizer.kind === "adam" && state.v.length !== ps.length))
    throw new ModelError(
      "bad-shape",
      `referenceTrainStep: state holds ${state.m.length} tensors, params ${ps.length}`,
    );
  const skip = anyNonFinite(...gs);
  if (!skip) state.step++;
  for (let i = 0; i < ps.length; i++) {
    if (optimizer.kind === "sgd")
      sgdStepRef(ps[i], state.m[i], gs[i], { ...optimizer.options, lossScale, skip });
    else
      adamStepRef(ps[i], state.m[i], state.v[i], gs[i], {
        ...optimizer.options,
        step: Math.max(state.step, 1),
        lossScale,
        skip,
      });
  }
  return { loss, logits, stepped: !skip };
}
