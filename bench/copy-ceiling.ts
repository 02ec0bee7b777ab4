// The memory ceiling of a bench call: a device-to-device copy of `bytes`, timed two ways by
// wall clock (wall-per-call.ts): copyBufferToBuffer (on NVIDIA's Vulkan driver a copy engine:
// 0.85 TB/s on an H200, no ceiling for a compute kernel) and src/kernels/copy.ts's shader copy in
// 16-byte words, the access pattern of the slab optimizers — the figure kernels are held to.
// GB/s count read + write (2 · bytes), 10⁹ bytes per second.
import type { GpuContext } from "../src/gpu/device.js";
import { copyWords } from "../src/kernels/copy.js";
import type { RecordedDispatch } from "../src/kernels/program.js";
import { encodeDispatches } from "../src/runtime/replay.js";
import { wallPerCall } from "./wall-per-call.js";

export interface CopyCeiling {
  bytes: number;
  /** copyBufferToBuffer, s per copy and GB/s. */
  bufferCopySeconds: number;
  bufferCopyGBs: number;
  /** The shader copy, s per copy and GB/s: the ceiling. */
  shaderCopySeconds: number;
  shaderCopyGBs: number;
}

export async function measureCopyCeiling(ctx: GpuContext, bytes: number, reps: number): Promise<CopyCeiling> {
  const usage = GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | GPUBufferUsage.STORAGE;
  const src = ctx.device.createBuffer({ size: bytes, usage, label: "ceiling.src" });
  const dst = ctx.device.createBuffer({ size: bytes, usage, label: "ceiling.dst" });
  const bufferCopySeconds = await wallPerCall(ctx, (e) => e.copyBufferToBuffer(src, 0, dst, 0, bytes), reps);
  const rec: RecordedDispatch[] = [];
  await copyWords(ctx, { src, dst, bytes }, { record: rec });
  const shaderCopySeconds = await wallPerCall(ctx, (e) => encodeDispatches(e, rec), reps);
  src.destroy();
  dst.destroy();
  return {
    bytes,
    bufferCopySeconds,
    bufferCopyGBs: (2 * bytes) / bufferCopySeconds / 1e9,
    shaderCopySeconds,
    shaderCopyGBs: (2 * bytes) / shaderCopySeconds / 1e9,
  };
}
