// Modelled CPU power, for machines without RAPL (the GPU machine and the dev machines have none):
//
//   P(t) = TDP × (f_idle + (1 − f_idle) · u(t))
//
// u is the busy fraction of all CPUs from /proc/stat over each sampling interval. The curve is
// linear in load like Green Algorithms (Lannelongue et al. 2021: P = P_core × usage) and
// CodeCarbon's process mode (power = TDP × load), with an idle floor f_idle = 10 % of TDP taken
// from CodeCarbon's machine mode (load_factor = 0.1 + 0.9·load³, codecarbon/external/hardware.py);
// CodeCarbon's own docs say none of these shapes is fitted to measurements. Every figure from
// this model is labelled `estimated`.
//
// Range: the same curve with the idle floor at either end of f_idle ∈ [0, 0.3]. 0 is Green
// Algorithms' curve (no idle power); 0.3 is our assumed upper end for a server package idling
// with its uncore, memory controller and I/O powered (not a fitted figure). TDP itself is taken
// as the full-load power at both ends, so the band closes at 100 % load: turbo above TDP
// (Intel's PL2) and TDP errors (e.g. the 4 W/thread fallback) are not in it.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { monotonicMs } from "./clock.js";
import { TelemetryInputError } from "./errors.js";
import { type CpuInfo, type CpuTimes, parseCpuInfo, readCpuTimes, utilisation } from "./proc.js";
import type { ChannelInfo, ChannelReading, TelemetrySource } from "./types.js";

/** The idle floor, as a fraction of TDP (CodeCarbon machine mode's 0.1). */
export const DEFAULT_IDLE_FRACTION = 0.1;
/** The idle floor's stated uncertainty: the ends of the range (see the file comment). */
export const IDLE_FRACTION_RANGE: readonly [number, number] = [0, 0.3];
/** W per hardware thread for CPUs not in the table: CodeCarbon's DEFAULT_POWER_PER_CORE (core/cpu.py). */
export const UNKNOWN_CPU_WATTS_PER_THREAD = 4;

interface TdpEntry {
  tdpW: number;
  threads: number;
  /** Where the figure was checked: the maker's spec page. */
  source: string;
}
type TdpTable = Record<string, TdpEntry>;

let table: TdpTable | null = null;
/** The shipped table (src/telemetry/cpu-tdp.json, copied to dist by tsc). */
export function tdpTable(): TdpTable {
  // A type-position import makes tsc copy the JSON into dist without a runtime JSON import,
  // which Node 20 still marks experimental.
  type Shipped = typeof import("./cpu-tdp.json");
  table ??= (createRequire(import.meta.url)("./cpu-tdp.json") as Shipped).cpus as TdpTable;
  return table;
}

/** Lower-case, without (R)/(TM), "CPU", "Processor", "@ 2.00GHz" and core counts. */
export function normaliseCpuName(name: string): string {
  return name
    .replace(/\((r|tm)\)/gi, " ")
    .replace(/@.*$/, " ")
    .replace(/\b\d+-core\b/gi, " ")
    .replace(/\b(cpu|processor)\b/gi, " ")
    .replace(/\s+/g, " ")
    .trim()
    .toLowerCase();
}

/** The longest table key found, as whole words, in the model name; null when none. */
export function lookupTdp(
  model: string,
  entries: TdpTable = tdpTable(),
): { key: string; entry: TdpEntry } | null {
  const name = ` ${normaliseCpuName(model)} `;
  let best: { key: string; entry: TdpEntry } | null = null;
  for (const [key, entry] of Object.entries(entries)) {
    const k = normaliseCpuName(key);
    if (name.includes(` ${k} `) && (!best || k.length > normaliseCpuName(best.key).length))
      best = { key, entry };
  }
  return best;
}

export interface CpuPowerModel {
  /** TDP the model uses for everything this OS can see. */
  tdpW: number;
  idleFraction: number;
  cpuModel: string;
  /** How tdpW was chosen, in words. */
  origin: string;
  /** Idle fractions of the low and high bound (default IDLE_FRACTION_RANGE, widened to idleFraction). */
  idleFractionRange?: readonly [number, number];
}

export interface CpuModelOptions {
  /** --cpu-tdp: overrides the table. */
  tdpW?: number;
  idleFraction?: number;
  cpuinfo?: CpuInfo;
}

/**
 * Chooses the TDP: --cpu-tdp, else the table (× packages; in a VM that sees fewer threads than
 * the packages have, scaled to its share of threads), else 4 W per visible thread.
 */
