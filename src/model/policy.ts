// Precision as one explicit policy object, not dtype choices scattered through the trainer.
//   f32:   everything in f32 (the dissertation's FP32 runs; PyTorch fp32 with TF32 off).
//   mixed: Micikevicius et al., "Mixed Precision Training", ICLR 2018 (the dissertation's
//          reference [20]), as Keras' `mixed_float16` and PyTorch AMP do it: f32 master weights
//          with an f16 copy for the GEMMs, f16 activations and activation gradients, f32
//          accumulation inside every GEMM, softmax/cross-entropy and the optimizer in f32, and
//          dynamic loss scaling on the GPU. Weight and bias gradients are written by their GEMM /
//          reduction straight in f32 (the f32 accumulator, never rounded to f16 — PyTorch rounds
//          them to f16 and casts back), so the optimizer reads f32 gradients in both policies.
import { ModelError } from "./errors.js";

export interface LossScaling {
  /** Starting scale (PyTorch's GradScaler and Keras: 2^15 / 2^15). */
  initial: number;
  /** Clean steps before the scale doubles (PyTorch: 2000). */
  growthInterval: number;
  growthFactor: number;
  backoffFactor: number;
}

export interface PrecisionPolicy {
  name: "f32" | "mixed";
  /** Activations, activation gradients and the GEMMs' inputs. */
  compute: "f32" | "f16";
  /** Master weights, weight gradients, optimizer state: always f32. */
  master: "f32";
  /** softmax + cross-entropy arithmetic: always f32 (its output dLogits is `compute`). */
  loss: "f32";
  /** Dynamic loss scaling, or null (f32: no scaling, no overflow check). */
  lossScaling: LossScaling | null;
}

export const DEFAULT_LOSS_SCALING: LossScaling = {
  initial: 2 ** 15,
  growthInterval: 2000,
  growthFactor: 2,
  backoffFactor: 0.5,
};

export function precisionPolicy(name: string, scaling: Partial<LossScaling> = {}): PrecisionPolicy {
  if (name === "f32") return { name, compute: "f32", master: "f32", loss: "f32", lossScaling: null };
  if (name === "mixed") {
    const s = { ...DEFAULT_LOSS_SCALING, ...scaling };
    if (!(s.initial > 0 && Number.isFinite(s.initial)))
      throw new ModelError("bad-value", `loss scale ${s.initial} must be a positive finite number`);
    if (!(Number.isInteger(s.growthInterval) && s.growthInterval >= 1))
      throw new ModelError(
        "bad-value",
        `loss-scale growth interval ${s.growthInterval} must be an integer ≥ 1`,
      );
    if (!(s.growthFactor >= 1))
      throw new ModelError("bad-value", `growth factor ${s.growthFactor} must be ≥ 1`);
    if (!(s.backoffFactor > 0 && s.backoffFactor < 1))
      throw new ModelError("bad-value", `backoff factor ${s.backoffFactor} must be in (0, 1)`);
    return { name, compute: "f16", master: "f32", loss: "f32", lossScaling: s };
  }
  throw new ModelError("bad-value", `precision "${name}" is not one of f32, mixed`);
}
