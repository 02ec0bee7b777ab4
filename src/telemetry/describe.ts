// `describeTelemetry()`: which energy sources this machine offers, and why not where not.
// Shown by `halfwatt devices` and at the top of `halfwatt measure`.
import { type CpuPowerModel, resolveCpuModel } from "./cpu-model.js";
import { type NvmlLoadResult, type NvmlSnapshot, nvmlAvailability, openNvml } from "./nvml.js";
import { type RamPowerModel, resolveRamPowerModel } from "./ram-model.js";
import { probeRapl } from "./rapl.js";
import type { Availability, Provenance } from "./types.js";

export interface SourceDescription {
  source: string;
  provenance: Provenance;
  status: Availability;
}

export interface TelemetryDescription {
  sources: SourceDescription[];
  nvml: { load?: NvmlLoadResult; gpus: NvmlSnapshot[] };
  cpuModel?: CpuPowerModel;
  ramModel?: RamPowerModel;
}

export async function describeTelemetry(
  options: { cpuTdpW?: number; raplRoot?: string } = {},
): Promise<TelemetryDescription> {
  const sources: SourceDescription[] = [];
  const nvml = openNvml();
  const gpus: NvmlSnapshot[] = [];
  if (nvml.available)
    for (let i = 0; i < (nvml.load.deviceCount ?? 0); i++) gpus.push(await nvml.binding.snapshotAsync(i));
  sources.push({
    source: "NVML energy counter (GPU)",
    provenance: "counter",
    status: nvmlCounterStatus(nvml, gpus),
  });
  sources.push({ source: "NVML power (GPU)", provenance: "sampled", status: nvmlAvailability(nvml) });

  const rapl = probeRapl(options.raplRoot);
  sources.push({ source: "RAPL (CPU package, DRAM)", provenance: "counter", status: rapl.availability });
  const out: TelemetryDescription = { sources, nvml: { load: nvml.available ? nvml.load : undefined, gpus } };
  const modelStatus = (what: string): Availability =>
    rapl.domains.some((d) => d.component === what)
      ? { available: false, reason: "RAPL measures it instead" }
      : { available: true, detail: "" };
  const cpu = modelStatus("cpu");
  if (cpu.available) {
    try {
      out.cpuModel = resolveCpuModel({ tdpW: options.cpuTdpW });
      cpu.detail = `TDP ${out.cpuModel.tdpW.toFixed(1)} W (${out.cpuModel.origin}); P = TDP × (${out.cpuModel.idleFraction} + ${1 - out.cpuModel.idleFraction}·utilisation)`;
    } catch (e) {
      Object.assign(cpu, { available: false, reason: (e as Error).message });
    }
  }
  sources.push({ source: "CPU power model", provenance: "estimated", status: cpu });
  const ram = modelStatus("dram");
  if (ram.available) {
    try {
      out.ramModel = resolveRamPowerModel();
      ram.detail = `${out.ramModel.powerW.toFixed(2)} W: ${out.ramModel.note}`;
    } catch (e) {
      Object.assign(ram, { available: false, reason: (e as Error).message });
    }
  }
  sources.push({ source: "RAM power model", provenance: "estimated", status: ram });
  sources.push({
    source: "wall meter",
    provenance: "sampled",
    status: {
      available: false,
      reason: "none configured (halfwatt measure --plug shelly|tasmota=URL, --wall-csv FILE)",
    },
  });
  return out;
}

function nvmlCounterStatus(nvml: ReturnType<typeof openNvml>, gpus: NvmlSnapshot[]): Availability {
  if (!nvml.available) return { available: false, reason: nvml.reason };
  const without = gpus.filter((g) => g.energyMillijoules === undefined);
  if (without.length === gpus.length)
    return {
      available: false,
      reason: `no GPU has it: ${gpus[0]?.errors.energyMillijoules ?? "unsupported"}`,
    };
  return {
    available: true,
    detail: without.length
      ? `not on GPU(s) ${without.map((g) => g.index).join(", ")}`
      : `on all ${gpus.length} GPU(s)`,
  };
}

const fmt = (v: number | undefined, scale = 1, unit = "", digits = 0) =>
  v === undefined ? "?" : `${(v * scale).toFixed(digits)}${unit}`;

export function formatTelemetry(d: TelemetryDescription): string {
  const out = ["Telemetry (energy sources):"];
  for (const s of d.sources) {
    const status = s.status.available
      ? `yes${s.status.detail ? ` — ${s.status.detail}` : ""}`
      : `no — ${s.status.reason}`;
    out.push(`  ${s.source} [${s.provenance}]: ${status}`);
  }
  for (const g of d.nvml.gpus) {
    out.push(
      `  GPU ${g.index}: ${g.name ?? "?"} ${g.uuid ?? ""} bus ${g.pciBusId ?? "?"}: ${fmt(g.powerMilliwatts, 1e-3, " W", 1)} of ${fmt(g.powerLimitMilliwatts, 1e-3, " W")} limit, ${fmt(g.temperatureC, 1, " °C")}, util ${fmt(g.gpuUtilPercent, 1, " %")} (mem ${fmt(g.memUtilPercent, 1, " %")}), SM ${fmt(g.smClockMHz, 1, " MHz")}, mem ${fmt(g.memClockMHz, 1, " MHz")}, ${fmt(g.memoryUsedBytes, 2 ** -30, " GiB", 1)} used`,
    );
    for (const [k, v] of Object.entries(g.errors)) out.push(`    ${k}: ${v}`);
  }
  return out.join("\n");
}
