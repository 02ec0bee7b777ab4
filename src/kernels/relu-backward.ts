// relu_backward: dX = dY where the forward output Y > 0, else 0 (PyTorch's threshold_backward).
// Takes the forward output (post-activation), which the forward pass keeps anyway; the
// pre-activation works as well, since relu(z) > 0 exactly when z > 0.
import type { GpuContext } from "../gpu/device.js";
import { checkDistinct, checkTensor, describe, type FloatDtype, floatDtype, grid, WG } from "./opcheck.js";
import { type DispatchOptions, dispatch, getProgram, type ProgramSpec } from "./program.js";
import type { Tensor } from "./tensor.js";

const OP = "relu_backward";

export interface ReluBackwardArgs {
  /** Upstream gradient, f32 or f16. */
  dY: Tensor;
  /** The forward output relu(z) (or z itself), same type and size as dY. */
  y: Tensor;
  /** Output, same type and size as dY. Must be a different buffer from dY and y. */
  dX: Tensor;
}

export function reluBackwardSpec(dtype: FloatDtype): ProgramSpec {
  return {
    op: OP,
    shader: "relu_backward",
    aliases: { T: dtype },
    bindings: [
      { name: "dy", access: "read", type: "T" },
      { name: "y", access: "read", type: "T" },
      { name: "dx", access: "read_write", type: "T" },
    ],
    uniforms: [["n", "u32"]],
    workgroupSize: [WG],
  };
}

/** dX[i] = Y[i] > 0 ? dY[i] : 0. Exact: no rounding. Records into options.encoder when given. */
export async function reluBackward(
  ctx: GpuContext,
  args: ReluBackwardArgs,
  options: DispatchOptions = {},
): Promise<void> {
  const { dY, y, dX } = args;
  const dtype = floatDtype(OP, "dY", dY);
  const n = dY.size;
  checkTensor(ctx, OP, "dY", dY, { dtype });
  checkTensor(ctx, OP, "y", y, { dtype, size: n, why: `as dY ${describe(dY)}` });
  checkTensor(ctx, OP, "dX", dX, { dtype, size: n, why: `as dY ${describe(dY)}` });
  checkDistinct(OP, { dY, y, dX });
  const program = await getProgram(ctx, reluBackwardSpec(dtype));
  dispatch(ctx, program, [dY, y, dX], [n], grid(ctx, OP, n, WG, `${n} elements`), options);
}
