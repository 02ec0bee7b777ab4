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
 * How an invocation reads and writes its bytes (shaders/batch_input.wgsl): "wide", 16 bytes as
 * four words, then four vec4<T> stores (image_bytes a multiple of 16); "vector", one word (two
 * where the image does not start on one) and one vec4<T> store (image_bytes a multiple of 4; on an
 * H100 the batch-256 f16 input took 131 µs for 116 MB with 2-byte stores, and as much with these);
 * "scalar", one word (or two) and up to 4 element stores.
 */
export type BatchInputStore = "wide" | "vector" | "scalar";

/** The widest store an image of `imageBytes` allows. */
export function batchInputStore(imageBytes: number): BatchInputStore {
  if (imageBytes % 16 === 0) return "wide";
  return imageBytes % 4 === 0 ? "vector" : "scalar";
}

/** Bytes each invocation covers. */
const BYTES_PER_INVOCATION: Record<BatchInputStore, number> = { wide: 16, vector: 4, scalar: 4 };

/** The loads and stores of one invocation (the STORE_X marker). */
function storeSnippet(store: BatchInputStore): string {
  const quad = (w: string, at: string) =>
    `vec4<T>(normalised(${w}, ${at}, 0u), normalised(${w}, ${at}, 1u), normalised(${w}, ${at}, 2u), normalised(${w}, ${at}, 3u))`;
  if (store === "wide")
    return [
      // The image starts on a 16-byte boundary, so byte / 4 is this group's first word.
      ...[0, 1, 2, 3].map((q) => `let w${q} = pixel_word(shard, byte / 4u + ${q}u);`),
      ...[0, 1, 2, 3].map((q) => `x[e / 4u + ${q}u] = ${quad(`w${q}`, `within + ${4 * q}u`)};`),
    ].join("\n  ");
  const read = "let bytes = pixel_bytes(shard, byte, count);";
  if (store === "vector") return `${read}\n  x[e / 4u] = ${quad("bytes", "within")};`;
  return `${read}\n  for (var k = 0u; k < count; k++) { x[e + k] = normalised(bytes, within, k); }`;
}

export function batchInputSpec(dtype: FloatDtype, slots = 1, store: BatchInputStore = "scalar"): ProgramSpec {
  const t = floatTypes(dtype);
  return {
    op: { wide: `${OP}_vec16`, vector: `${OP}_vec`, scalar: OP }[store],
    shader: "batch_input",
    includes: ["lib/f16_bits", "lib/to_t", "lib/train_state"],
    aliases: t.aliases,
    consts: { ...t.consts, BPI: BYTES_PER_INVOCATION[store] },
    bindings: [
      ...Array.from({ length: slots }, (_, k) => ({
        name: `pixels${k}`,
        access: "read" as const,
        type: "u32",
      })),
      { name: "order", access: "read", type: "u32" },
      { name: "all_labels", access: "read", type: "u32" },
      { name: "x", access: "read_write", type: store === "scalar" ? "T" : "vec4<T>" },
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
    snippets: { PIXEL_WORD: pixelWordSnippet(slots), STORE_X: storeSnippet(store) },
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
  const store = batchInputStore(imageBytes);
  const program = await getProgram(ctx, batchInputSpec(dtype, slots, store));
  // Unused shard bindings repeat shard 0 (read-only, so aliasing is allowed); never selected.
  const bound = Array.from({ length: slots }, (_, k) => shards[k] ?? shards[0]);
  dispatch(
    ctx,
    program,
    [...bound, order, allLabels, x, labels, args.state],
    [n, imageBytes, perShard, args.slot, ...factors],
    // One invocation per 4 or 16 bytes of a row (shaders/batch_input.wgsl).
    grid(ctx, OP, batch * Math.ceil(imageBytes / BYTES_PER_INVOCATION[store]), WG, `${n} pixels`),
    options,
  );
}
