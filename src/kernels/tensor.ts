// GPU tensors: a storage buffer with a dtype and a shape. Byte sizes round up to 4 (WebGPU's
// binding granularity), so an f16 tensor of odd length carries 2 bytes of padding; allocations
// and bindings round further, to 16 bytes, so a kernel reading vec4<f32> (or 2×vec4<f16>) slots
// can read a tensor's last slot whole and mask the lanes past its end (the optimizers do).
import { type GpuContext, withErrorScopes } from "../gpu/device.js";
import { KernelInputError } from "../gpu/errors.js";
import { f32ToF16Bits, fromF16Array, toF16Array } from "./f16.js";

export type Dtype = "f32" | "f16" | "u32" | "i32" | "u8";

export const BYTES: Record<Dtype, number> = { f32: 4, f16: 2, u32: 4, i32: 4, u8: 1 };

export interface Tensor {
  buffer: GPUBuffer;
  /**
   * Where the tensor starts in `buffer`, in bytes (a view into a slab, see `tensorView`); absent
   * for a tensor that owns its buffer. A multiple of the device's storage offset alignment (256).
   */
  byteOffset?: number;
  dtype: Dtype;
  shape: readonly number[];
  /** Number of elements. */
  size: number;
  label: string;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function byteSize(dtype: Dtype, n: number): number {
  return Math.max(4, Math.ceil((n * BYTES[dtype]) / 4) * 4);
}

/** Bytes a tensor's allocation and binding cover: its bytes rounded up to a whole 16-byte slot. */
export function paddedBytes(dtype: Dtype, n: number): number {
  return Math.ceil(byteSize(dtype, n) / 16) * 16;
}

export const shapeStr = (s: readonly number[]) => `[${s.join("×")}]`;

const MIN_ALLOCATION = 512;

/** The largest tensor this device can bind: the smaller of its buffer and storage-binding limits. */
export function storageLimit(ctx: GpuContext): number {
  return Math.min(ctx.device.limits.maxBufferSize, ctx.device.limits.maxStorageBufferBindingSize);
}

export async function createTensor(
  ctx: GpuContext,
  dtype: Dtype,
  shape: readonly number[],
  label = "tensor",
): Promise<Tensor> {
  for (const d of shape)
    if (!Number.isInteger(d) || d < 1)
      throw new KernelInputError("createTensor", `${label}: bad shape ${shapeStr(shape)}`);
  const size = numel(shape);
  const bytes = paddedBytes(dtype, size);
  const limit = storageLimit(ctx);
  if (bytes > limit)
    throw new KernelInputError(
      "createTensor",
      `${label} ${dtype}${shapeStr(shape)} needs ${bytes} bytes, past this device's storage-buffer limit of ${limit}`,
    );
  // At least 512 bytes: a shader that loads a 16×16 f16 subgroup-matrix fragment from a buffer
  // needs that much bound, even for a 1×1 tensor (uploads and downloads still cover byteSize only).
  const buffer = await withErrorScopes(ctx, `createTensor(${label} ${dtype}${shapeStr(shape)})`, () =>
    ctx.device.createBuffer({
      size: Math.max(bytes, MIN_ALLOCATION),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      label,
    }),
  );
  return { buffer, dtype, shape: [...shape], size, label };
}

/**
 * A tensor that lives inside another buffer (a slab of parameters, gradients or activations), so
 * one dispatch can run over the whole slab while GEMMs bind each piece. `byteOffset` must be a
 * multiple of 256 (WebGPU's minStorageBufferOffsetAlignment on every adapter we target).
 */
export function tensorView(
  buffer: GPUBuffer,
  byteOffset: number,
  dtype: Dtype,
  shape: readonly number[],
  label: string,
): Tensor {
  const size = numel(shape);
  if (byteOffset % 256 !== 0)
    throw new KernelInputError("tensorView", `${label}: byte offset ${byteOffset} is not a multiple of 256`);
  if (byteOffset + byteSize(dtype, size) > buffer.size)
    throw new KernelInputError(
      "tensorView",
      `${label} ${dtype}${shapeStr(shape)} at byte ${byteOffset} runs past its buffer (${buffer.size} bytes)`,
    );
  return { buffer, byteOffset, dtype, shape: [...shape], size, label };
}

/** The same storage seen with another shape (e.g. a smaller batch in a buffer sized for the largest). */
export function reshapeView(t: Tensor, shape: readonly number[], label = t.label): Tensor {
  const size = numel(shape);
  if (size > t.size)
    throw new KernelInputError("reshapeView", `${label}: ${shapeStr(shape)} is larger than ${describeT(t)}`);
  return { ...t, shape: [...shape], size, label };
}

const describeT = (t: Tensor) => `${t.label} ${t.dtype}${shapeStr(t.shape)}`;

/**
 * The binding of a tensor: whole buffer when it owns one, else its range rounded up to 16 bytes
 * and at least 512 bytes where the buffer has them (a subgroup-matrix fragment load needs that
 * much bound, as createTensor's minimum allocation).
 */
export function tensorBinding(t: Tensor): GPUBufferBinding {
  if (t.byteOffset === undefined) return { buffer: t.buffer };
  const bytes = paddedBytes(t.dtype, t.size);
  const size = Math.min(t.buffer.size - t.byteOffset, Math.max(bytes, MIN_ALLOCATION));
  return { buffer: t.buffer, offset: t.byteOffset, size: Math.floor(size / 4) * 4 };
}

/** The bytes a kernel sees of a tensor through tensorBinding (from its start). */
export function boundBytes(t: Tensor): number {
  const b = tensorBinding(t);
  return b.size ?? b.buffer.size - (b.offset ?? 0);
}

/** Encodes numbers as the tensor's dtype. f16 rounds to nearest even. */
export function encode(dtype: Dtype, values: ArrayLike<number>): ArrayBufferView {
  switch (dtype) {
    case "f32":
      return values instanceof Float32Array ? values : Float32Array.from(values);
    case "f16":
      return toF16Array(values);
    case "u32":
      return values instanceof Uint32Array ? values : Uint32Array.from(values);
    case "i32":
      return values instanceof Int32Array ? values : Int32Array.from(values);
    case "u8":
      return values instanceof Uint8Array ? values : Uint8Array.from(values);
  }
}

export function upload(ctx: GpuContext, t: Tensor, values: ArrayLike<number>): void {
  if (values.length !== t.size)
    throw new KernelInputError("upload", `${t.label} holds ${t.size} elements, got ${values.length}`);
  const view = encode(t.dtype, values);
  const bytes = byteSize(t.dtype, t.size);
  // writeBuffer needs a multiple of 4 bytes: pad odd f16/u8 data.
  if (view.byteLength !== bytes) {
    const padded = new Uint8Array(bytes);
    padded.set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
    ctx.device.queue.writeBuffer(t.buffer, t.byteOffset ?? 0, padded);
  } else
    ctx.device.queue.writeBuffer(t.buffer, t.byteOffset ?? 0, view.buffer, view.byteOffset, view.byteLength);
}

export async function tensorFrom(
  ctx: GpuContext,
  dtype: Dtype,
  shape: readonly number[],
  values: ArrayLike<number>,
  label = "tensor",
): Promise<Tensor> {
  const t = await createTensor(ctx, dtype, shape, label);
  upload(ctx, t, values);
  return t;
}

/** Fills every element with one value (e.g. NaN, to poison outputs in tests). */
export function fill(ctx: GpuContext, t: Tensor, value: number): void {
  const bytes = byteSize(t.dtype, t.size);
  if (t.dtype === "f16") {
    const h = f32ToF16Bits(value);
    ctx.device.queue.writeBuffer(t.buffer, t.byteOffset ?? 0, new Uint32Array(bytes / 4).fill(h | (h << 16)));
  } else {
    const v = encode(t.dtype, new Array(bytes / BYTES[t.dtype]).fill(value));
    ctx.device.queue.writeBuffer(t.buffer, t.byteOffset ?? 0, v.buffer, v.byteOffset, bytes);
  }
}

/** Reads raw bytes back from a buffer. */
export async function readBytes(
  ctx: GpuContext,
  buffer: GPUBuffer,
  bytes: number,
  offset = 0,
): Promise<ArrayBuffer> {
  const staging = ctx.device.createBuffer({
    size: bytes,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const enc = ctx.device.createCommandEncoder();
  enc.copyBufferToBuffer(buffer, offset, staging, 0, bytes);
  ctx.device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = staging.getMappedRange().slice(0);
  staging.unmap();
  staging.destroy();
  ctx.check("readBytes");
  return out;
}

/** Reads a tensor back as numbers (f16 decoded to f32). */
export async function download(
  ctx: GpuContext,
  t: Tensor,
): Promise<Float32Array | Uint32Array | Int32Array | Uint8Array> {
  const raw = await readBytes(ctx, t.buffer, byteSize(t.dtype, t.size), t.byteOffset ?? 0);
  switch (t.dtype) {
    case "f32":
      return new Float32Array(raw, 0, t.size);
    case "f16":
      return fromF16Array(new Uint16Array(raw, 0, t.size));
    case "u32":
      return new Uint32Array(raw, 0, t.size);
    case "i32":
      return new Int32Array(raw, 0, t.size);
    case "u8":
      return new Uint8Array(raw, 0, t.size);
  }
}

export async function downloadF32(ctx: GpuContext, t: Tensor): Promise<Float32Array> {
  if (t.dtype !== "f32" && t.dtype !== "f16")
    throw new KernelInputError("downloadF32", `${t.label} is ${t.dtype}, not a float tensor`);
  return (await download(ctx, t)) as Float32Array;
}

/** Destroys tensors that own their buffers (views are left to their slab's owner). */
export function destroyTensor(...ts: Tensor[]): void {
  for (const t of ts) if (t.byteOffset === undefined) t.buffer.destroy();
}
