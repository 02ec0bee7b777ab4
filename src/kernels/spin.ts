// spin: a busy integer load with a checkable result (shaders/spin.wgsl). It does no training work:
// the clock ramp (src/experiment/clock-ramp.ts) runs it right before a measured phase so the GPU
// starts that phase at the clocks a long job runs at, not at the idle ones.
import type { GpuContext } from "../gpu/device.js";
import { KernelInputError } from "../gpu/errors.js";
import { checkScalar, checkTensor, grid, WG } from "./opcheck.js";
import { type DispatchOptions, dispatch, getProgram, opEncoder, type ProgramSpec } from "./program.js";
import type { Tensor } from "./tensor.js";

const OP = "spin";

export interface SpinArgs {
  /** u32 [n]: out[j] = LCG^iters(j ^ seed) (Numerical Recipes' 1664525, 1013904223, mod 2³²). */
  out: Tensor;
  /** LCG iterations per invocation (the load's length), ≥ 0. */
  iters: number;
  /** Mixed into each start value, u32. */
  seed?: number;
}

export function spinSpec(): ProgramSpec {
  return {
    op: OP,
    shader: "spin",
    consts: {},
    bindings: [{ name: "out", access: "read_write", type: "u32" }],
    uniforms: [
      ["n", "u32"],
      ["iters", "u32"],
      ["seed", "u32"],
    ],
    workgroupSize: [WG],
  };
}

/** Runs the load over out's elements. Records into options.encoder when given, else submits. */
export async function spin(ctx: GpuContext, args: SpinArgs, options: DispatchOptions = {}): Promise<void> {
  const { out, iters } = args;
  const seed = args.seed ?? 0;
  checkTensor(ctx, OP, "out", out, { dtype: "u32" });
  checkScalar(OP, "iters", iters, 0, 2 ** 32 - 1);
  checkScalar(OP, "seed", seed, 0, 2 ** 32 - 1);
  if (!Number.isInteger(iters) || !Number.isInteger(seed))
    throw new KernelInputError(OP, `iters (${iters}) and seed (${seed}) must be integers`);
  const program = await getProgram(ctx, spinSpec());
  const { encoder, done } = opEncoder(ctx, options, OP);
  dispatch(
    ctx,
    program,
    [out],
    [out.size, iters, seed],
    grid(ctx, OP, out.size, WG, `${out.size} invocations`),
    {
      ...options,
      encoder,
    },
  );
  done();
}
