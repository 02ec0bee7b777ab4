// What the GEMM kernels share (the portable tiled one in gemm-tiled.ts, the tensor-core one in
// gemm-subgroup-matrix.ts, the skinny one in gemm-skinny.ts, the lanes one in gemm-lanes.ts):
// shapes, options, epilogue flags, bindings, uniforms and op names. Its own module so that neither
// kernel module imports the other's internals in a cycle.
import type { BindingSpec, DispatchOptions, ProgramSpec, UniformType } from "./program.js";
import type { Tensor } from "./tensor.js";

/** What every GEMM kernel is told (gemm()'s options less the choice of kernel and tile). */
export interface GemmProductOptions extends DispatchOptions {
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  /** With beta ≠ 0, C is read: C = alpha·AB + beta·C. With beta = 0 C is never read. */
  beta?: number;
  /** Added to every row of the result: shape [N], dtype of C. */
  bias?: Tensor;
  relu?: boolean;
  /** Number of K splits (default: chosen from the shape; 1 = no split). */
  splitK?: number;
}

export interface GemmShape {
  m: number;
  n: number;
  k: number;
}

/** What a fused weight update (weight-update.ts) adds to a GEMM's spec: the optimizer's WGSL, bindings, uniforms, consts. */
export interface FusedUpdateParts {
  name: string;
  /**
   * 16-byte slots: w and the moments bound as vec4<f32>, 4 adjacent dW values per update
   * (lib/fused_update_quad.wgsl; dW's N a multiple of 4). Else element by element
   * (lib/fused_update.wgsl), any N.
   */
  vector: boolean;
  /**
   * Overlapped instead of fused (weight-grad-overlap.ts, lib/overlap_update.wgsl): the GEMM stores
   * dW in C as the plain kernel does, and the workgroups outside this dispatch's chunk of rows of
   * tiles apply the optimizer to the chunk the previous dispatch stored. Needs `vector`.
   */
  overlap?: boolean;
  includes: string[];
  bindings: BindingSpec[];
  uniforms: [string, UniformType][];
  consts: Record<string, boolean | number>;
}

export interface EpilogueFlags {
  transA: boolean;
  transB: boolean;
  useBeta: boolean;
  hasBias: boolean;
  relu: boolean;
  splitK: boolean;
}

export const GEMM_UNIFORMS: ProgramSpec["uniforms"] = [
  ["m", "u32"],
  ["n", "u32"],
  ["k", "u32"],
  ["alpha", "f32"],
  ["beta", "f32"],
  ["kchunk", "u32"],
];

/** The buffers every GEMM kernel binds, in order (ws: split-K partial sums, f32). */
export const GEMM_BINDINGS: ProgramSpec["bindings"] = [
  { name: "a", access: "read", type: "T" },
  { name: "b", access: "read", type: "T" },
  { name: "c", access: "read_write", type: "TC" },
  { name: "bias", access: "read", type: "TC" },
  { name: "ws", access: "read_write", type: "f32" },
];

export function epilogueConsts(f: EpilogueFlags): Record<string, boolean> {
  return {
    TRANS_A: f.transA,
    TRANS_B: f.transB,
    USE_BETA: f.useBeta && !f.splitK,
    HAS_BIAS: f.hasBias,
    RELU: f.relu,
    SPLIT_K: f.splitK,
  };
}

export function gemmOpName(kernel: string, inType: string, outType: string, f: EpilogueFlags): string {
  return `gemm_${kernel}_${inType}_${outType}${f.transA ? "_tA" : ""}${f.transB ? "_tB" : ""}${f.splitK ? "_splitk" : ""}`;
}
