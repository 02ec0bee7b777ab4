// Which sources to sample, as plain data (SourceSpec) that can cross into the sampler's worker
// thread, and how the worker turns each spec into a live source.
import { CpuModelSource, type CpuPowerModel, resolveCpuModel } from "./cpu-model.js";
import { TelemetryError } from "./errors.js";
import { NvidiaSmiSource, nvidiaSmiAvailability } from "./nvidia-smi.js";
import { NvmlSource, openNvml } from "./nvml.js";
import { type RamModelKind, RamModelSource, type RamSourceModel, resolveRamPowerModel } from "./ram-model.js";
import { DEFAULT_POWERCAP_ROOT, probeRapl, RaplSource } from "./rapl.js";
import type { TelemetrySource } from "./types.js";
import { type PlugKind, SmartPlugSource } from "./wall-meter.js";

export type SourceSpec =
  | { kind: "nvml"; library?: string; devices?: number[] }
  | { kind: "rapl"; root?: string }
  | { kind: "cpu-model"; model: CpuPowerModel; procStat?: string }
  | { kind: "ram-model"; model: RamSourceModel }
  | { kind: "plug"; plug: PlugKind; url: string; intervalMs?: number }
  | { kind: "nvidia-smi"; devices: number[]; intervalMs?: number }
  /** A module exporting `createSource(options)`: test doubles, experimental sensors. */
  | { kind: "module"; url: string; exportName?: string; options?: unknown };

export async function createSource(spec: SourceSpec): Promise<TelemetrySource> {
  switch (spec.kind) {
    case "nvml": {
      const nvml = openNvml(spec.library);
      if (!nvml.available) throw new TelemetryError(`NVML unavailable: ${nvml.reason}`);
      const devices = spec.devices ?? [...Array(nvml.load.deviceCount).keys()];
      return new NvmlSource(nvml.binding, devices);
    }
    case "rapl": {
      const { domains, availability } = probeRapl(spec.root ?? DEFAULT_POWERCAP_ROOT);
      if (!availability.available) throw new TelemetryError(`RAPL unavailable: ${availability.reason}`);
      return new RaplSource(domains);
    }
    case "cpu-model":
      return new CpuModelSource(spec.model, spec.procStat);
    case "ram-model":
      return new RamModelSource(spec.model);
    case "plug":
      return new SmartPlugSource(spec.plug, spec.url, spec.intervalMs);
    case "nvidia-smi":
      return new NvidiaSmiSource(spec.devices, spec.intervalMs);
    case "module": {
      const mod = (await import(spec.url)) as Record<
        string,
        (o: unknown) => TelemetrySource | Promise<TelemetrySource>
      >;
      const factory = mod[spec.exportName ?? "createSource"];
      if (typeof factory !== "function")
        throw new TelemetryError(`${spec.url} exports no ${spec.exportName ?? "createSource"}()`);
      return factory(spec.options);
    }
  }
}

export interface PlanOptions {
  /** --cpu-tdp W */
  cpuTdpW?: number;
  cpuIdleFraction?: number;
  /** The constant RAM model's W/GB; giving it selects that model unless ramModel says otherwise. */
  ramWattsPerGb?: number;
  /** "modules" (default) or "constant" (W per GB, for comparison with older studies). */
  ramModel?: RamModelKind;
  raplRoot?: string;
  /** Leave NVML out (e.g. a CPU-only run). */
  noNvml?: boolean;
  /**
   * NVML indices of the GPUs to read (default: every GPU). A suite worker bound to one GPU reads
   * that GPU alone, so an idle or busy neighbour never enters its run's energy.
   */
  gpus?: number[];
  plug?: { kind: PlugKind; url: string };
  /** Log nvidia-smi power.draw next to NVML as a cross-check. */
  nvidiaSmi?: boolean;
}

export interface SourcePlan {
  specs: SourceSpec[];
  /** Sources left out, and why. */
  unavailable: { source: string; reason: string }[];
}

/**
 * Everything measurable here: NVML for GPUs; RAPL for CPU and DRAM, else the CPU and RAM models
 * (estimated); a smart plug if one is named.
 */
export function planSources(options: PlanOptions = {}): SourcePlan {
  const specs: SourceSpec[] = [];
  const unavailable: SourcePlan["unavailable"] = [];
  if (!options.noNvml) {
    const nvml = openNvml();
    const count = nvml.available ? (nvml.load.deviceCount ?? 0) : 0;
    const gpus = options.gpus ?? [...Array(count).keys()];
    if (nvml.available) {
      const missing = gpus.filter((i) => !Number.isInteger(i) || i < 0 || i >= count);
      if (missing.length)
        throw new TelemetryError(`NVML has ${count} GPU(s) (0..${count - 1}); no GPU ${missing.join(", ")}`);
      specs.push({ kind: "nvml", ...(options.gpus ? { devices: gpus } : {}) });
    } else unavailable.push({ source: "NVML", reason: nvml.reason });
    if (options.nvidiaSmi) {
      const smi = nvidiaSmiAvailability();
      if (!smi.available) unavailable.push({ source: "nvidia-smi", reason: smi.reason });
      else if (!nvml.available)
        unavailable.push({ source: "nvidia-smi", reason: "only logged next to NVML" });
      else specs.push({ kind: "nvidia-smi", devices: gpus });
    }
  }
  const rapl = probeRapl(options.raplRoot);
  const hasPackage = rapl.domains.some((d) => d.component === "cpu");
  const hasDram = rapl.domains.some((d) => d.component === "dram");
  if (rapl.availability.available) specs.push({ kind: "rapl", root: options.raplRoot });
  else unavailable.push({ source: "RAPL", reason: rapl.availability.reason });
  if (!hasPackage)
    specs.push({
      kind: "cpu-model",
      model: resolveCpuModel({ tdpW: options.cpuTdpW, idleFraction: options.cpuIdleFraction }),
    });
  if (!hasDram)
    specs.push({
      kind: "ram-model",
      model: resolveRamPowerModel({ model: options.ramModel, wattsPerGb: options.ramWattsPerGb }),
    });
  if (options.plug) specs.push({ kind: "plug", plug: options.plug.kind, url: options.plug.url });
  return { specs, unavailable };
}
