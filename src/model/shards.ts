// Shard plans: how a resident split is cut into device buffers. One storage binding holds at most
// maxStorageBufferBindingSize bytes (2 GiB on the H200), so a split past it is held in several
// buffers ("shards") of a whole number of images each; the batch-input kernel binds them all and
// reads image i from shard ⌊i / imagesPerShard⌋ (shaders/batch_input.wgsl). A split that cannot be
// planned (too many shards to bind, or past the resident budget) is streamed batch by batch.
import type { GpuContext } from "../gpu/device.js";

/** Shard-binding counts the batch-input kernel is generated for (unused bindings repeat shard 0). */
export const SHARD_SLOTS = [1, 2, 4, 8] as const;
/** Storage bindings batch_input uses besides the shards: order, all_labels, x, labels, state. */
const OTHER_BINDINGS = 5;
/** Default cap on all resident splits together (bytes): WebGPU reports no device memory size. */
const DEFAULT_RESIDENT_BUDGET = 32 * 2 ** 30;

export interface ShardPlan {
  /** Images per shard (every shard but the last holds exactly this many). */
  imagesPerShard: number;
  /** Shards in use (1 = the single-buffer path). */
  shards: number;
  /** Bindings the kernel is generated with: the smallest SHARD_SLOTS entry ≥ shards. */
  slots: number;
}

/**
 * Bytes one shard may hold: the binding and buffer limits, under 4 GiB (u32 byte indexing), and a
 * test hook HALFWATT_SHARD_BYTES (forces small shards on lavapipe).
 */
export function shardByteCap(ctx: GpuContext): number {
  const l = ctx.device.limits;
  const cap = Math.min(l.maxStorageBufferBindingSize, l.maxBufferSize, 2 ** 32 - 4);
  const hook = Number(process.env.HALFWATT_SHARD_BYTES);
  return hook > 0 ? Math.min(cap, hook) : cap;
}

/** Total resident bytes allowed (HALFWATT_RESIDENT_BYTES overrides the default 32 GiB). */
export function residentBudget(): number {
  const v = Number(process.env.HALFWATT_RESIDENT_BYTES);
  return v > 0 ? v : DEFAULT_RESIDENT_BUDGET;
}

/**
 * The shard plan for `count` images of `imageBytes` bytes, or a sentence saying why the split
 * must be streamed instead. Shapes: count ≥ 0 images, imageBytes > 0 bytes per image.
 */
export function planShards(ctx: GpuContext, count: number, imageBytes: number): ShardPlan | string {
  const cap = shardByteCap(ctx);
  const imagesPerShard = Math.floor(cap / imageBytes);
  if (imagesPerShard < 1) return `one image (${imageBytes} bytes) is past the shard limit of ${cap} bytes`;
  const shards = Math.max(1, Math.ceil(count / imagesPerShard));
  const bindable = ctx.device.limits.maxStorageBuffersPerShaderStage - OTHER_BINDINGS;
  const slots = SHARD_SLOTS.find((s) => s >= shards && s <= bindable);
  if (slots === undefined)
    return `${shards} shards of ≤ ${cap} bytes are needed, but the kernel binds at most ${Math.min(8, bindable)} (maxStorageBuffersPerShaderStage ${ctx.device.limits.maxStorageBuffersPerShaderStage})`;
  return { imagesPerShard: Math.min(imagesPerShard, Math.max(count, 1)), shards, slots };
}
