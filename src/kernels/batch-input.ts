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
  /** u8 [count, H·W·3]: the whole split, NHWC RGB (with `shards`: shard 0, ignored). */
  pixels: Tensor;
  /**
   * A split past one storage binding: u8 [imagesPerShard, H·W·3] buffers in image order (the last
   * may hold fewer); image i is row i mod imagesPerShard of shard ⌊i / imagesPerShard⌋.
   */
  shards?: Tensor[];
  imagesPerShard?: number;
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

/** Shard-binding counts the kernel is generated for (src/model/shards.ts SHARD_SLOTS). */
const SLOT_COUNTS = [1, 2, 4, 8];

/** pixel_word(shard, word): word `word` of shard `shard`, by a switch over the bound shards. */
function pixelWordSnippet(slots: number): string {
  const cases = Array.from(
    { length: slots - 1 },
    (_, k) => `    case ${k + 1}u: { w = pixels${k + 1}[word]; }`,
  );
  return [
    "fn pixel_word(shard: u32, word: u32) -> u32 {",
    "  var w: u32;",
    "  switch shard {",
    ...cases,
    "    default: { w = pixels0[word]; }",
    "  }",
    "  return w;",
    "}",
  ].join("\n");
}

/**
 * The outputs' store (the STORE_X marker): with `vector`, the invocation's 4 outputs as one
 * vec4<T> (8 bytes for f16, 16 for f32; on an H100 the batch-256 f16 input took 131 µs for 116 MB
 * with 2-byte stores), else one element at a time, the last group holding fewer than 4.
 */
function storeSnippet(vector: boolean): string {
  if (vector)
    return "x[e / 4u] = vec4<T>(normalised(bytes, within, 0u), normalised(bytes, within, 1u), normalised(bytes, within, 2u), normalised(bytes, within, 3u));";
  return "for (var k = 0u; k < count; k++) { x[e + k] = normalised(bytes, within, k); }";
}

/** `vector`: image_bytes is a multiple of 4 (x bound as array<vec4<T>>, one store per 4 bytes). */
export function batchInputSpec(dtype: FloatDtype, slots = 1, vector = false): ProgramSpec {
  const t = floatTypes(dtype);
  return {
    op: vector ? `${OP}_vec` : OP,
    shader: "batch_input",
    includes: ["lib/f16_bits", "lib/to_t", "lib/train_state"],
    aliases: t.aliases,
    consts: t.consts,
    bindings: [
      ...Array.from({ length: slots }, (_, k) => ({
        name: `pixels${k}`,
        access: "read" as const,
        type: "u32",
      })),
      { name: "order", access: "read", type: "u32" },
      { name: "all_labels", access: "read", type: "u32" },
      { name: "x", access: "read_write", type: vector ? "vec4<T>" : "T" },
      { name: "labels", access: "read_write", type: "u32" },
      { name: "state", access: "read", type: "u32" },
    ],
    uniforms: [
      ["n", "u32"],
      ["image_bytes", "u32"],
      ["images_per_shard", "u32"],
      ["slot", "u32"],
      ...NORMALIZE_UNIFORMS,
    ],
    snippets: { PIXEL_WORD: pixelWordSnippet(slots), STORE_X: storeSnippet(vector) },
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
  const shards = args.shards?.length ? args.shards : [pixels];
  const slots = SLOT_COUNTS.find((s) => s >= shards.length);
  if (slots === undefined) throw new KernelInputError(OP, `${shards.length} shards: at most 8 can be bound`);
  const perShard = args.shards?.length ? (args.imagesPerShard ?? 0) : pixels.shape[0];
  let count = 0;
  shards.forEach((p, k) => {
    const what = shards.length > 1 ? `shard ${k}` : "pixels";
    if (p.shape.length !== 2 || p.shape[1] !== imageBytes)
      throw new KernelInputError(
        OP,
        `${what} (${describe(p)}) must be [count, ${imageBytes}] like x ${describe(x)}`,
      );
    checkTensor(ctx, OP, what, p, { dtype: "u8" });
    const last = k === shards.length - 1;
    if (last ? p.shape[0] < 1 || p.shape[0] > perShard : p.shape[0] !== perShard)
      throw new KernelInputError(
        OP,
        `${what} (${describe(p)}) must hold ${last ? "1 to " : ""}${perShard} images (imagesPerShard)`,
      );
    if (p.shape[0] * imageBytes >= 2 ** 32)
      throw new KernelInputError(OP, `${describe(p)} holds 4 GiB or more: past 32-bit byte indexing`);
    count += p.shape[0];
  });
  if (count >= 2 ** 32) throw new KernelInputError(OP, `${count} images: past 32-bit indexing`);
  checkTensor(ctx, OP, "order", order, {
    dtype: "u32",
    size: count,
    why: `one per image of the split (${count} images)`,
  });
  checkTensor(ctx, OP, "allLabels", allLabels, {
    dtype: "u32",
    size: count,
    why: `one per image of the split (${count} images)`,
  });
  checkTensor(ctx, OP, "labels", labels, { dtype: "u32", size: batch, why: `one per row of ${describe(x)}` });
  checkDistinct(OP, {
    ...Object.fromEntries(shards.map((p, k) => [`pixels${k}`, p])),
    order,
    allLabels,
    x,
    labels,
  });
  if (batch > count)
    throw new KernelInputError(OP, `batch ${batch} is larger than the split (${count} images)`);
  if (!Number.isInteger(args.slot) || args.slot < 0 || args.slot > 1)
    throw new KernelInputError(OP, `slot ${args.slot} must be 0 or 1`);
  const factors = normalizeFactors(OP, mean, std);
  const n = x.size;
  const program = await getProgram(ctx, batchInputSpec(dtype, slots, imageBytes % 4 === 0));
  // Unused shard bindings repeat shard 0 (read-only, so aliasing is allowed); never selected.
  const bound = Array.from({ length: slots }, (_, k) => shards[k] ?? shards[0]);
  dispatch(
    ctx,
    program,
    [...bound, order, allLabels, x, labels, args.state],
    [n, imageBytes, perShard, args.slot, ...factors],
    // One invocation per 4 bytes of a row (shaders/batch_input.wgsl).
    grid(ctx, OP, batch * Math.ceil(imageBytes / 4), WG, `${n} pixels`),
    options,
  );
}
