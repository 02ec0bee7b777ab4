// A halfwatt GPU context: one adapter, one device with the features and limits we need,
// and error handling that turns WebGPU's asynchronous errors into typed exceptions.
import {
  adapterLabel,
  type OpenedAdapter,
  openAdapter,
  SUBGROUP_MATRIX_FEATURE,
  type SubgroupMatrixConfig,
  subgroupMatrixConfigs,
} from "./adapter.js";
import { DeviceLostError, GpuOperationError } from "./errors.js";

export interface GpuCaps {
  f16: boolean;
  subgroups: boolean;
  timestamps: boolean;
  subgroupMatrix: boolean;
  /** Subgroup-matrix configs with f16 inputs and f32 results (the tensor-core GEMM path). */
  f16f32Matrix: SubgroupMatrixConfig[];
  subgroupMinSize: number;
  subgroupMaxSize: number;
}

export interface GpuContext {
  gpu: GPU;
  adapter: GPUAdapter;
  device: GPUDevice;
  adapterName: string;
  caps: GpuCaps;
  /** Throws the first lost-device or uncaptured error seen so far, if any. */
  check(operation: string): void;
  destroy(): void;
}

export interface OpenDeviceOptions {
  adapter?: string;
  /** Features to leave off even when present (e.g. to test the portable path on an NVIDIA GPU). */
  disable?: string[];
}

/**
 * The limits the kernels need at the adapter's value (WebGPU's defaults are lower); every other
 * limit, the dynamic-buffer ones included, stays at its default. (Dawn's "maxDynamic… artificially
 * reduced" warnings are printed when the adapter is enumerated, before any device exists, so no
 * choice here changes them; the CLI filters them, see src/cli/dawn-stderr.ts.)
 */
export const LIMITS_TO_RAISE = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxComputeWorkgroupsPerDimension",
  "maxStorageBuffersPerShaderStage",
  "maxBindGroups",
] as const;

export async function openDevice(options: OpenDeviceOptions = {}): Promise<GpuContext> {
  const opened: OpenedAdapter = await openAdapter(options.adapter ?? process.env.HALFWATT_ADAPTER);
  const { gpu, adapter } = opened;
  const disabled = new Set(options.disable ?? []);
  const want = ["shader-f16", "subgroups", "timestamp-query", SUBGROUP_MATRIX_FEATURE].filter(
    (f) => adapter.features.has(f) && !disabled.has(f),
  );
  const requiredLimits: Record<string, number> = {};
  for (const k of LIMITS_TO_RAISE)
    requiredLimits[k] = (adapter.limits as unknown as Record<string, number>)[k];
  const device = await adapter.requestDevice({
    requiredFeatures: want as GPUFeatureName[],
    requiredLimits,
    label: `halfwatt on ${opened.name}`,
  });
  const name = adapterLabel(adapter);
  const info = adapter.info as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number };
  const has = (f: string) => device.features.has(f);
  const caps: GpuCaps = {
    f16: has("shader-f16"),
    subgroups: has("subgroups"),
    timestamps: has("timestamp-query"),
    subgroupMatrix: has(SUBGROUP_MATRIX_FEATURE),
    f16f32Matrix: has(SUBGROUP_MATRIX_FEATURE)
      ? subgroupMatrixConfigs(adapter).filter(
          (c) => c.componentType === "f16" && c.resultComponentType === "f32",
        )
      : [],
    subgroupMinSize: info.subgroupMinSize ?? 0,
    subgroupMaxSize: info.subgroupMaxSize ?? 0,
  };

  let pending: Error | null = null;
  let destroyed = false;
  device.lost.then((lost) => {
    if (!destroyed) pending ??= new DeviceLostError(name, lost.reason, lost.message);
  });
  device.addEventListener("uncapturederror", (ev) => {
    const err = (ev as GPUUncapturedErrorEvent).error;
    pending ??= new GpuOperationError(name, "an uncaptured GPU command", "uncaptured", err.message);
  });

  return {
    gpu,
    adapter,
    device,
    adapterName: name,
    caps,
    check(operation: string) {
      if (pending) {
        const e = pending;
        pending = null;
        if (e instanceof GpuOperationError)
          throw new GpuOperationError(name, `${operation} (or GPU work before it)`, e.kind, e.detail);
        throw e;
      }
    },
    destroy() {
      destroyed = true;
      device.destroy();
    },
  };
}

/**
 * Runs `fn` inside validation and out-of-memory error scopes and throws a typed error naming
 * `operation` if WebGPU reports one. Use around buffer creation and pipeline compilation.
 */
export async function withErrorScopes<T>(ctx: GpuContext, operation: string, fn: () => T): Promise<T> {
  ctx.device.pushErrorScope("out-of-memory");
  ctx.device.pushErrorScope("validation");
  ctx.device.pushErrorScope("internal");
  let result: T | undefined;
  let thrown: unknown = null;
  try {
    result = fn();
  } catch (e) {
    thrown = e;
  }
  // Pop all three scopes whatever happened, then prefer the GPU's own report.
  const internal = await ctx.device.popErrorScope();
  const validation = await ctx.device.popErrorScope();
  const oom = await ctx.device.popErrorScope();
  if (validation) throw new GpuOperationError(ctx.adapterName, operation, "validation", validation.message);
  if (oom) throw new GpuOperationError(ctx.adapterName, operation, "out-of-memory", oom.message);
  if (internal) throw new GpuOperationError(ctx.adapterName, operation, "internal", internal.message);
  if (thrown !== null) throw thrown;
  ctx.check(operation);
  return result as T;
}
