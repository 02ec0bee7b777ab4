// bias_grad: the gradient of a bias, db = Σ over the batch of dY (column sums of a row-major
// [rows, cols] gradient), accumulated and written in f32 whatever dY's type.
import type { GpuContext } from "../gpu/device.js";
import { KernelInputError } from "../gpu/errors.js";
import { checkDistinct, checkTensor, describe, type FloatDtype, floatDtype, grid } from "./opcheck.js";
import { type DispatchOptions, dispatch, getProgram, type ProgramSpec } from "./program.js";
import type { Tensor } from "./tensor.js";

const OP = "bias_grad";
/** 64 adjacent columns per workgroup (contiguous reads), 4 invocation rows splitting the rows. */
const WG_COLS = 64;
const WG_ROWS = 4;

export interface BiasGradArgs {
  /** Upstream gradient, f32 or f16, shape [..., cols]: all leading dimensions are summed over. */
  dY: Tensor;
  /** f32 [cols]: receives the column sums. */
  db: Tensor;
  /** Add the sums to db instead of overwriting it (gradient accumulation over micro-batches). */
  accumulate?: boolean;
}

export function biasGradSpec(dtype: FloatDtype, accumulate = false): ProgramSpec {
  return {
    op: OP,
    shader: "bias_grad",
    aliases: { T: dtype },
    consts: { ACCUMULATE: accumulate },
    bindings: [
      { name: "dy", access: "read", type: "T" },
      { name: "db", access: "read_write", type: "f32" },
    ],
    uniforms: [
      ["rows", "u32"],
      ["cols", "u32"],
    ],
    workgroupSize: [WG_COLS, WG_ROWS],
  };
}

/** db[c] = Σ_r dY[r, c] (or db[c] += …). Records into options.encoder when given. */
export async function biasGrad(
  ctx: GpuContext,
  args: BiasGradArgs,
  options: DispatchOptions = {},
): Promise<void> {
  const { dY, db } = args;
  const dtype = floatDtype(OP, "dY", dY);
  checkTensor(ctx, OP, "dY", dY, { dtype });
  if (dY.shape.length < 1)
    throw new KernelInputError(OP, `dY (${describe(dY)}) needs at least one dimension`);
  const cols = dY.shape[dY.shape.length - 1];
  const rows = dY.size / cols;
  checkTensor(ctx, OP, "db", db, {
    dtype: "f32",
    size: cols,
    why: `the last dimension of dY ${describe(dY)}`,
  });
  checkDistinct(OP, { dY, db });
  const program = await getProgram(ctx, biasGradSpec(dtype, args.accumulate ?? false));
  dispatch(
    ctx,
    program,
    [dY, db],
    [rows, cols],
    grid(ctx, OP, cols, WG_COLS, `db of ${cols} columns`),
    options,
  );
}
