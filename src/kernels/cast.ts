// cast: f32 -> f16 and f16 -> f32, bit-exact IEEE. f32 -> f16 rounds to nearest even; values
// that overflow (|x| ≥ 65520) become ±inf, not ±65504, so the non-finite detector catches an
// overflowing cast (|x| in (65504, 65520) rounds to ±65504, as IEEE does); NaN stays NaN;
// subnormals are kept. f16 -> f32 is exact. Integer arithmetic on raw words, so it needs no
// shader-f16 and does not depend on a GPU's conversion or flushing.
import type { GpuContext } from "../gpu/device.js";
import { KernelInputError } from "../gpu/errors.js";
import { checkDistinct, checkTensor, describe, grid, WG } from "./opcheck.js";
import { type DispatchOptions, dispatch, getProgram, type ProgramSpec } from "./program.js";
import type { Tensor } from "./tensor.js";

const OP = "cast";

export interface CastArgs {
  /** f32 or f16. */
  src: Tensor;
  /** The other float type, same element count. */
  dst: Tensor;
}

export function castSpec(toF16: boolean): ProgramSpec {
  return {
    op: OP,
    shader: "cast",
    includes: ["lib/f16_bits"],
    consts: { TO_F16: toF16 },
    bindings: [
      { name: "src", access: "read", type: "u32" },
      { name: "dst", access: "read_write", type: "u32" },
    ],
    uniforms: [["n", "u32"]],
    workgroupSize: [WG],
  };
}

/** dst = src converted. Records into options.encoder when given. */
export async function cast(ctx: GpuContext, args: CastArgs, options: DispatchOptions = {}): Promise<void> {
  const { src, dst } = args;
  checkTensor(ctx, OP, "src", src, { dtype: ["f32", "f16"] });
  const to = src.dtype === "f32" ? "f16" : "f32";
  if (dst.dtype !== to)
    throw new KernelInputError(OP, `dst (${describe(dst)}) must be ${to} for src ${describe(src)}`);
  checkTensor(ctx, OP, "dst", dst, { dtype: to, size: src.size, why: `as src ${describe(src)}` });
  checkDistinct(OP, { src, dst });
  const n = src.size;
  const program = await getProgram(ctx, castSpec(to === "f16"));
  // One invocation per pair of elements (one f16 word).
  dispatch(ctx, program, [src, dst], [n], grid(ctx, OP, Math.ceil(n / 2), WG, `${n} elements`), options);
}
