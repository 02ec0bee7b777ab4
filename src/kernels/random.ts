// Uniform random fill on the GPU (shaders/fill_random.wgsl): for benchmarks and weight init.
import type { GpuContext } from "../gpu/device.js";
import { KernelInputError } from "../gpu/errors.js";
import { type DispatchOptions, dispatch, getProgram, grid1d } from "./program.js";
import type { Tensor } from "./tensor.js";

export async function fillUniform(
  ctx: GpuContext,
  t: Tensor,
  seed: number,
  lo = -1,
  hi = 1,
  opts: DispatchOptions = {},
): Promise<void> {
  if (t.dtype !== "f32" && t.dtype !== "f16")
    throw new KernelInputError("fillUniform", `${t.label} is ${t.dtype}; only f32 and f16 can be filled`);
  if (!(hi > lo)) throw new KernelInputError("fillUniform", `needs lo < hi, got [${lo}, ${hi})`);
  const program = await getProgram(ctx, {
    op: `fill_random_${t.dtype}`,
    shader: "fill_random",
    aliases: { T: t.dtype },
    bindings: [{ name: "out", access: "read_write", type: "T" }],
    uniforms: [
      ["count", "u32"],
      ["seed", "u32"],
      ["lo", "f32"],
      ["hi", "f32"],
    ],
    workgroupSize: [256],
  });
  dispatch(ctx, program, [t], [t.size, seed >>> 0, lo, hi], grid1d(ctx, Math.ceil(t.size / 256)), opts);
}
