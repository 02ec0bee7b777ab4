// Shared vocabulary of halfwatt's telemetry: channels, readings, provenance.

/**
 * Where a figure came from:
 * - `counter`: the difference of a hardware energy counter (NVML total energy, RAPL energy_uj);
 * - `sampled`: a measured power reading, integrated over time (NVML power, a wall meter);
 * - `estimated`: a model (TDP × load curve, W per GB of RAM), a manual average, never a measurement.
 */
export type Provenance = "counter" | "sampled" | "estimated";

/** What a channel's energy belongs to. `system` is a wall meter: the whole machine at the plug. */
export type Component = "gpu" | "cpu" | "dram" | "system";

/** One stream of readings from one sensor (or one model). */
export interface ChannelInfo {
  /** Stable id, e.g. "nvml:0", "rapl:package-0", "cpu-model". */
  id: string;
  component: Component;
  /** Human-readable source, e.g. "NVML GPU 0 (NVIDIA H100 80GB HBM3)". */
  source: string;
  /** Provenance of the channel's power readings, if it has any. */
  power?: Provenance;
  /** Provenance of the channel's cumulative-energy readings, if it has any. */
  counter?: Provenance;
  /** How often the sensor itself updates; windows shorter than this are flagged, not reported. */
  updatePeriodMs: number;
  /** A second opinion on another channel (e.g. nvidia-smi next to NVML): left out of totals. */
  crossCheck?: boolean;
  /** Anything a reader of the figures should know (formula, constants). */
  note?: string;
}

/** One reading of one channel. Energy is cumulative joules (already unwrapped), power is watts. */
export interface ChannelReading {
  channel: string;
  powerW?: number;
  energyJ?: number;
  /**
   * Bounds of a modelled cumulative energy (`estimated` counters): the same model run with the
   * low and the high end of its stated uncertainty. The ledger turns them into a figure's range.
   */
  energyLowJ?: number;
  energyHighJ?: number;
  /** Monotonic ms when the source knows better than the sampler when the value was taken. */
  t?: number;
}

/** A reading stamped on the process-wide monotonic clock (ms, see clock.ts). */
export interface Sample extends ChannelReading {
  t: number;
}

/** A sensor or model the sampler polls. Lives in the sampler's worker thread. */
export interface TelemetrySource {
  readonly name: string;
  readonly channels: ChannelInfo[];
  /** Polls no more often than this (slow HTTP plugs); the sampler skips reads in between. */
  readonly minIntervalMs?: number;
  /**
   * Reads every channel. `counters` is false on ticks where expensive counter reads may be
   * skipped (NVML's energy read takes ~4 ms); power must still be read.
   */
  read(what: { counters: boolean }): ChannelReading[] | Promise<ChannelReading[]>;
  close?(): void | Promise<void>;
}

/** Whether a source can be used here, and if not, why not. */
export type Availability = { available: true; detail: string } | { available: false; reason: string };
