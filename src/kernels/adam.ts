// adam: Adam, or AdamW with `decoupled`, on f32 master weights and f32 moments, PyTorch's
// formulation (torch.optim.Adam / AdamW, no amsgrad):
//   g = grad/lossScale (+ weightDecay·w for Adam);  w ·= 1 − lr·weightDecay (AdamW)
//   m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
//   w −= lr/(1−β1^t) · m / (sqrt(v)/sqrt(1−β2^t) + eps)
// The bias corrections are formed on the GPU from t = the training state's step count + 1
// (src/kernels/train-state.ts), so the step runtime never rewrites a uniform; this wrapper puts
// `step` and `lossScale` in a constant state buffer. The gradient may be f16 or f32. Optionally
// writes the f16 copy of the new weights. When the non-finite flag is set the kernel writes
// nothing (no read-back needed) — but the caller's step count still advances; see `step`.
// Memory-bound: 16-byte accesses, 8 elements a thread (optimizer-slots.ts).
import type { GpuContext } from "../gpu/device.js";
import { KernelInputError } from "../gpu/errors.js";
import {
  checkDistinct,
  checkScalar,
  checkTensor,
  describe,
  type FloatDtype,
  floatDtype,
  spareBuffer,
  WG,
} from "./opcheck.js";
import { checkSlotCoverage, optimizerGrid } from "./optimizer-slots.js";
import { type DispatchOptions, dispatch, getProgram, type ProgramSpec } from "./program.js";
import type { Tensor } from "./tensor.js";
import { constantState } from "./train-state.js";

const OP = "adam";

export interface AdamArgs {
  /** f32 master weights, updated in place. */
  w: Tensor;
  /** f32 first and second moments, same size, updated in place; start them at 0. */
  m: Tensor;
  v: Tensor;
  /** Gradient of the scaled loss, f32 or f16, same size. */
  g: Tensor;
  /**
   * The step number t ≥ 1 for the bias corrections. PyTorch does not count a step that
   * GradScaler skipped; a caller that wants the same must not advance t on a skipped step, which
   * needs the flag on the CPU (reading it a step late is usually enough).
   */
  step: number;
  lr: number;
  /** Defaults 0.9, 0.999, 1e-8 (PyTorch's). */
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Default 0. Adam: L2 added to the gradient; AdamW (decoupled): w ·= 1 − lr·weightDecay. */
  weightDecay?: number;
  /** AdamW's decoupled weight decay. Default false. */
  decoupled?: boolean;
  /** The loss scale the gradient carries; it is divided out. Default 1. Ignored with `state`. */
  lossScale?: number;
  /**
   * The training state buffer (train-state.ts) to read the loss scale and step count from, as the
   * step runtime does; `step` must then be 1 (it is checked but not used).
   */
  state?: GPUBuffer;
  /** u32 [1] from `nonfinite`: when non-zero, the update is skipped. Omitted: always update. */
  flag?: Tensor;
  /** f16 output, same size: the new weights rounded to f16 (nearest even, overflow to inf). */
  wHalf?: Tensor;
}

export function adamSpec(gradType: FloatDtype, writeCopy: boolean): ProgramSpec {
  return {
    op: OP,
    shader: "adam",
    includes: ["lib/f16_bits", "lib/train_state", "lib/adam_math", "lib/adam_slot", "lib/optimizer_step"],
    aliases: { T: gradType },
    consts: { WRITE_COPY: writeCopy },
    bindings: [
      { name: "w", access: "read_write", type: "vec4<f32>" },
      { name: "m", access: "read_write", type: "vec4<f32>" },
      { name: "v", access: "read_write", type: "vec4<f32>" },
      { name: "grad", access: "read", type: "vec4<T>" },
      { name: "flag", access: "read", type: "u32" },
      { name: "copy", access: "read_write", type: "vec2<u32>" },
      { name: "state", access: "read", type: "u32" },
    ],
    uniforms: [["n", "u32"], ...ADAM_HYPER_UNIFORMS],
    workgroupSize: [WG],
  };
}

/** The hyper-parameter uniforms shaders/lib/adam_math.wgsl reads (after any of the kernel's own). */
export const ADAM_HYPER_UNIFORMS: [string, "f32"][] = [
  ["lr", "f32"],
  ["beta1", "f32"],
  ["beta2", "f32"],
  ["eps", "f32"],
  ["l2", "f32"],
  ["decay", "f32"],
  ["ln_beta1", "f32"],
  ["ln_beta2", "f32"],
];

