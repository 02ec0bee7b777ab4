// adam: Adam, or AdamW with `decoupled`, on f32 master weights and f32 moments, PyTorch's
// formulation (torch.optim.Adam / AdamW, no amsgrad):
//   g = grad/lossScale (+ weightDecay·w for Adam);  w ·= 1 − lr·weightDecay (AdamW)
//   m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
//   w −= lr/(1−β1^t) · m / (sqrt(v)/sqrt(1−β2^t) + eps)
// The bias corrections are formed on the GPU from t = the training state's step count + 1
// (src/kernels/train-state.ts), so the step runtime never rewrites a uniform; this wrapper puts
// `step` and `lossScale` in a constant state buffer. The gradient may be f16 or f32. Optionally writes the f16 copy of the new weights. When the
// non-finite flag is set the kernel writes nothing (no read-back needed) — but the caller's step
// count still advances; see `step`.
import type { GpuContext } from "../gpu/device.js";
import { KernelInputError } from "../gpu/errors.js";
import {
  checkDistinct,
  checkScalar,
  checkTensor,
  describe,
  type FloatDtype,
  floatDtype,
  grid,
  spareBuffer,
  WG,
} from "./opcheck.js";
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
    includes: ["lib/f16_bits", "lib/train_state", "lib/optimizer_step"],
    aliases: { T: gradType },
    consts: { WRITE_COPY: writeCopy },
    bindings: [
      { name: "w", access: "read_write", type: "f32" },
      { name: "m", access: "read_write", type: "f32" },
      { name: "v", access: "read_write", type: "f32" },
      { name: "grad", access: "read", type: "T" },
      { name: "flag", access: "read", type: "u32" },
      { name: "copy", access: "read_write", type: "u32" },
      { name: "state", access: "read", type: "u32" },
    ],
    uniforms: [
      ["n", "u32"],
      ["lr", "f32"],
      ["beta1", "f32"],
      ["beta2", "f32"],
      ["eps", "f32"],
      ["l2", "f32"],
      ["decay", "f32"],
      ["ln_beta1", "f32"],
      ["ln_beta2", "f32"],
    ],
    workgroupSize: [WG],
  };
}

/** The uniforms, in adamSpec's order: the per-run hyper-parameters only (per-step values are in the state). */
function adamUniforms(args: AdamArgs): number[] {
  const { lr, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0, decoupled = false } = args;
  return [
    args.w.size,
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
  if (!Number.isInteger(args.step) || args.step < 1)
    throw new KernelInputError(OP, `step = ${args.step} must be an integer ≥ 1`);
  checkScalar(OP, "lr", args.lr, 0);
  // β < 1 strictly: 1 − β^t is a divisor.
  checkScalar(OP, "beta1", args.beta1 ?? 0.9, 0, 1 - 2 ** -24);
  checkScalar(OP, "beta2", args.beta2 ?? 0.999, 0, 1 - 2 ** -24);
  checkScalar(OP, "eps", args.eps ?? 1e-8, Number.MIN_VALUE);
  checkScalar(OP, "weightDecay", args.weightDecay ?? 0, 0);
  checkScalar(OP, "lossScale", args.lossScale ?? 1, Number.MIN_VALUE);
  const uniforms = adamUniforms(args);
  // β1 = 0 gives ln β1 = −inf: 1 − 0^t = 1 on the GPU too (exp(−inf) = 0), so allow that one.
  const { beta1 = 0.9, beta2 = 0.999, lr } = args;
  if (!args.state) {
    const bc1 = 1 - beta1 ** args.step;
    const bc2 = 1 - beta2 ** args.step;
    if (
      !Number.isFinite(Math.fround(lr / bc1)) ||
      !Number.isFinite(Math.fround(1 / Math.sqrt(bc2))) ||
      bc2 === 0
    )
      throw new KernelInputError(
        OP,
        `step ${args.step}: a bias correction overflows f32 (β1 ${beta1}, β2 ${beta2})`,
      );
  }
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
  // One invocation per pair of elements (one word of the packed f16 copy).
  dispatch(ctx, program, buffers, uniforms, grid(ctx, OP, Math.ceil(n / 2), WG, `${n} weights`), options);
}
