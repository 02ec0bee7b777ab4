// copyWords: dst[0, bytes) = src[0, bytes) by a compute shader in 16-byte words
// (shaders/copy.wgsl): the same access pattern as the slab optimizers with no arithmetic, so it
// is the memory ceiling those kernels are held to (bench/optimizer.bench.ts, train.bench's
// --ceilings). A GPUBuffer copy (copyBufferToBuffer) is kept for data movement; on NVIDIA's
// Vulkan driver it runs on a copy engine at a fraction of the DRAM's bandwidth.
import type { GpuContext } from "../gpu/device.js";
import { KernelInputError } from "../gpu/errors.js";
import { grid, WG } from "./opcheck.js";
import { type DispatchOptions, dispatch, getProgram, type ProgramSpec } from "./program.js";

const OP = "copy_words";

export interface CopyWordsArgs {
  /** Storage buffer read from its start. */
  src: GPUBuffer;
  /** Storage buffer written from its start; not src. */
  dst: GPUBuffer;
  /** Bytes to copy: a multiple of 16, ≤ both buffers' sizes. */
  bytes: number;
}

export function copySpec(): ProgramSpec {
  return {
    op: OP,
    shader: "copy",
    bindings: [
      { name: "src", access: "read", type: "vec4<u32>" },
      { name: "dst", access: "read_write", type: "vec4<u32>" },
    ],
    uniforms: [["words", "u32"]],
    workgroupSize: [WG],
  };
}

/** Records into options.record / options.encoder when given. */
export async function copyWords(
  ctx: GpuContext,
  args: CopyWordsArgs,
  options: DispatchOptions = {},
): Promise<void> {
  const { src, dst, bytes } = args;
  if (!(Number.isInteger(bytes) && bytes > 0 && bytes % 16 === 0))
    throw new KernelInputError(OP, `bytes must be a positive multiple of 16, got ${bytes}`);
  if (src === dst) throw new KernelInputError(OP, "src and dst must be different buffers");
  for (const [name, b] of [
    ["src", src],
    ["dst", dst],
  ] as const)
    if (b.size < bytes)
      throw new KernelInputError(OP, `${name} holds ${b.size} bytes, fewer than the ${bytes} to copy`);
  const program = await getProgram(ctx, copySpec());
  const words = bytes / 16;
  // Buffers bound whole; the shader stops at `words`.
  dispatch(
    ctx,
    program,
    [src, dst],
    [words],
    grid(ctx, OP, Math.ceil(words / 2), WG, `${words} words`),
    options,
  );
}