/** The hyper-parameters of an Adam(W) step, as AdamArgs names them. */
export type AdamHyper = Pick<AdamArgs, "lr" | "beta1" | "beta2" | "eps" | "weightDecay" | "decoupled">;

/** Values for ADAM_HYPER_UNIFORMS: the per-run hyper-parameters only (per-step values are in the state). */
export function adamHyperUniforms(h: AdamHyper): number[] {
  const { lr, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0, decoupled = false } = h;
  return [
    lr,
    beta1,
    beta2,
    eps,
    decoupled ? 0 : weightDecay,
    decoupled ? 1 - lr * weightDecay : 1,
    Math.log(beta1),
    Math.log(beta2),
  ];
}

/**
 * Checks an Adam(W) step's hyper-parameters (op: the kernel's name for errors); with no state
 * buffer, also that `step`'s bias corrections stay finite in f32.
 */
export function checkAdamHyper(
  op: string,
  h: AdamHyper & { step: number; lossScale?: number; state?: GPUBuffer },
): void {
  if (!Number.isInteger(h.step) || h.step < 1)
    throw new KernelInputError(op, `step = ${h.step} must be an integer ≥ 1`);
  checkScalar(op, "lr", h.lr, 0);
  // β < 1 strictly: 1 − β^t is a divisor.
  checkScalar(op, "beta1", h.beta1 ?? 0.9, 0, 1 - 2 ** -24);
  checkScalar(op, "beta2", h.beta2 ?? 0.999, 0, 1 - 2 ** -24);
  checkScalar(op, "eps", h.eps ?? 1e-8, Number.MIN_VALUE);
  checkScalar(op, "weightDecay", h.weightDecay ?? 0, 0);
  checkScalar(op, "lossScale", h.lossScale ?? 1, Number.MIN_VALUE);
  // β1 = 0 gives ln β1 = −inf: 1 − 0^t = 1 on the GPU too (exp(−inf) = 0), so allow that one.
  const { beta1 = 0.9, beta2 = 0.999, lr } = h;
  if (!h.state) {
    const bc1 = 1 - beta1 ** h.step;
    const bc2 = 1 - beta2 ** h.step;
    if (
      !Number.isFinite(Math.fround(lr / bc1)) ||
      !Number.isFinite(Math.fround(1 / Math.sqrt(bc2))) ||
      bc2 === 0
    )
      throw new KernelInputError(
        op,
        `step ${h.step}: a bias correction overflows f32 (β1 ${beta1}, β2 ${beta2})`,
      );
  }
}

/** One Adam(W) step over every element. Records into options.encoder when given. */
export async function adam(ctx: GpuContext, args: AdamArgs, options: DispatchOptions = {}): Promise<void> {
  const { w, m, v, g, flag, wHalf } = args;
  const n = w.size;
  const same = { size: n, why: `as w ${describe(w)}` };
  checkTensor(ctx, OP, "w", w, { dtype: "f32" });
  checkTensor(ctx, OP, "m", m, { dtype: "f32", ...same });
  checkTensor(ctx, OP, "v", v, { dtype: "f32", ...same });
  checkTensor(ctx, OP, "g", g, { dtype: floatDtype(OP, "g", g), ...same });
  if (flag) checkTensor(ctx, OP, "flag", flag, { dtype: "u32", size: 1 });
  if (wHalf) checkTensor(ctx, OP, "wHalf", wHalf, { dtype: "f16", ...same });
  checkDistinct(OP, { w, m, v, g, flag, wHalf });
  checkSlotCoverage(OP, { w, m, v, g, wHalf });
  checkAdamHyper(OP, args);
  const uniforms = [n, ...adamHyperUniforms(args)];
  const program = await getProgram(ctx, adamSpec(g.dtype as FloatDtype, !!wHalf));
  const buffers = [
    w,
    m,
    v,
    g,
    flag ?? spareBuffer(ctx, "zero flag (read only)", 4),
    wHalf ?? spareBuffer(ctx, `${OP}.copy`, 4),
    args.state ?? constantState(ctx, { scale: args.lossScale ?? 1, steps: args.step - 1 }),
  ];
  dispatch(ctx, program, buffers, uniforms, optimizerGrid(ctx, OP, n), options);
}
