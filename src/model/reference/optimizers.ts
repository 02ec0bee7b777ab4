// Float64 CPU reference of one optimizer step, written from PyTorch's documented algorithms
// (https://pytorch.org/docs/stable/generated/torch.optim.SGD.html, .Adam.html, .AdamW.html) and
// deliberately NOT from the kernels (src/kernels/sgd.ts, adam.ts): it shares no code, no
// uniform packing and no precomputed constants with them, so a test that compares the two can
// catch a wrong formula in either.
//
// Notation from the PyTorch docs: γ = lr, λ = weightDecay, μ = momentum, β1, β2, ε, t = step.
//
// SGD (dampening τ = 0, which is all the kernel offers):
//   g ← g + λ·w                          (weight decay as L2 in the gradient)
//   b ← μ·b + g                          (PyTorch sets b = g on its first step; starting the
//                                         buffer at 0 gives the same value, so no special case)
//   d ← g + μ·b  (nesterov)  or  d ← b
//   w ← w − γ·d
// Adam:
//   g ← g + λ·w                          (L2; only when not decoupled)
//   w ← w − γ·λ·w                        (AdamW: decoupled decay, applied before the moments)
//   m ← β1·m + (1 − β1)·g;   v ← β2·v + (1 − β2)·g²
//   m̂ = m / (1 − β1^t);      v̂ = v / (1 − β2^t)
//   w ← w − γ·m̂ / (√v̂ + ε)
//
// Mixed-precision extras, as the kernels and PyTorch's GradScaler do them: the gradient is that
// of the loss times `lossScale`, so it is divided by lossScale first; and when `skip` is set (a
// non-finite gradient was seen this step) nothing at all changes — weights, moments, buffers.
// A caller that wants PyTorch's step counting must then not advance `step` for Adam.
//
// Every function updates its Float64Arrays in place and returns whether it stepped.

/** Inputs that no optimizer step can take: mismatched lengths, out-of-range hyper-parameters. */
export class OptimizerReferenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OptimizerReferenceError";
  }
}

export interface SgdRefOptions {
  lr: number;
  /** μ, default 0. With 0 the buffer just holds the gradient (PyTorch keeps none). */
  momentum?: number;
  nesterov?: boolean;
  /** λ, L2 added to the gradient. Default 0. */
  weightDecay?: number;
  /** The gradient is divided by this first. Default 1. */
  lossScale?: number;
  /** A non-finite gradient was seen: change nothing. Default false. */
  skip?: boolean;
}

export interface AdamRefOptions {
  /** t ≥ 1, the number of steps taken including this one. */
  step: number;
  lr: number;
  /** Defaults 0.9, 0.999, 1e-8 (PyTorch's). */
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** λ. Adam: L2 added to the gradient; AdamW (decoupled): w ← w − lr·λ·w. Default 0. */
  weightDecay?: number;
  /** AdamW. Default false. */
  decoupled?: boolean;
  /** The gradient is divided by this first. Default 1. */
  lossScale?: number;
  /** A non-finite gradient was seen: change nothing. Default false. */
  skip?: boolean;
}

function checkLengths(op: string, arrays: Record<string, ArrayLike<number>>): void {
  const entries = Object.entries(arrays);
  const [firstName, first] = entries[0];
  for (const [name, a] of entries.slice(1))
    if (a.length !== first.length)
      throw new OptimizerReferenceError(
        `${op}: ${name} has ${a.length} elements but ${firstName} has ${first.length}`,
      );
}

function checkRange(op: string, name: string, x: number, lo: number, hi = Number.POSITIVE_INFINITY): void {
  if (!(x >= lo && x <= hi))
    throw new OptimizerReferenceError(`${op}: ${name} = ${x} must be in [${lo}, ${hi}]`);
}

/** True when any value of any array is NaN or ±inf (what the `nonfinite` kernel flags). */
export function anyNonFinite(...arrays: ArrayLike<number>[]): boolean {
  for (const a of arrays) for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return true;
  return false;
}

/** One torch.optim.SGD step (dampening 0) on w with momentum buffer v; true if it stepped. */
export function sgdStepRef(
  w: Float64Array,
  v: Float64Array,
  g: ArrayLike<number>,
  o: SgdRefOptions,
): boolean {
  const op = "sgdStepRef";
  checkLengths(op, { w, v, g });
  const { lr, momentum = 0, nesterov = false, weightDecay = 0, lossScale = 1, skip = false } = o;
  checkRange(op, "lr", lr, 0);
  checkRange(op, "momentum", momentum, 0);
  checkRange(op, "weightDecay", weightDecay, 0);
  checkRange(op, "lossScale", lossScale, Number.MIN_VALUE);
  // PyTorch refuses Nesterov without momentum (it would be plain SGD under another name).
  if (nesterov && momentum === 0) throw new OptimizerReferenceError(`${op}: nesterov needs momentum > 0`);
  if (skip) return false;
  for (let i = 0; i < w.length; i++) {
    const grad = g[i] / lossScale + weightDecay * w[i];
    v[i] = momentum * v[i] + grad;
    const d = nesterov ? grad + momentum * v[i] : v[i];
    w[i] -= lr * d;
  }
  return true;
}

/** One torch.optim.Adam (or AdamW, `decoupled`) step, no amsgrad; true if it stepped. */
export function adamStepRef(
  w: Float64Array,
  m: Float64Array,
  v: Float64Array,
  g: ArrayLike<number>,
  o: AdamRefOptions,
): boolean {
  const op = "adamStepRef";
  checkLengths(op, { w, m, v, g });
  const { step, lr, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0 } = o;
  const { decoupled = false, lossScale = 1, skip = false } = o;
  if (!Number.isInteger(step) || step < 1)
    throw new OptimizerReferenceError(`${op}: step = ${step} must be an integer ≥ 1`);
  checkRange(op, "lr", lr, 0);
  // β < 1 strictly: 1 − β^t is a divisor.
  checkRange(op, "beta1", beta1, 0, 1 - Number.EPSILON);
  checkRange(op, "beta2", beta2, 0, 1 - Number.EPSILON);
  checkRange(op, "eps", eps, 0);
  checkRange(op, "weightDecay", weightDecay, 0);
  checkRange(op, "lossScale", lossScale, Number.MIN_VALUE);
  if (skip) return false;
  const bc1 = 1 - beta1 ** step;
  const bc2 = 1 - beta2 ** step;
  for (let i = 0; i < w.length; i++) {
    let grad = g[i] / lossScale;
    if (decoupled) w[i] -= lr * weightDecay * w[i];
    else grad += weightDecay * w[i];
    m[i] = beta1 * m[i] + (1 - beta1) * grad;
    v[i] = beta2 * v[i] + (1 - beta2) * grad * grad;
    const mHat = m[i] / bc1;
    const vHat = v[i] / bc2;
    w[i] -= (lr * mHat) / (Math.sqrt(vHat) + eps);
  }
  return true;
}
