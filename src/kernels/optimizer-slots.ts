// The layout the slab optimizers (adam.ts, sgd.ts) share, shaders/lib/optimizer_step.wgsl: 16-byte
// slots of 4 elements (vec4<f32> weights and moments, vec4<T> gradient, 2 words of the f16 copy),
// 2 slots a thread. These helpers size the dispatch and check that every binding covers its
// tensor's last slot whole — the kernel reads it in one access and masks the lanes past n.
import type { GpuContext } from "../gpu/device.js";
import { KernelInputError } from "../gpu/errors.js";
import { describe, grid, WG } from "./opcheck.js";
import { BYTES, boundBytes, type Tensor } from "./tensor.js";

/** Elements per slot (one vec4). */
export const SLOT = 4;
/** Slots per thread. */
export const SLOTS_PER_THREAD = 2;

/** The grid for n elements: one workgroup per WG·SLOTS_PER_THREAD slots. */
export function optimizerGrid(ctx: GpuContext, op: string, n: number): [number, number] {
  const threads = Math.ceil(n / (SLOT * SLOTS_PER_THREAD));
  return grid(ctx, op, threads, WG, `${n} weights`);
}

/**
 * Checks that each tensor's binding reaches the end of the slot holding element n − 1 (n = its
 * size). createTensor's allocations always do; a view at the very end of a buffer whose size is
 * not a multiple of 16 bytes may not.
 */
export function checkSlotCoverage(op: string, tensors: Record<string, Tensor | undefined>): void {
  for (const [name, t] of Object.entries(tensors)) {
    if (!t) continue;
    const need = Math.ceil(t.size / SLOT) * SLOT * BYTES[t.dtype];
    const have = boundBytes(t);
    if (have < need)
      throw new KernelInputError(
        op,
        `${name} ${describe(t)} is bound as ${have} bytes, but the kernel reads whole ${SLOT}-element slots: ` +
          `it needs ${need} (room to the next 16 bytes after the tensor)`,
      );
  }
}
