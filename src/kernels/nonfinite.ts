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
  /** The f32 or f16 tensor to check, or several of one dtype, checked in one dispatch. */
  x: Tensor | Tensor[];
  /** u32 [1]: set to a non-zero value when x holds inf/NaN; never cleared by the check itself. */
  flag: Tensor;
  /**
   * Zero the flag first (recorded in the same encoder, so ordered with the check). Leave it off
   * to check several tensors into one flag: reset with the first, then accumulate.
   */
  reset?: boolean;
}

/** The check of `count` tensors of one dtype in one dispatch (shaders/nonfinite.wgsl). */
export function nonfiniteSpec(dtype: "f32" | "f16", count = 1): ProgramSpec {
  const ids = [...Array(count).keys()];
  return {
    op: count === 1 ? OP : `${OP}_x${count}`,
    shader: "nonfinite",
    consts: { IS_F16: dtype === "f16" },
    snippets: {
      CHECKS: ids
        .map(
          (i) => `if (j < params.words${i}) { bad = bad || bad_word(x${i}[j], 2u * j + 1u < params.n${i}); }`,
        )
        .join("\n  "),
    },
    bindings: [
      ...ids.map((i) => ({ name: `x${i}`, access: "read" as const, type: "u32" })),
      { name: "flag", access: "read_write", type: "atomic<u32>" },
    ],
    uniforms: ids.flatMap((i) => [
      [`n${i}`, "u32"],
      [`words${i}`, "u32"],
    ]) as ProgramSpec["uniforms"],
    workgroupSize: [WG],
  };
}

/** flag |= any(!isfinite(x)) over every tensor of x. Records into options.encoder when given. */
export async function nonfinite(
  ctx: GpuContext,
  args: NonfiniteArgs,
  options: DispatchOptions = {},
): Promise<void> {
  const { flag } = args;
  const xs = Array.isArray(args.x) ? args.x : [args.x];
  if (xs.length === 0) throw new KernelInputError(OP, "no tensor to check");
  const dtype = floatDtype(OP, "x", xs[0]);
  for (const [i, x] of xs.entries()) checkTensor(ctx, OP, xs.length === 1 ? "x" : `x[${i}]`, x, { dtype });
  checkTensor(ctx, OP, "flag", flag, { dtype: "u32", size: 1 });
  // The checked tensors may share a buffer (all read only); the flag, written, may not.
  for (const [i, x] of xs.entries()) checkDistinct(OP, { [xs.length === 1 ? "x" : `x[${i}]`]: x, flag });
  const words = xs.map((x) => (dtype === "f16" ? Math.ceil(x.size / 2) : x.size));
  const program = await getProgram(ctx, nonfiniteSpec(dtype, xs.length));
  if (args.reset && options.record)
    throw new KernelInputError(OP, "reset cannot be recorded for replay; clear the flag in the step instead");
  const { encoder, done } = opEncoder(ctx, options, OP);
  if (args.reset) encoder?.clearBuffer(flag.buffer, flag.byteOffset ?? 0, 4);
  const most = Math.max(...words);
  const elements = xs.map((x) => x.size).join(" + ");
  dispatch(
    ctx,
    program,
    [...xs, flag],
    xs.flatMap((x, i) => [x.size, words[i]]),
    grid(ctx, OP, most, WG, `${elements} elements`),
    { ...options, encoder },
  );
  done();
}
