// NVIDIA GPUs through NVML, via halfwatt's addon (native/nvml). The addon dlopens
// libnvidia-ml.so.1 at run time, so both "addon not built" and "no NVIDIA driver" end up here as
// an unavailable source with the reason, never as a crash.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { monotonicMs } from "./clock.js";
import type { Availability, ChannelInfo, ChannelReading, TelemetrySource } from "./types.js";

export interface NvmlLoadResult {
  ok: boolean;
  library: string;
  reason?: string;
  driverVersion?: string;
  nvmlVersion?: string;
  deviceCount?: number;
}

/** Fields that failed are absent and explained in `errors` (e.g. energy on pre-Volta GPUs). */
export interface NvmlSnapshot {
  index: number;
  name?: string;
  uuid?: string;
  pciBusId?: string;
  powerMilliwatts?: number;
  energyMillijoules?: number;
  gpuUtilPercent?: number;
  memUtilPercent?: number;
  temperatureC?: number;
  smClockMHz?: number;
  memClockMHz?: number;
  memoryUsedBytes?: number;
  memoryTotalBytes?: number;
  powerLimitMilliwatts?: number;
  errors: Record<string, string>;
}

/** One entry of a GPU's running-process lists (nvmlDeviceGet{Compute,Graphics}RunningProcesses). */
export interface NvmlProcess {
  /** As the driver sees it: the host's PID namespace, whatever namespace halfwatt runs in. */
  pid: number;
  /** null where NVML cannot tell (NVML_VALUE_NOT_AVAILABLE). */
  usedGpuMemoryBytes: number | null;
  /** CUDA contexts are "compute"; Vulkan/OpenGL (Dawn) work is usually "graphics". */
  kind: "compute" | "graphics";
}

export interface NvmlBinding {
  load(library?: string): NvmlLoadResult;
  errorText(code: number): string;
  powerMilliwatts(index: number): number;
  energyMillijoules(index: number): number;
  snapshot(index: number): NvmlSnapshot;
  snapshotAsync(index: number): Promise<NvmlSnapshot>;
  /**
   * Both process lists of GPU `index` (a process using both appears once per kind). A list the
   * GPU or driver lacks is skipped if the other answered; otherwise throws with NVML's error.
   */
  runningProcesses(index: number): NvmlProcess[];
}

const ADDON_RELATIVE = "native/nvml/build/Release/halfwatt_nvml.node";

/** The package root is two levels above src/telemetry, three above dist/src/telemetry. */
export function addonPath(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ["../..", "../../.."]) {
    const p = resolve(here, up, ADDON_RELATIVE);
    if (existsSync(p)) return p;
  }
  return null;
}

let cachedBinding: { binding: NvmlBinding } | { reason: string } | null = null;

/** The addon itself, or why it could not be loaded (not built, wrong platform). */
export function loadNvmlBinding(): { binding: NvmlBinding } | { reason: string } {
  if (cachedBinding) return cachedBinding;
  const path = addonPath();
  if (!path)
    cachedBinding = {
      reason: `the NVML addon is not built (${ADDON_RELATIVE} missing; run npm run build:native)`,
    };
  else
    try {
      cachedBinding = { binding: createRequire(import.meta.url)(path) as NvmlBinding };
    } catch (e) {
      cachedBinding = { reason: `the NVML addon at ${path} failed to load: ${(e as Error).message}` };
    }
  return cachedBinding;
}

/** libnvidia-ml.so.1 unless HALFWATT_NVML_LIB names another (a test double, an odd install). */
export function nvmlLibrary(): string {
  return process.env.HALFWATT_NVML_LIB || "libnvidia-ml.so.1";
}

export type NvmlStatus =
  | { available: true; binding: NvmlBinding; load: NvmlLoadResult }
  | { available: false; reason: string };

/** Loads the addon and NVML. Safe to call repeatedly (NVML is initialised once per process). */
export function openNvml(library = nvmlLibrary()): NvmlStatus {
  const b = loadNvmlBinding();
  if ("reason" in b) return { available: false, reason: b.reason };
  const load = b.binding.load(library);
  if (!load.ok) return { available: false, reason: load.reason ?? "NVML failed to load" };
  if (!load.deviceCount) return { available: false, reason: "NVML is loaded but reports no GPUs" };
  return { available: true, binding: b.binding, load };
}

export function nvmlAvailability(status: NvmlStatus): Availability {
  return status.available
    ? {
        available: true,
        detail: `NVML ${status.load.nvmlVersion ?? "?"}, driver ${status.load.driverVersion ?? "?"}, ${status.load.deviceCount} GPU(s)`,
      }
    : { available: false, reason: status.reason };
}

/**
 * NVML's sensors. nvmlDeviceGetPowerUsage is, per NVIDIA's docs, a 1-second average on Ampere
 * and newer (except GA100) and instantaneous before; its update rate is not documented, hence
 * the assumed 100 ms below, which the agreement run on real hardware checks (docs/telemetry.md).
 * The energy counter (mJ since driver load, Volta+) is the primary figure; power is integrated
 * alongside it as a cross-check.
 */
export const NVML_UPDATE_PERIOD_MS = 100;

export class NvmlSource implements TelemetrySource {
  readonly name = "nvml";
  readonly channels: ChannelInfo[];
  private readonly hasCounter: boolean[];

  constructor(
    private readonly binding: NvmlBinding,
    private readonly devices: number[],
  ) {
    this.hasCounter = devices.map((i) => {
      try {
        binding.energyMillijoules(i);
        return true;
      } catch {
        return false;
      }
    });
    this.channels = devices.map((i, k) => {
      const snap = binding.snapshot(i);
      return {
        id: `nvml:${i}`,
        component: "gpu" as const,
        source: `NVML GPU ${i} (${snap.name ?? "unnamed"})`,
        power: "sampled" as const,
        ...(this.hasCounter[k] ? { counter: "counter" as const } : {}),
        updatePeriodMs: NVML_UPDATE_PERIOD_MS,
        ...(this.hasCounter[k]
          ? {}
          : {
              note: `no energy counter: ${snap.errors.energyMillijoules ?? "unsupported"}; power is integrated`,
            }),
      };
    });
  }

  read(what: { counters: boolean }): ChannelReading[] {
    const out: ChannelReading[] = [];
    this.devices.forEach((i, k) => {
      const channel = `nvml:${i}`;
      out.push({ channel, powerW: this.binding.powerMilliwatts(i) / 1000, t: monotonicMs() });
      if (what.counters && this.hasCounter[k]) {
        // The counter read takes ~4 ms on an H100: stamp it at the middle of the call.
        const before = monotonicMs();
        const energyJ = this.binding.energyMillijoules(i) / 1000;
        out.push({ channel, energyJ, t: (before + monotonicMs()) / 2 });
      }
    });
    return out;
  }
}