export function resolveCpuModel(options: CpuModelOptions = {}): CpuPowerModel {
  const info = options.cpuinfo ?? parseCpuInfo(readFileSync("/proc/cpuinfo", "utf8"));
  const idleFraction = options.idleFraction ?? DEFAULT_IDLE_FRACTION;
  if (!(idleFraction >= 0 && idleFraction <= 1))
    throw new TelemetryInputError(`idle fraction ${idleFraction} is not in [0, 1]`);
  const cpuModel = info.model || "unknown CPU";
  if (options.tdpW !== undefined) {
    if (!(options.tdpW > 0))
      throw new TelemetryInputError(`--cpu-tdp ${options.tdpW} must be a positive number of watts`);
    return {
      tdpW: options.tdpW,
      idleFraction,
      cpuModel,
      origin: `set with --cpu-tdp (${options.tdpW} W)`,
      idleFractionRange: idleRange(idleFraction),
    };
  }
  const found = lookupTdp(cpuModel);
  if (found) {
    const threads = found.entry.threads * info.packages;
    const share = Math.min(1, info.logicalCpus / threads);
    const tdpW = found.entry.tdpW * info.packages * share;
    const scaled = share < 1 ? `, scaled to the ${info.logicalCpus} of ${threads} threads visible here` : "";
    return {
      tdpW,
      idleFraction,
      cpuModel,
      origin: `table entry "${found.key}": ${found.entry.tdpW} W × ${info.packages} package(s)${scaled} (source: ${found.entry.source})`,
      idleFractionRange: idleRange(idleFraction),
    };
  }
  const threads = Math.max(1, info.logicalCpus);
  return {
    tdpW: UNKNOWN_CPU_WATTS_PER_THREAD * threads,
    idleFraction,
    cpuModel,
    origin: `fallback, not a spec sheet: "${cpuModel}" is not in the TDP table, so ${UNKNOWN_CPU_WATTS_PER_THREAD} W × ${threads} threads (CodeCarbon's DEFAULT_POWER_PER_CORE); set --cpu-tdp`,
    idleFractionRange: idleRange(idleFraction),
  };
}

/** The stated idle-fraction range, widened to include the value in use. */
export function idleRange(idleFraction: number): [number, number] {
  return [Math.min(IDLE_FRACTION_RANGE[0], idleFraction), Math.max(IDLE_FRACTION_RANGE[1], idleFraction)];
}

/** P = TDP × (f_idle + (1 − f_idle)·u). */
export function modelledCpuPowerW(model: Pick<CpuPowerModel, "tdpW" | "idleFraction">, busy: number): number {
  return model.tdpW * (model.idleFraction + (1 - model.idleFraction) * busy);
}

/**
 * Cumulative modelled energy: each interval between reads adds P(u over that interval) × Δt,
 * exactly what the model says, so the ledger treats it as an (estimated) counter.
 */
export class CpuModelSource implements TelemetrySource {
  readonly name = "cpu-model";
  readonly channels: ChannelInfo[];
  private last: { t: number; times: CpuTimes } | null = null;
  private energyJ = 0;
  private lowJ = 0;
  private highJ = 0;
  private readonly range: readonly [number, number];

  constructor(
    private readonly model: CpuPowerModel,
    private readonly procStat = "/proc/stat",
  ) {
    this.range = model.idleFractionRange ?? idleRange(model.idleFraction);
    this.channels = [
      {
        id: "cpu-model",
        component: "cpu",
        source: `CPU model (${model.cpuModel}, TDP ${model.tdpW.toFixed(1)} W)`,
        counter: "estimated",
        // /proc/stat counts in USER_HZ ticks of 10 ms.
        updatePeriodMs: 10,
        note: `P = TDP × (${model.idleFraction} + ${1 - model.idleFraction}·utilisation), range from f_idle = ${this.range[0]} to ${this.range[1]}; TDP: ${model.origin}`,
      },
    ];
  }

  read(): ChannelReading[] {
    const t = monotonicMs();
    const times = readCpuTimes(this.procStat);
    if (this.last) {
      const u = utilisation(this.last.times, times);
      if (u !== null) {
        const s = (t - this.last.t) / 1000;
        const { tdpW } = this.model;
        this.energyJ += modelledCpuPowerW(this.model, u) * s;
        this.lowJ += modelledCpuPowerW({ tdpW, idleFraction: this.range[0] }, u) * s;
        this.highJ += modelledCpuPowerW({ tdpW, idleFraction: this.range[1] }, u) * s;
      }
    }
    this.last = { t, times };
    return [
      { channel: "cpu-model", energyJ: this.energyJ, energyLowJ: this.lowJ, energyHighJ: this.highJ, t },
    ];
  }
}
