// ReportData: the plain numbers the report shows, so that tests (and scripts, via --json) can
// compare them with the store. Energies are kJ, powers W, times s; null where a figure does not
// exist (one replicate has no CI, a test that is undefined for these data), never NaN.
import type { Precision, RunConfiguration, RunStatus } from "../experiment/types.js";
import type { BlockedAnovaTable } from "../stats/index.js";
import type { Component, Provenance } from "../telemetry/types.js";
import type { StepKernels } from "./step-kernels.js";

/** What the statistics compare: the per-run sum of these components' energy. */
export interface EnergyMetric {
  /** "measured": components measured (counter/sampled) in every completed run; "total": all, estimates included. */
  kind: "measured" | "total";
  components: Component[];
  /** "net" = gross − idle baseline; "gross" when some run has no baseline. */
  basis: "net" | "gross";
  /** The weakest provenance of what was summed, over every run. */
  provenance: Provenance;
  label: string;
}

export interface ComponentEnergy {
  /** kJ over the energy phases, on the report's basis (net or gross). */
  kJ: number;
  grossKJ: number;
  /** Gross energy / duration of the energy phases. */
  meanPowerW: number;
  provenance: Provenance;
  /** Bounds of kJ from the models' stated uncertainty (= kJ where the store holds none). */
  lowKJ: number;
  highKJ: number;
  /** Apportioned among runs in flight on the host at once ("estimated, shared"); CPU, RAM, wall meter. */
  shared: boolean;
}

export interface RunEnergy {
  runId: number;
  configId: string;
  replicate: number;
  /** The device the run ran on, "host · GPU i" (deviceBlock): the blocking factor of the statistics. */
  block: string;
  /** Other runs of the suite were in flight on the host during this one (shared CPU/RAM energy). */
  overlapped: boolean;
  /** Duration of the energy phases (train + test), s. */
  seconds: number;
  /** The trainer's wall time, s. */
  trainSeconds: number | null;
  components: Partial<Record<Component, ComponentEnergy>>;
  /** Σ of the gpu/cpu/dram components that are not estimated; null if every one is estimated. */
  measuredKJ: number | null;
  measuredProvenance: Provenance | null;
  /** Σ of every gpu/cpu/dram component, estimates included, and the sums of their bounds. */
  totalKJ: number;
  totalLowKJ: number;
  totalHighKJ: number;
  totalProvenance: Provenance;
  /** The value the statistics use (see EnergyMetric). */
  metricKJ: number;
  /** Gross counterpart of metricKJ, and its mean power over the energy phases. */
  metricGrossKJ: number;
  metricMeanPowerW: number;
  /** The train phase's energy under the metric (its components and basis), kJ, and its provenance. */
  trainKJ: number;
  trainProvenance: Provenance | null;
  /** Training samples processed (Σ epochs' train samples) and epochs run. */
  trainSamples: number;
  epochCount: number;
}

/** Mean over replicates with its 95 % t interval (null with one replicate). */
export interface MeanCi {
  n: number;
  mean: number;
  sd: number | null;
  ci95: [number, number] | null;
  provenance: Provenance | null;
}

export interface ConfigurationSummary {
  id: string;
  config: RunConfiguration;
  precision: Precision;
  completed: number;
  runIds: number[];
  /** The run whose metric energy is the median (the lower middle one for even n). */
  representativeRunId: number | null;
  /** kJ per run, by component, measured-only total, total with estimates and the metric. */
  energy: Partial<Record<Component | "measured" | "total" | "metric", MeanCi>>;
  /** Mean gross power over the energy phases, W, by component and for the metric's components. */
  meanPowerW: Partial<Record<Component | "metric", number>>;
  meanSeconds: number;
  /** Seconds of training until valid accuracy first reached the suite's target; null if never. */
  timeToAccuracy: { reached: number; meanSeconds: number | null; perRun: (number | null)[] };
  bestValidAccuracy: number | null;
  meanTestAccuracy: number | null;
  /** Test accuracy (fraction) over the runs with one, mean and 95 % t interval; null without any. */
  testAccuracy: MeanCi | null;
  /**
   * The train phase's energy under the metric per training sample (J) and per epoch (kJ), mean and
   * 95 % t interval over runs, provenance the weakest of the summed train figures; null without runs.
   */
  perSampleJ: MeanCi | null;
  perEpochKJ: MeanCi | null;
  /**
   * Train energy (kJ) up to and including the first epoch reaching the accuracy target, apportioned
   * by epoch time; over the runs that reached it (`kJ` null if none), `notReached` counts the others.
   */
  energyToAccuracy: { reached: number; notReached: number; kJ: MeanCi | null; perRun: (number | null)[] };
}

/** Does mixed precision keep the accuracy? One mixed configuration against its f32 twin. */
export interface EquivalenceRow {
  mixed: string;
  /** The f32 configuration of the same batch, widths, epochs and optimizer; null if none. */
  f32: string | null;
  nMixed: number;
  nF32: number;
  /** Mean test accuracy, mixed − f32 (fraction); null without both. */
  difference: number | null;
  /** Welch 95 % interval of the difference, and the TOST's 90 % one (1 − 2α). */
  ci95: [number, number] | null;
  ci90: [number, number] | null;
  /** The one-sided p-values (H0 d ≤ −margin, H0 d ≥ +margin) and the TOST p (their maximum). */
  pLower: number | null;
  pUpper: number | null;
  p: number | null;
  /** p < α: equivalent within ±margin; null where the test could not be made (see note). */
  equivalent: boolean | null;
  note?: string;
}

