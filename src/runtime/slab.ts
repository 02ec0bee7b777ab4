// Slabs: the parameters (and their gradients, moments and f16 copy) of a model laid out in one
// buffer each, every tensor at an offset aligned for binding on its own, so that whole-model ops
// (the non-finite check, the optimizer) are one dispatch over the slab while GEMMs bind views.
import type { GpuContext } from "../gpu/device.js";
import { KernelInputError } from "../gpu/errors.js";
import { createTensor, type Dtype, numel, type Tensor, tensorView } from "../kernels/tensor.js";

/**
 * Elements between tensor starts: 128 keeps every start 256-byte aligned (WebGPU's storage offset
 * alignment) for f16 views (256 bytes) as for f32 views (512 bytes). Padding stays zero: its
 * gradient is never written, so the optimizer leaves it at zero.
 */
export const SLAB_ALIGN = 128;

export interface SlabEntry {
  name: string;
  shape: readonly number[];
  /** Start, in elements. */
  offset: number;
  size: number;
}

export interface SlabLayout {
  entries: SlabEntry[];
  /** Elements in all, padding included (a multiple of SLAB_ALIGN). */
  total: number;
}

export function layoutSlab(tensors: readonly { name: string; shape: readonly number[] }[]): SlabLayout {
  let offset = 0;
  const entries = tensors.map((t) => {
    const size = numel(t.shape);
    const e = { name: t.name, shape: [...t.shape], offset, size };
    offset += Math.ceil(size / SLAB_ALIGN) * SLAB_ALIGN;
    return e;
  });
  return { entries, total: Math.max(offset, SLAB_ALIGN) };
}

export interface Slab {
  /** The whole slab as one flat tensor. */
  all: Tensor;
  /** Each entry's view, by name. */
  views: Map<string, Tensor>;
  layout: SlabLayout;
}

export async function createSlab(
  ctx: GpuContext,
  dtype: "f32" | "f16",
  layout: SlabLayout,
  label: string,
): Promise<Slab> {
  const all = await createTensor(ctx, dtype, [layout.total], label);
  const bytes = dtype === "f32" ? 4 : 2;
  const views = new Map<string, Tensor>();
  for (const e of layout.entries)
    views.set(e.name, tensorView(all.buffer, e.offset * bytes, dtype, e.shape, `${label}.${e.name}`));
  return { all, views, layout };
}

/**
 * The slab as views of at most `maxBytes` each (a whole-slab dispatch must stay within the
 * device's binding size), cut at multiples of SLAB_ALIGN elements so f16 and f32 cuts line up;
 * from `fromElement` (an entry's offset) on, e.g. past a tensor another kernel updates.
 */
export function slabChunks(slab: Slab, maxBytes: number, fromElement = 0): Tensor[] {
  const bytes = slab.all.dtype === "f32" ? 4 : 2;
  const perChunk = Math.floor(maxBytes / 4 / SLAB_ALIGN) * SLAB_ALIGN; // in elements, sized for f32
  if (perChunk < SLAB_ALIGN)
    throw new KernelInputError("slab", `binding limit ${maxBytes} bytes is too small`);
  const out: Tensor[] = [];
  for (let start = fromElement; start < slab.layout.total; start += perChunk) {
    const n = Math.min(perChunk, slab.layout.total - start);
    out.push(
      tensorView(
        slab.all.buffer,
        start * bytes,
        slab.all.dtype as Dtype,
        [n],
        `${slab.all.label}[${start}:${start + n}]`,
      ),
    );
  }
  return out;
}
