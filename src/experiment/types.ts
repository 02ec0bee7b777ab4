// The experiment suite's shared vocabulary: the validated suite specification, the run plan, what
// the results store keeps per run, and `SuiteResults`, the one object the report is built from.
// spec.ts validates files into SuiteSpec; plan.ts turns it into PlannedRuns; runner.ts executes
// them into a ResultStore (store.ts, SQLite); src/report renders SuiteResults.

import type { KernelRecord } from "../model/mlp.js";
import type { EpochResult, LossScaleSummary, SplitMetrics } from "../model/trainer.js";
import type { Component, Provenance } from "../telemetry/types.js";

export type Precision = "f32" | "mixed";

export interface OptimizerSpec {
  name: "adam" | "adamw" | "sgd";
  lr?: number;
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

/** One configuration of the experiment (a cell of the design). */
export interface RunConfiguration {
  /** Stable, readable id, e.g. "f32-b32-n1024" or "mixed-b256-n2048-e25-lr0.001-adam". */
  id: string;
  precision: Precision;
  batch: number;
  /** Hidden layer widths. */
  neurons: number[];
  epochs: number;
  optimizer: OptimizerSpec;
}

/** Where gCO2e/kWh comes from. */
export type CarbonSource =
  | { kind: "constant"; intensity: number }
  /** A zone of the shipped annual-average table (src/experiment/carbon-zones.json). */
  | { kind: "zone"; zone: string }
  /** A `timestamp,gco2_per_kwh` series (e.g. an Electricity Maps export). */
  | { kind: "csv"; file: string };

export interface CarbonSpec {
  source: CarbonSource;
  /** Power usage effectiveness of the facility (≥ 1; default 1.0). */
  pue: number;
}

export interface SuiteSpec {
  name: string;
  /** Image folder or synthetic spec, as src/data's loadDataset takes. */
  data: string;
  imageSize?: number;
  replicates: number;
  /** Master seed: the plan derives each run's seed from it (recorded per run). */
  seed: number;
  configurations: RunConfiguration[];
  /** Idle window before each run, seconds (default 30 on a GPU, 3 on a CPU adapter: null = auto). */
  baselineSeconds: number | null;
  cooldown: {
    /** Wait until the GPU is within this many °C of its pre-suite idle temperature... */
    withinCelsius: number;
    /** ...or at most this long (seconds); 0 disables the cooldown. */
    maxSeconds: number;
  };
  carbon: CarbonSpec;
  telemetry: { hz: number };
  /**
   * The validation accuracy (fraction) whose first reaching ends "time/energy to accuracy";
   * absent: the report's default (90 % of the f32 runs' mean final validation accuracy).
   */
  accuracyTarget?: number;
  /** TOST margin on test accuracy, mixed − f32 twin, as a fraction (0.01 = ±1 point); absent: 0.01. */
  equivalenceMargin?: number;
  /** Where the spec came from: a preset name or a file path. */
  origin: string;
}

export interface PlannedRun {
  /** Position in the executed order, from 0. */
  index: number;
  /** Block number: every configuration once per block, in a seeded random order. */
  block: number;
  configId: string;
  /** 1-based replicate number of this configuration. */
  replicate: number;
  seed: number;
}

export type RunStatus = "pending" | "running" | "completed" | "interrupted" | "failed";

/** A phase of a run as the sampler marked it; times in ms from the run's start. */
export interface PhaseRecord {
  name: string;
  startMs: number;
  endMs: number;
}

/** Energy of one phase: per component total (channel null) and per channel. */
export interface EnergyRecord {
  phase: string;
  component: Component;
  /** Channel id ("nvml:0", "cpu-model", …), or null for the component's total. */
  channel: string | null;
  source: string;
  provenance: Provenance;
  grossJ: number | null;
  /** Gross minus the idle baseline's mean power × duration; null without a baseline. */
  netJ: number | null;
  seconds: number;
  meanPowerW: number | null;
  flag?: string;
  /**
   * Bounds of grossJ and netJ from the models' stated uncertainty (estimated figures) or the
   * counter/integral disagreement (measured ones); absent in stores written before they existed.
   */
  grossLowJ?: number | null;
  grossHighJ?: number | null;
  netLowJ?: number | null;
  netHighJ?: number | null;
  /**
   * Apportioned among the runs in flight on the host (CPU, RAM, wall meter when runs overlapped:
   * src/experiment/shared-energy.ts); provenance is then `estimated` and the store writes
   * `estimated, shared`.
   */
  shared?: boolean;
}

/** One raw telemetry reading; t in ms from the run's start. */
export interface SampleRecord {
  t: number;
  channel: string;
  powerW?: number;
  energyJ?: number;
}

export interface RunEnvironment {
  adapter: string;
  driver: string | null;
  hostname: string;
  /** node, halfwatt, webgpu, … */
  versions: Record<string, string>;
  /**
   * The GPU the run ran on, where known: its NVML index, PCI bus id (as NVML prints it), UUID and
   * name. Written by suites on several GPUs / Slurm tasks; older stores lack it (one GPU, index 0).
   */
  gpu?: RunGpu | null;
  /** The worker process (0-based) that ran it, when a suite ran several at once. */
  worker?: number;
  /** Whether other runs of the suite were in flight on this host during this run. */
  overlapped?: boolean;
}

export interface RunGpu {
  index: number;
  pciBusId: string | null;
  uuid: string | null;
  name: string | null;
}

export interface RunRecord extends PlannedRun {
  id: number;
  config: RunConfiguration;
  status: RunStatus;
  env: RunEnvironment | null;
  startedAt: string | null;
  endedAt: string | null;
  /** Training wall time (the trainer's), seconds. */
  seconds: number | null;
  error: string | null;
  epochs: EpochResult[];
  test: SplitMetrics | null;
  lossScale: LossScaleSummary | null;
  kernels: KernelRecord[];
  phases: PhaseRecord[];
  energy: EnergyRecord[];
  /** gCO2e/kWh applied to this run, and what it came from (constant, zone + year, CSV mean). */
  carbon: { intensity: number; pue: number; source: string } | null;
  /** GPU temperature (°C) before the baseline, where NVML reports it. */
  gpuTempC: number | null;
  /**
   * Why the divergence rule (divergence.ts) stopped this run (status `completed`: it is not redone
   * on resume); absent for a run that trained. Left out of the report's statistics.
   */
  diverged?: string;
  /** How the run's phases were kept clean (absent in stores written before migration 6). */
  measurement?: RunMeasurement | null;
}

/**
 * What measureRun did to keep a run's phases clean (issue 18 §1), stored with the run: the power
 * state before its baseline, the baseline's watts, the dataset upload, the warm-up, the planned
 * length and the epoch check.
 */
export interface RunMeasurement {
  /** Mean gross power over the idle baseline, per measured component, W. */
  baselineW: Partial<Record<Component, number>>;
  /** The settle wait before the baseline; null where no GPU power could be read (no NVML). */
  settle: {
    settled: boolean;
    timedOut: boolean;
    seconds: number;
    spreadW: number | null;
    slopeWPerS: number | null;
  } | null;
  /** Who uploaded the dataset: this run (in its setup), an earlier run, or per run (streamed). */
  upload: { paidBy: "this-run" | "earlier-run" | "per-run"; seconds: number; bytes: number };
  /** The warm-up, in setup: a throwaway model's uncounted steps (src/model/warmup.ts). */
  warmup: { steps: number; seconds: number; secondsPerStep: number };
  /** The clock ramp right before the train mark, in setup (clock-ramp.ts); absent in older stores. */
  ramp?: { seconds: number; dispatches: number };
  /** The clock ramp before the warm-up's timed steps, in setup; absent in older stores. */
  warmupRamp?: { seconds: number; dispatches: number };
  /** Estimated train-phase seconds (warm-up s per step × the run's steps). */
  plannedTrainSeconds: number;
  /** That estimate against the measured train phase (phase-checks.ts); absent in older stores. */
  planCheck?: { plannedS: number; trainS: number; ratio: number; ok: boolean } | null;
  /** Epoch 1 vs the median epoch (src/experiment/phase-checks.ts). */
  epochCheck: { firstS: number; medianS: number; deviation: number; ok: boolean } | null;
}

export interface SuiteRecord {
  id: number;
  name: string;
  spec: SuiteSpec;
  createdAt: string;
  /** The plan, in executed order. */
  plan: PlannedRun[];
  /** Telemetry warnings and notes collected while running (unavailable sources, flags). */
  notes: string[];
  /** GPU temperature at the pre-suite idle, °C, if known. */
  idleTempC: number | null;
}

/** Everything the report needs, from the store (samples are loaded per run on demand). */
export interface SuiteResults {
  suite: SuiteRecord;
  runs: RunRecord[];
  /** Raw samples of a run, for the power timeline. */
  samples(runId: number): SampleRecord[];
}

/** What a completed run adds to its record (ResultStore.finishRun). */
export interface FinishedRun {
  seconds: number;
  test: SplitMetrics | null;
  lossScale: LossScaleSummary | null;
  kernels: KernelRecord[];
  phases: PhaseRecord[];
  energy: EnergyRecord[];
  /** null: the carbon CSV series ended during the run (its energy stands; no intensity for it). */
  carbon: { intensity: number; pue: number; source: string } | null;
  /** The run was stopped by the divergence rule (divergence.ts): why. Absent for a run that trained. */
  diverged?: string;
}

/**
 * The results store as the runner uses it (store.ts implements it on SQLite). Every write is
 * committed at once, so a crash loses at most the run in progress.
 */
export interface ResultStore {
  /** Creates the suite, or returns the existing one of that name (resume) after checking the spec matches. */
  openSuite(spec: SuiteSpec, plan: PlannedRun[]): SuiteRecord;
  /** Plan indices already completed in this suite. */
  completedIndices(suiteId: number): Set<number>;
  /** Marks runs left `running` by a crashed process as `interrupted`. */
  recoverInterrupted(suiteId: number): number;
  startRun(
    suiteId: number,
    run: PlannedRun,
    config: RunConfiguration,
    env: RunEnvironment,
    gpuTempC: number | null,
  ): number;
  addEpoch(runId: number, epoch: EpochResult): void;
  addSamples(runId: number, samples: readonly SampleRecord[]): void;
  finishRun(runId: number, result: FinishedRun): void;
  failRun(runId: number, status: "interrupted" | "failed", error: string): void;
  /** Records how the run's phases were kept clean (RunMeasurement), and its GPU baseline watts. */
  setRunMeasurement(runId: number, m: RunMeasurement): void;
  addSuiteNote(suiteId: number, note: string): void;
  setIdleTemp(suiteId: number, celsius: number): void;
  results(suiteId: number): SuiteResults;
  /** The suite ids and names in the store. */
  suites(): { id: number; name: string }[];
  close(): void;
}
