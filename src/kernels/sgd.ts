// sgd: SGD with momentum on f32 master weights, PyTorch's convention (torch.optim.SGD with
// dampening 0): g = grad/lossScale + weightDecay·w; v = momentum·v + g; w −= lr·v (Nesterov:
// w −= lr·(g + momentum·v)). The gradient may be f16 (mixed precision) or f32. Optionally writes
// the f16 copy of the new weights. When the non-finite flag is set the kernel writes nothing,
// so an overflowing step is skipped without a CPU read-back. Memory-bound: 16-byte accesses, 8
// elements a thread (optimizer-slots.ts).
import type { GpuContext } from "../gpu/device.js";
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

const OP = "sgd";

export interface SgdArgs {
  /** f32 master weights, updated in place. */
  w: Tensor;
  /** f32 momentum buffer, same size, updated in place; start it at 0. */
  v: Tensor;
  /** Gradient of the scaled loss, f32 or f16, same size. */
  g: Tensor;
  lr: number;
  /** Default 0 (plain SGD). */
  momentum?: number;
  /** L2 weight decay added to the gradient, PyTorch-style. Default 0. */
  weightDecay?: number;
  /** The loss scale the gradient carries; it is divided out. Default 1. Ignored with `state`. */
  lossScale?: number;
  /** The training state buffer (train-state.ts) to read 1/loss scale from, as the step runtime does. */
  state?: GPUBuffer;
  nesterov?: boolean;
  /** u32 [1] from `nonfinite`: when non-zero, the update is skipped. Omitted: always update. */
  flag?: Tensor;
  /** f16 output, same size: the new weights rounded to f16 (nearest even, overflow to inf). */
  wHalf?: Tensor;
}

export function sgdSpec(gradType: FloatDtype, flags: { nesterov: boolean; writeCopy: boolean }): ProgramSpec {
  return {
    op: OP,
    shader: "sgd",
    includes: ["lib/f16_bits", "lib/train_state", "lib/sgd_math", "lib/sgd_slot", "lib/optimizer_step"],
    aliases: { T: gradType },
    consts: { NESTEROV: flags.nesterov, WRITE_COPY: flags.writeCopy },
    bindings: [
      { name: "w", access: "read_write", type: "vec4<f32>" },
      { name: "vel", access: "read_write", type: "vec4<f32>" },
      { name: "grad", access: "read", type: "vec4<T>" },
      { name: "flag", access: "read", type: "u32" },
      { name: "copy", access: "read_write", type: "vec2<u32>" },
      { name: "state", access: "read", type: "u32" },
    ],
    uniforms: [["n", "u32"], ...SGD_HYPER_UNIFORMS],
    workgroupSize: [WG],
  };
}

/** The hyper-parameter uniforms shaders/lib/sgd_math.wgsl reads (after any of the kernel's own). */
export const SGD_HYPER_UNIFORMS: [string, "f32"][] = [
  ["lr", "f32"],
  ["momentum", "f32"],
  ["weight_decay", "f32"],
];

/** Checks an SGD step's hyper-parameters (op: the kernel's name for errors). */
export function checkSgdHyper(
  op: string,
  h: Pick<SgdArgs, "lr" | "momentum" | "weightDecay" | "lossScale">,
): void {
  checkScalar(op, "lr", h.lr, 0);
  checkScalar(op, "momentum", h.momentum ?? 0, 0);
  checkScalar(op, "weightDecay", h.weightDecay ?? 0, 0);
  checkScalar(op, "lossScale", h.lossScale ?? 1, Number.MIN_VALUE);
}

/** One SGD step over every element. Records into options.encoder when given. */
export async function sgd(ctx: GpuContext, args: SgdArgs, options: DispatchOptions = {}): Promise<void> {
  const { w, v, g, flag, wHalf } = args;
  const { lr, momentum = 0, weightDecay = 0, lossScale = 1, nesterov = false } = args;
  const n = w.size;
  const same = { size: n, why: `as w ${describe(w)}` };
  checkTensor(ctx, OP, "w", w, { dtype: "f32" });
  checkTensor(ctx, OP, "v", v, { dtype: "f32", ...same });
  checkTensor(ctx, OP, "g", g, { dtype: floatDtype(OP, "g", g), ...same });
  if (flag) checkTensor(ctx, OP, "flag", flag, { dtype: "u32", size: 1 });
  if (wHalf) checkTensor(ctx, OP, "wHalf", wHalf, { dtype: "f16", ...same });
  checkDistinct(OP, { w, v, g, flag, wHalf });
  checkSlotCoverage(OP, { w, v, g, wHalf });
  checkSgdHyper(OP, args);
  const program = await getProgram(ctx, sgdSpec(g.dtype as FloatDtype, { nesterov, writeCopy: !!wHalf }));
  const buffers = [
    w,
    v,
    g,
    flag ?? spareBuffer(ctx, "zero flag (read only)", 4),
    wHalf ?? spareBuffer(ctx, `${OP}.copy`, 4),
    args.state ?? constantState(ctx, { scale: lossScale }),
  ];
  dispatch(ctx, program, buffers, [n, lr, momentum, weightDecay], optimizerGrid(ctx, OP, n), options);
}
