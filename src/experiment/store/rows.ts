// Row mapping: the store's rows (column names as in migrations.ts) to and from the records of
// types.ts. SQLite cannot store NaN (it binds as NULL), so a NULL in a column the types call
// `number` reads back as NaN.
import type { KernelRecord } from "../../model/mlp.js";
import type { EpochResult, LossScaleSummary, SplitMetrics } from "../../model/trainer.js";
import type { Component, Provenance } from "../../telemetry/types.js";
import type {
  EnergyRecord,
  PlannedRun,
  RunConfiguration,
  RunEnvironment,
  RunMeasurement,
  RunRecord,
  RunStatus,
  SuiteRecord,
  SuiteSpec,
} from "../types.js";

export type Row = Record<string, unknown>;

import { SHARED_PROVENANCE } from "../provenance.js";

/** The provenance label of an apportioned figure: one constant (provenance.ts), re-exported here. */
export { SHARED_PROVENANCE };

/** NULL (SQLite's NaN) back to NaN, for columns the types call `number`. */
export const num = (v: unknown): number => (v === null || v === undefined ? Number.NaN : (v as number));
export const numOrNull = (v: unknown): number | null =>
  v === null || v === undefined ? null : (v as number);
export const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
export const json = <T>(v: unknown): T => JSON.parse(v as string) as T;
export const jsonOrNull = <T>(v: unknown): T | null => (v === null || v === undefined ? null : json<T>(v));
/** A time as the store writes it: ISO 8601, UTC. */
export const now = () => new Date().toISOString();

/** `INSERT INTO table (columns…) VALUES (?, …)`: the columns named, one placeholder each. */
export function insertSql(table: string, columns: readonly string[]): string {
  return `INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`;
}

/** The five columns of a split's metrics (`<prefix>_loss` …), in splitValues' order. */
export const splitColumnNames = (prefix: string) =>
  ["loss", "accuracy", "top5", "samples", "non_finite_rows"].map((c) => `${prefix}_${c}`);

/** A split's metrics as its five column values (all NULL for a split the run lacks). */
export const splitValues = (m: SplitMetrics | null) =>
  m ? [m.loss, m.accuracy, m.top5, m.samples, m.nonFiniteRows] : [null, null, null, null, null];

export function splitOf(r: Row, prefix: string): SplitMetrics {
  return {
    loss: num(r[`${prefix}_loss`]),
    accuracy: num(r[`${prefix}_accuracy`]),
    top5: num(r[`${prefix}_top5`]),
    samples: num(r[`${prefix}_samples`]),
    nonFiniteRows: num(r[`${prefix}_non_finite_rows`]),
  };
}

/** The epochs table's columns, in epochValues' order. */
export const EPOCH_COLUMNS = [
  "run_id",
  "epoch",
  ...splitColumnNames("train"),
  ...splitColumnNames("valid"),
  "seconds",
  "samples_per_second",
  "steps",
  "skipped_steps",
] as const;

export const epochValues = (runId: number, e: EpochResult) => [
  runId,
  e.epoch,
  ...splitValues(e.train),
  ...splitValues(e.valid),
  e.seconds,
  e.samplesPerSecond,
  e.steps,
  e.skippedSteps,
];

/** The energy table's columns (but its id), in energyValues' order. */
export const ENERGY_COLUMNS = [
  "run_id",
  "phase",
  "component",
  "channel",
  "source",
  "provenance",
  "gross_j",
  "net_j",
  "seconds",
  "mean_power_w",
  "flag",
  "gross_low_j",
  "gross_high_j",
  "net_low_j",
  "net_high_j",
] as const;

export const energyValues = (runId: number, e: EnergyRecord) => [
  runId,
  e.phase,
  e.component,
  e.channel,
  e.source,
  e.shared ? SHARED_PROVENANCE : e.provenance,
  e.grossJ,
  e.netJ,
  e.seconds,
  e.meanPowerW,
  e.flag ?? null,
  e.grossLowJ ?? null,
  e.grossHighJ ?? null,
  e.netLowJ ?? null,
  e.netHighJ ?? null,
];

export function suiteRecord(row: Row): SuiteRecord {
  return {
    id: row.id as number,
    name: row.name as string,
    spec: json<SuiteSpec>(row.spec),
    createdAt: row.created_at as string,
    plan: json<PlannedRun[]>(row.plan),
    notes: json<string[]>(row.notes),
    idleTempC: numOrNull(row.idle_temp_c),
  };
}

/** A run's row and its children's rows (epochs by epoch, phases and energy by id) as its record. */
export function runRecord(r: Row, epochs: Row[], phases: Row[], energy: Row[]): RunRecord {
  const carbonSource = strOrNull(r.carbon_source);
  return {
    id: r.id as number,
    index: r.plan_index as number,
    block: r.block as number,
    configId: r.config_id as string,
    replicate: r.replicate as number,
    seed: r.seed as number,
    config: json<RunConfiguration>(r.config),
    status: r.status as RunStatus,
    env: jsonOrNull<RunEnvironment>(r.env),
    startedAt: strOrNull(r.started_at),
    endedAt: strOrNull(r.ended_at),
    seconds: numOrNull(r.seconds),
    error: strOrNull(r.error),
    epochs: epochs.map((e) => ({
      epoch: e.epoch as number,
      train: splitOf(e, "train"),
      valid: splitOf(e, "valid"),
      seconds: num(e.seconds),
      samplesPerSecond: num(e.samples_per_second),
      steps: e.steps as number,
      skippedSteps: e.skipped_steps as number,
    })),
    test: r.test_samples === null ? null : splitOf(r, "test"),
    lossScale: jsonOrNull<LossScaleSummary>(r.loss_scale),
    kernels: json<KernelRecord[]>(r.kernels),
    phases: phases.map((p) => ({ name: p.name as string, startMs: num(p.start_ms), endMs: num(p.end_ms) })),
    energy: energy.map((e) => ({
      phase: e.phase as string,
      component: e.component as Component,
      channel: strOrNull(e.channel),
      source: e.source as string,
      // "estimated, shared": an apportioned figure (SHARED_PROVENANCE); its strength is an estimate's.
      provenance: (e.provenance === SHARED_PROVENANCE ? "estimated" : e.provenance) as Provenance,
      ...(e.provenance === SHARED_PROVENANCE ? { shared: true } : {}),
      grossJ: numOrNull(e.gross_j),
      netJ: numOrNull(e.net_j),
      seconds: num(e.seconds),
      meanPowerW: numOrNull(e.mean_power_w),
      ...(e.flag === null ? {} : { flag: e.flag as string }),
      ...(e.gross_low_j == null && e.gross_high_j == null && e.net_low_j == null && e.net_high_j == null
        ? {}
        : {
            grossLowJ: numOrNull(e.gross_low_j),
            grossHighJ: numOrNull(e.gross_high_j),
            netLowJ: numOrNull(e.net_low_j),
            netHighJ: numOrNull(e.net_high_j),
          }),
    })),
    carbon:
      carbonSource === null
        ? null
        : { intensity: num(r.carbon_intensity), pue: num(r.carbon_pue), source: carbonSource },
    gpuTempC: numOrNull(r.gpu_temp_c),
    // Divergence (issue 17, migration "runs.diverged").
    ...(r.diverged == null ? {} : { diverged: r.diverged as string }),
    // Only where recorded (migration 6), so records of older runs read as they always did.
    ...(r.measurement == null ? {} : { measurement: json<RunMeasurement>(r.measurement) }),
  };
}
