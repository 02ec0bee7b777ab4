// The GEMM paths' device-wide scratch buffers, kept in the device's resources
// (src/gpu/resources.ts): a growing split-K workspace (f32 partial sums) and two distinct dummy
// buffers bound where an op has no bias (read) or no workspace (write).
import type { GpuContext } from "../gpu/device.js";
import { KernelInputError } from "../gpu/errors.js";
import { resourceSlot, resourcesOf } from "../gpu/resources.js";
import { storageLimit, type Tensor } from "./tensor.js";

/** Device-wide scratch buffers: a growing split-K workspace and two distinct dummies. */
const SCRATCH = resourceSlot(
  "gemm scratch",
  (device): { ws?: GPUBuffer; dummyRead: GPUBuffer; dummyWrite: GPUBuffer } => {
    // 4 KiB: a shader's minimum binding size counts the largest matrix it stores (16×16 f32).
    const mk = (label: string) => device.createBuffer({ size: 4096, usage: GPUBufferUsage.STORAGE, label });
    return { dummyRead: mk("dummy-read"), dummyWrite: mk("dummy-write") };
  },
);
function scratchOf(ctx: GpuContext) {
  return resourcesOf(ctx.device).get(SCRATCH);
}

/** A small buffer bound where an op has no bias (read) or no workspace (write): one shader serves all cases. */
export function dummyBuffer(ctx: GpuContext, use: "read" | "write" = "read"): GPUBuffer {
  const s = scratchOf(ctx);
  return use === "read" ? s.dummyRead : s.dummyWrite;
}

/**
 * What a kernel with vector views of A and B (bindings a4, b4) binds there: the operand itself
 * where its view is used, else the small dummy (a view the shader never reads).
 */
export function vectorViews(
  ctx: GpuContext,
  vec: { vecA: boolean; vecB: boolean },
  a: Tensor,
  b: Tensor,
): [Tensor | GPUBuffer, Tensor | GPUBuffer] {
  return [vec.vecA ? a : dummyBuffer(ctx, "read"), vec.vecB ? b : dummyBuffer(ctx, "read")];
}

/** The split-K workspace, at least `bytes` long (grown, never shrunk). */
export function workspace(ctx: GpuContext, bytes: number): GPUBuffer {
  const s = scratchOf(ctx);
  const limit = storageLimit(ctx);
  if (bytes > limit)
    throw new KernelInputError("gemm", `split-K workspace of ${bytes} bytes exceeds the device's ${limit}`);
  if (!s.ws || s.ws.size < bytes) {
    // Not destroyed: work already recorded may still use the old one; dropping it lets GC free it.
    s.ws = ctx.device.createBuffer({
      size: Math.max(bytes, 1 << 20),
      usage: GPUBufferUsage.STORAGE,
      label: "gemm split-K workspace",
    });
  }
  return s.ws;
}
