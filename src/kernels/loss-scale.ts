// loss_scale: the end of a training step on the GPU — count it applied or skipped (the
// non-finite flag), update the dynamic loss scale as torch.amp.GradScaler does, clear the flag;
// see shaders/loss_scale.wgsl.
import type { GpuContext } from "../gpu/device.js";
import { checkScalar, checkTensor } from "./opcheck.js";
import { type DispatchOptions, dispatch, getProgram, type ProgramSpec } from "./program.js";
import type { Tensor } from "./tensor.js";

const OP = "loss_scale";

export interface LossScaleArgs {
  /** u32 [1] from `nonfinite`; cleared. */
  flag: Tensor;
  state: GPUBuffer;
  /** Dynamic scaling (mixed precision); false only counts steps (f32). */
  dynamic: boolean;
  /** PyTorch's defaults: 2, 0.5, 2000. */
  growth?: number;
  backoff?: number;
  interval?: number;
}

export function lossScaleSpec(dynamic: boolean): ProgramSpec {
  return {
    op: OP,
    shader: "loss_scale",
    includes: ["lib/train_state"],
    consts: { DYNAMIC: dynamic },
    bindings: [
      { name: "flag", access: "read_write", type: "u32" },
      { name: "state", access: "read_write", type: "u32" },
    ],
    uniforms: [
      ["growth", "f32"],
      ["backoff", "f32"],
      ["interval", "u32"],
    ],
    workgroupSize: [1],
  };
}

export async function lossScale(
  ctx: GpuContext,
  args: LossScaleArgs,
  options: DispatchOptions = {},
): Promise<void> {
  const { growth = 2, backoff = 0.5, interval = 2000 } = args;
  checkTensor(ctx, OP, "flag", args.flag, { dtype: "u32", size: 1 });
  checkScalar(OP, "growth", growth, 1);
  checkScalar(OP, "backoff", backoff, Number.MIN_VALUE, 1);
  checkScalar(OP, "interval", interval, 1);
  const program = await getProgram(ctx, lossScaleSpec(args.dynamic));
  dispatch(ctx, program, [args.flag, args.state], [growth, backoff, interval], [1], options);
}
