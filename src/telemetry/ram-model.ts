// Modelled RAM power: a constant per GB of installed memory. The default 3/8 W per GB is the
// "3 W per 8 GB" ratio CodeCarbon used before v3 (citing Crucial's "How much power does memory
// use?" FAQ); Green Algorithms uses 0.3725 W/GB (Lannelongue et al. 2021). Memory power in fact
// tracks DIMM count and activity more than capacity, so the figure is labelled `estimated`.
import { readFileSync } from "node:fs";
import { monotonicMs } from "./clock.js";
import { TelemetryInputError } from "./errors.js";
import { parseMemTotalBytes } from "./proc.js";
import type { ChannelInfo, ChannelReading, TelemetrySource } from "./types.js";

export const DEFAULT_RAM_WATTS_PER_GB = 3 / 8;

export interface RamPowerModel {
  gigabytes: number;
  wattsPerGb: number;
  powerW: number;
}

export function resolveRamModel(options: { wattsPerGb?: number; meminfo?: string } = {}): RamPowerModel {
  const wattsPerGb = options.wattsPerGb ?? DEFAULT_RAM_WATTS_PER_GB;
  if (!(wattsPerGb >= 0)) throw new TelemetryInputError(`RAM W/GB ${wattsPerGb} must be >= 0`);
  const bytes = parseMemTotalBytes(options.meminfo ?? readFileSync("/proc/meminfo", "utf8"));
  const gigabytes = bytes / 2 ** 30;
  return { gigabytes, wattsPerGb, powerW: gigabytes * wattsPerGb };
}

/** Energy = P × time since the source started: an (estimated) counter. */
export class RamModelSource implements TelemetrySource {
  readonly name = "ram-model";
  readonly channels: ChannelInfo[];
  private t0: number | null = null;

  constructor(private readonly model: RamPowerModel) {
    this.channels = [
      {
        id: "ram-model",
        component: "dram",
        source: `RAM model (${model.gigabytes.toFixed(1)} GiB × ${model.wattsPerGb} W/GB = ${model.powerW.toFixed(2)} W)`,
        counter: "estimated",
        updatePeriodMs: 0,
        note: "constant power per GB of MemTotal",
      },
    ];
  }

  read(): ChannelReading[] {
    const t = monotonicMs();
    this.t0 ??= t;
    return [{ channel: "ram-model", energyJ: (this.model.powerW * (t - this.t0)) / 1000, t }];
  }
}
