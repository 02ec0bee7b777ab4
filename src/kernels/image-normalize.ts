// image_normalize: a uint8 NHWC RGB batch -> normalized T, y = (x/255 − mean[c]) / std[c], with
// the output flattened in the input's order ([batch, H·W·3], HWC), the layout the dense
// classifier reads. Overflow to f16 (a tiny std) gives ±inf, never an indeterminate value.
import type { GpuContext } from "../gpu/device.js";
import { KernelInputError } from "../gpu/errors.js";
import {
  checkDistinct,
  checkScalar,
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

const OP = "image_normalize";

export type Rgb = readonly [number, number, number];

export interface ImageNormalizeArgs {
  /** dtype "u8", NHWC RGB bytes (packed 4 per u32 in storage), any shape of batch·H·W·3 elements. */
  images: Tensor;
  /** f32 or f16 [batch, H·W·3]: same element count as images. */
  out: Tensor;
  /** Per-channel mean and standard deviation, on the 0..1 scale (e.g. ImageNet's). */
  mean: Rgb;
  std: Rgb;
}

/** The per-channel uniforms of a normalising op (image_normalize, batch_input), in order. */
export const NORMALIZE_UNIFORMS: [string, "f32"][] = [
  ["scale0", "f32"],
  ["scale1", "f32"],
  ["scale2", "f32"],
  ["bias0", "f32"],
  ["bias1", "f32"],
  ["bias2", "f32"],
];

/**
 * Checks mean/std and returns [scale0..2, bias0..2] for NORMALIZE_UNIFORMS: the GPU does one
 * multiply-add per element, x·scale + bias, with scale = 1/(255·std), bias = −mean/std formed in
 * f64 here.
 */
export function normalizeFactors(op: string, mean: Rgb, std: Rgb): number[] {
  if (mean.length !== 3 || std.length !== 3)
    throw new KernelInputError(op, `mean and std need 3 channels, got ${mean.length} and ${std.length}`);
  for (let c = 0; c < 3; c++) {
    checkScalar(op, `mean[${c}]`, mean[c]);
    checkScalar(op, `std[${c}]`, std[c], Number.MIN_VALUE);
  }
  const scale = std.map((s) => 1 / (255 * s));
  const bias = std.map((s, c) => -mean[c] / s);
  if (![...scale, ...bias].every((v) => Number.isFinite(Math.fround(v))))
    throw new KernelInputError(op, `mean ${mean} / std ${std} overflow f32 (std too small)`);
  return [...scale, ...bias];
}

export function imageNormalizeSpec(dtype: FloatDtype): ProgramSpec {
  const t = floatTypes(dtype);
  return {
    op: OP,
    shader: "image_normalize",
    includes: ["lib/f16_bits", "lib/to_t"],
    aliases: t.aliases,
    consts: t.consts,
    bindings: [
      { name: "pixels", access: "read", type: "u32" },
      { name: "y", access: "read_write", type: "T" },
    ],
    uniforms: [["n", "u32"], ...NORMALIZE_UNIFORMS],
    workgroupSize: [WG],
  };
}

/** out = (images/255 − mean) / std per channel. Records into options.encoder when given. */
export async function imageNormalize(
  ctx: GpuContext,
  args: ImageNormalizeArgs,
  options: DispatchOptions = {},
): Promise<void> {
  const { images, out, mean, std } = args;
  const dtype = floatDtype(OP, "out", out);
  checkTensor(ctx, OP, "out", out, { dtype });
  if (out.shape.length !== 2 || out.shape[1] % 3 !== 0)
    throw new KernelInputError(OP, `out (${describe(out)}) must be [batch, H·W·3]`);
  checkTensor(ctx, OP, "images", images, { dtype: "u8", size: out.size, why: `as out ${describe(out)}` });
  checkDistinct(OP, { images, out });
  const factors = normalizeFactors(OP, mean, std);
  const n = out.size;
  const program = await getProgram(ctx, imageNormalizeSpec(dtype));
  // One invocation per u32 word of 4 bytes.
  dispatch(
    ctx,
    program,
    [images, out],
    [n, ...factors],
    grid(ctx, OP, Math.ceil(n / 4), WG, `${n} bytes`),
    options,
  );
}