export interface AccuracyEquivalence {
  /** ± margin on test accuracy (fraction; 0.01 = 1 percentage point), and where it came from. */
  margin: number;
  marginSource: "suite spec" | "default";
  alpha: number;
  rows: EquivalenceRow[];
}

/** The dissertation's four steps, from mean watts × hours, and from the measured energy. */
export interface CarbonRow {
  configId: string;
  watts: number;
  kW: number;
  hours: number;
  kWh: number;
  intensity: number | null;
  pue: number | null;
  /** kWh × PUE × intensity (gCO2e; the dissertation labels it gCO2e/kWh). */
  gCO2e: number | null;
  measuredGrossKWh: number;
  measuredGrossGCO2e: number | null;
  measuredNetKWh: number;
  measuredNetGCO2e: number | null;
  source: string | null;
}

export interface TestOutcome<T> {
  /** The result, or null with `note` saying why the test does not apply to these data. */
  result: T | null;
  note?: string;
}

export interface PairComparison {
  a: string;
  b: string;
  /** mean(a) − mean(b), kJ. */
  difference: number;
  /** (mean(a) − mean(b)) / mean(b). */
  relative: number;
  t: number | null;
  df: number | null;
  p: number | null;
  pHolm: number | null;
  cohensD: number | null;
  hedgesG: number | null;
  note?: string;
}

export interface ReportStatistics {
  metric: EnergyMetric;
  /** Configurations with at least 2 completed runs take part in the group tests. */
  groups: string[];
  shapiro: { configId: string; n: number; w: number | null; p: number | null; note?: string }[];
  levene: TestOutcome<{ f: number; p: number }>;
  brownForsythe: TestOutcome<{ f: number; p: number }>;
  anova: TestOutcome<{
    f: number;
    p: number;
    dfBetween: number;
    dfWithin: number;
    ssBetween: number;
    ssWithin: number;
    etaSquared: number;
    omegaSquared: number;
  }>;
  welch: TestOutcome<{ f: number; df1: number; df2: number; p: number }>;
  pairwise: PairComparison[];
  tukey: TestOutcome<{ a: string; b: string; difference: number; p: number; ci: [number, number] }[]>;
  /** Replicates per configuration for 80 % power to detect a 5 % difference (two-sided α 0.05). */
  power: TestOutcome<{ pooledSd: number; delta: number; effect: number; n: number }>;
  /**
   * The randomised complete block design's ANOVA, y ~ configuration + device block (no
   * interaction, type II sums of squares), on the same runs as the one-way ANOVA; null when every
   * run ran on one device (nothing to block on).
   */
  blocked: TestOutcome<BlockedAnovaSummary> | null;
}

/**
 * The blocked ANOVA as the report keeps it: the stats table (src/stats/blocked-anova.ts) with its
 * treatment named for what it is here, a configuration, and without the per-cell counts.
 */
export type BlockedAnovaSummary = Pick<
  BlockedAnovaTable,
  "block" | "residual" | "total" | "partialEtaSquared" | "relativeEfficiency" | "balanced" | "note" | "blocks"
> & { configuration: BlockedAnovaTable["treatment"] };

/** One device block: the runs it holds and its GPU's idle power. */
export interface DeviceBlockSummary {
  label: string;
  /** Completed runs in this block per configuration id (0 where a configuration never ran here). */
  runs: Record<string, number>;
  /** Runs here that overlapped with other runs on the host. */
  overlapped: number;
  /** Mean gross GPU power over the idle-baseline phase of this block's runs, W; null without baselines. */
  idleGpuW: { n: number; mean: number; sd: number | null } | null;
}

export interface ExcludedRun {
  runId: number;
  configId: string;
  replicate: number;
  /** `diverged`: completed, but stopped by the divergence rule (error holds why). */
  status: RunStatus | "diverged";
  error: string | null;
  /** The run that redid this plan slot to completion (an interrupted attempt resumed), or null. */
  redoneBy: number | null;
}

export interface ReportData {
  suite: { id: number; name: string; origin: string; createdAt: string; generatedAt: string };
  planned: number;
  completed: number;
  finished: boolean;
  environment: {
    adapters: string[];
    drivers: string[];
    hosts: string[];
    versions: Record<string, string[]>;
    sources: { component: Component; source: string; channel: string | null; provenance: Provenance }[];
    notes: string[];
  };
  energyPhases: string[];
  metric: EnergyMetric | null;
  runs: RunEnergy[];
  configurations: ConfigurationSummary[];
  /** The device blocks of the completed runs, in order of first appearance (one entry on one GPU). */
  blocks: DeviceBlockSummary[];
  accuracyTarget: number | null;
  /** How the target was set: the suite spec's accuracyTarget, or the default rule (data.ts). */
  accuracyTargetSource: string | null;
  /** Mixed configurations against their f32 twins on test accuracy (TOST); null without runs. */
  equivalence: AccuracyEquivalence | null;
  /** What each configuration's step ran, and where a mixed configuration's twin ran another step. */
  stepKernels: StepKernels;
  carbon: CarbonRow[];
  statistics: ReportStatistics | null;
  conclusion: string[];
  caveats: string[];
  excluded: ExcludedRun[];
}
