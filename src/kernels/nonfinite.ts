// nonfinite: raises a u32 flag when a float tensor holds any ±inf or NaN — the overflow check of
// mixed-precision training (an overflowing loss-scaled gradient), read by sgd/adam on the GPU to
// skip the step, so no read-back is needed. Exponent-bit tests, f32 and f16 alike.
import type { GpuContext } from "../gpu/device.js";
import { KernelInputError } from "../gpu/errors.js";
import { checkDistinct, checkTensor, floatDtype, grid, WG } from "./opcheck.js";
import { type DispatchOptions, dispatch, getProgram, opEncoder, type ProgramSpec } from "./program.js";
import type { Tensor } from "./tensor.js";

const OP = "nonfinite";

export interface NonfiniteArgs {
  /** f32 or f16 tensor to check. */
  x: Tensor;
  /** u32 [1]: set to a non-zero value when x holds inf/NaN; never cleared by the check itself. */
  flag: Tensor;
  /**
   * Zero the flag first (recorded in the same encoder, so ordered with the check). Leave it off
   * to check several tensors into one flag: reset with the first, then accumulate.
   */
  reset?: boolean;
}

export function nonfiniteSpec(dtype: "f32" | "f16"): ProgramSpec {
  return {
    op: OP,
    shader: "nonfinite",
    consts: { IS_F16: dtype === "f16" },
    bindings: [
      { name: "x", access: "read", type: "u32" },
      { name: "flag", access: "read_write", type: "atomic<u32>" },
    ],
    uniforms: [
      ["n", "u32"],
      ["words", "u32"],
    ],
    workgroupSize: [WG],
  };
}

/** flag |= any(!isfinite(x)). Records into options.encoder when given. */
export async function nonfinite(
  ctx: GpuContext,
  args: NonfiniteArgs,
  options: DispatchOptions = {},
): Promise<void> {
  const { x, flag } = args;
  const dtype = floatDtype(OP, "x", x);
  checkTensor(ctx, OP, "x", x, { dtype });
  checkTensor(ctx, OP, "flag", flag, { dtype: "u32", size: 1 });
  checkDistinct(OP, { x, flag });
  const words = dtype === "f16" ? Math.ceil(x.size / 2) : x.size;
  const program = await getProgram(ctx, nonfiniteSpec(dtype));
  if (args.reset && options.record)
    throw new KernelInputError(OP, "reset cannot be recorded for replay; clear the flag in the step instead");
  const { encoder, done } = opEncoder(ctx, options, OP);
  if (args.reset) encoder?.clearBuffer(flag.buffer, flag.byteOffset ?? 0, 4);
  dispatch(ctx, program, [x, flag], [x.size, words], grid(ctx, OP, words, WG, `${x.size} elements`), {
    ...options,
    encoder,
  });
  done();
}
