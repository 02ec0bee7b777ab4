// batch_input: one batch gathered from a GPU-resident uint8 split in the epoch's order (the
// training state's cursor picks the batch), normalised to T, with its labels. The trainer's first
// dispatch of every step; see shaders/batch_input.wgsl.
import type { GpuContext } from "../gpu/device.js";
import { KernelInputError } from "../gpu/errors.js";
import { NORMALIZE_UNIFORMS, normalizeFactors, type Rgb } from "./image-normalize.js";
import {
  checkDistinct,
  checkTensor,
  describe,
  type FloatDtype,
  floatDtype,
  floatTypes,
  grid,
  WG,
} from "./opcheck.js";
import { type DispatchOptions, dispatch, getProgram, type ProgramSpec } from "./program.js";
import type { Tensor } from "./tensor.js";

const OP = "batch_input";

export interface BatchInputArgs {
  /** u8 [count, H·W·3]: the whole split, NHWC RGB. */
  pixels: Tensor;
  /** u32 [count]: the epoch's order (a permutation of 0..count−1). */
  order: Tensor;
  /** u32 [count]: every image's label. */
  allLabels: Tensor;
  /** Output T [batch, H·W·3]. */
  x: Tensor;
  /** Output u32 [batch]. */
  labels: Tensor;
  /** The training state (src/kernels/train-state.ts); its cursor `slot` is the batch's first position. */
  state: GPUBuffer;
  slot: number;
  mean: Rgb;
  std: Rgb;
}

export function batchInputSpec(dtype: FloatDtype): ProgramSpec {
  const t = floatTypes(dtype);
  return {
    op: OP,
    shader: "batch_input",
    includes: ["lib/f16_bits", "lib/to_t", "lib/train_state"],
    aliases: t.aliases,
    consts: t.consts,
    bindings: [
      { name: "pixels", access: "read", type: "u32" },
      { name: "order", access: "read", type: "u32" },
      { name: "all_labels", access: "read", type: "u32" },
      { name: "x", access: "read_write", type: "T" },
      { name: "labels", access: "read_write", type: "u32" },
      { name: "state", access: "read", type: "u32" },
    ],
    uniforms: [["n", "u32"], ["image_bytes", "u32"], ["slot", "u32"], ...NORMALIZE_UNIFORMS],
    workgroupSize: [WG],
  };
}

export async function batchInput(
  ctx: GpuContext,
  args: BatchInputArgs,
  options: DispatchOptions = {},
): Promise<void> {
  const { pixels, order, allLabels, x, labels, mean, std } = args;
  const dtype = floatDtype(OP, "x", x);
  checkTensor(ctx, OP, "x", x, { dtype });
  if (x.shape.length !== 2 || x.shape[1] % 3 !== 0)
    throw new KernelInputError(OP, `x (${describe(x)}) must be [batch, H·W·3]`);
  const [batch, imageBytes] = x.shape;
  if (pixels.shape.length !== 2 || pixels.shape[1] !== imageBytes)
    throw new KernelInputError(
      OP,
      `pixels (${describe(pixels)}) must be [count, ${imageBytes}] like x ${describe(x)}`,
    );
  const count = pixels.shape[0];
  checkTensor(ctx, OP, "pixels", pixels, { dtype: "u8" });
  checkTensor(ctx, OP, "order", order, {
    dtype: "u32",
    size: count,
    why: `one per image of ${describe(pixels)}`,
  });
  checkTensor(ctx, OP, "allLabels", allLabels, {
    dtype: "u32",
    size: count,
    why: `one per image of ${describe(pixels)}`,
  });
  checkTensor(ctx, OP, "labels", labels, { dtype: "u32", size: batch, why: `one per row of ${describe(x)}` });
  checkDistinct(OP, { pixels, order, allLabels, x, labels });
  if (batch > count)
    throw new KernelInputError(OP, `batch ${batch} is larger than the split (${count} images)`);
  if (count * imageBytes >= 2 ** 32)
    throw new KernelInputError(OP, `${describe(pixels)} holds 4 GiB or more: past 32-bit byte indexing`);
  if (!Number.isInteger(args.slot) || args.slot < 0 || args.slot > 1)
    throw new KernelInputError(OP, `slot ${args.slot} must be 0 or 1`);
  const factors = normalizeFactors(OP, mean, std);
  const n = x.size;
  const program = await getProgram(ctx, batchInputSpec(dtype));
  dispatch(
    ctx,
    program,
    [pixels, order, allLabels, x, labels, args.state],
    [n, imageBytes, args.slot, ...factors],
    grid(ctx, OP, n, WG, `${n} pixels`),
    options,
  );
}
