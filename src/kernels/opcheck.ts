// Input checks and small dispatch helpers shared by the training kernels (bias_grad, relu_backward,
// softmax_xent, cast, image_normalize, nonfinite, sgd, adam). Every failure is a KernelInputError
// that names the op and the tensors, thrown before anything is recorded: a bad call never becomes a
// silent out-of-bounds read or a half-written output.
import type { GpuContext } from "../gpu/device.js";
import { KernelInputError } from "../gpu/errors.js";
import { resourceSlot, resourcesOf } from "../gpu/resources.js";
import { grid1d } from "./program.js";
import { byteSize, type Dtype, numel, shapeStr, type Tensor } from "./tensor.js";

export type FloatDtype = "f32" | "f16";

/** Workgroup size of the 1-D element-wise kernels. */
export const WG = 256;

export const describe = (t: Tensor): string => `${t.label} ${t.dtype}${shapeStr(t.shape)}`;

export interface TensorWant {
  dtype: Dtype | readonly Dtype[];
  /** Exact element count, when the op fixes it. */
  size?: number;
  /** Where that count comes from, for the error (e.g. "one label per row of logits f16[256×525]"). */
  why?: string;
}

/**
 * Checks one tensor: dtype, element count, that its shape and size agree, and that its buffer
 * holds the data and can be bound whole (dispatch binds whole buffers).
 */
export function checkTensor(ctx: GpuContext, op: string, role: string, t: Tensor, want: TensorWant): void {
  const dtypes: readonly Dtype[] = typeof want.dtype === "string" ? [want.dtype] : want.dtype;
  if (!dtypes.includes(t.dtype))
    throw new KernelInputError(op, `${role} (${describe(t)}) must be ${dtypes.join(" or ")}`);
  if (t.size !== numel(t.shape) || t.size < 1)
    throw new KernelInputError(op, `${role} (${describe(t)}) has size ${t.size}, not its shape's`);
  if (want.size !== undefined && t.size !== want.size)
    throw new KernelInputError(
      op,
      `${role} (${describe(t)}) must hold ${want.size} elements${want.why ? ` (${want.why})` : ""}, has ${t.size}`,
    );
  const need = byteSize(t.dtype, t.size);
  const offset = t.byteOffset ?? 0;
  if (t.buffer.size < offset + need)
    throw new KernelInputError(
      op,
      `${role} (${describe(t)}) needs ${need} bytes at offset ${offset}, its buffer has ${t.buffer.size}`,
    );
  const limit = ctx.device.limits.maxStorageBufferBindingSize;
  const bound = t.byteOffset === undefined ? t.buffer.size : need;
  if (bound > limit)
    throw new KernelInputError(
      op,
      `${role} (${describe(t)}) binding of ${bound} bytes is past this device's binding limit of ${limit}`,
    );
}

/** The element type of a float tensor. */
export function floatDtype(op: string, role: string, t: Tensor): FloatDtype {
  if (t.dtype !== "f32" && t.dtype !== "f16")
    throw new KernelInputError(op, `${role} (${describe(t)}) must be f32 or f16`);
  return t.dtype;
}

/**
 * Every tensor of one dispatch must be a distinct buffer: WebGPU rejects a buffer bound writable
 * twice (or writable and readable) in one dispatch, and only reports it asynchronously.
 */
export function checkDistinct(op: string, tensors: Record<string, Tensor | undefined>): void {
  const seen = new Map<GPUBuffer, string>();
  for (const [role, t] of Object.entries(tensors)) {
    if (!t) continue;
    const other = seen.get(t.buffer);
    if (other) throw new KernelInputError(op, `${role} and ${other} are the same buffer (${describe(t)})`);
    seen.set(t.buffer, role);
  }
}

/** Checks a scalar argument: finite, and within [min, max] when given. */
export function checkScalar(op: string, name: string, v: number, min = -Infinity, max = Infinity): void {
  if (!Number.isFinite(v) || v < min || v > max)
    throw new KernelInputError(op, `${name} = ${v} must be a finite number in [${min}, ${max}]`);
}

/**
 * A 1-D dispatch of `items` work items, `perWorkgroup` each: split over x and y by grid1d so more
 * than 65535 workgroups (e.g. 308M image bytes) still fit. Past max² workgroups it fails here,
 * naming the op, rather than in dispatch.
 */
export function grid(
  ctx: GpuContext,
  op: string,
  items: number,
  perWorkgroup: number,
  what: string,
): [number, number] {
  const wgs = Math.ceil(items / perWorkgroup);
  const max = ctx.device.limits.maxComputeWorkgroupsPerDimension;
  // The shaders index with u32: the last invocation's index must not wrap.
  if (wgs > max * max || wgs * perWorkgroup > 2 ** 32 - 1)
    throw new KernelInputError(op, `${what} needs ${wgs} workgroups, past this device's ${max}×${max} grid`);
  return grid1d(ctx, wgs);
}

/**
 * The element-type aliases for an op: `T` and `TV8`, an 8-byte vector of T (vec4<f16> or
 * vec2<f32>) that lets one WGSL body build a T from raw bits for both types (`bitcast<TV8>`),
 * plus `T_IS_F16` for the branches that differ.
 */
export function floatTypes(dtype: FloatDtype): {
  aliases: Record<string, string>;
  consts: Record<string, boolean>;
} {
  return {
    aliases: { T: dtype, TV8: dtype === "f16" ? "vec4<f16>" : "vec2<f32>" },
    consts: { T_IS_F16: dtype === "f16" },
  };
}

/** Per device: the spare buffers by key. */
const SPARE = resourceSlot("spare buffers", () => new Map<string, GPUBuffer>());

/**
 * A per-device buffer for `key`, at least `bytes` long (grown when a call needs more), zeroed at
 * creation. Binds an optional input or output the caller left out (an absent non-finite flag reads
 * as 0), or holds scratch data between two dispatches of one op. Use one key per binding: two
 * writable bindings of one dispatch must not share a buffer.
 */
export function spareBuffer(ctx: GpuContext, key: string, bytes: number): GPUBuffer {
  const m = resourcesOf(ctx.device).get(SPARE);
  const size = Math.max(16, Math.ceil(bytes / 16) * 16);
  let b = m.get(key);
  if (!b || b.size < size) {
    // Not destroyed on growth: work already recorded into a caller's encoder may still use it.
    b = ctx.device.createBuffer({
      size,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      label: `halfwatt spare ${key}`,
    });
    m.set(key, b);
  }
  return b;
}
