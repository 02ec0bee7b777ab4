// From SuiteResults to ReportData: per-run energy, per-configuration means and intervals, time to
// accuracy, the carbon table, the statistics, and the conclusion with its caveats.
import type { RunRecord, SuiteResults } from "../experiment/types.js";
import { mean } from "../stats/index.js";
import type { Component } from "../telemetry/types.js";
import { carbonRows } from "./carbon.js";
import { conclude } from "./conclusion.js";
import {
  ALL_COMPONENTS,
  chooseMetric,
  ENERGY_PHASES,
  energyToAccuracy,
  idleGpuPowerW,
  runEnergy,
  weakest,
} from "./energy.js";
import { accuracyEquivalence, DEFAULT_EQUIVALENCE_MARGIN, energyStatistics, meanCi } from "./statistics.js";
import { stepKernels } from "./step-kernels.js";
import type { ConfigurationSummary, DeviceBlockSummary, ReportData, RunEnergy } from "./types.js";

/**
 * The default accuracy target (the suite spec's accuracyTarget overrides it): this fraction of
 * the f32 runs' mean final validation accuracy — what full precision reaches, the reference the
 * question "does mixed precision train as well, for less?" is asked against, and a mean so that
 * one lucky run does not move it (of every run when there is no f32 configuration).
 */
export const ACCURACY_FRACTION = 0.9;

const finalValidAccuracy = (r: RunRecord) => r.epochs.at(-1)?.valid.accuracy ?? Number.NaN;

/** The accuracy target and how it was set; null target without any finite validation accuracy. */
export function accuracyTarget(
  results: SuiteResults,
  completed: RunRecord[],
): { target: number | null; source: string | null } {
  const given = results.suite.spec.accuracyTarget;
  if (given !== undefined) return { target: given, source: "the suite spec's accuracyTarget" };
  const from = (runs: RunRecord[]) => runs.map(finalValidAccuracy).filter(Number.isFinite);
  const f32 = from(completed.filter((r) => r.config.precision === "f32"));
  const finals = f32.length ? f32 : from(completed);
  if (!finals.length) return { target: null, source: null };
  return {
    target: ACCURACY_FRACTION * mean(finals),
    source: `${ACCURACY_FRACTION * 100} % of the ${f32.length ? "f32 runs'" : "runs'"} mean final validation accuracy`,
  };
}

/** The runs' finite test accuracies (fractions). */
const testAccuracies = (runs: RunRecord[]) =>
  runs.flatMap((r) => (r.test && Number.isFinite(r.test.accuracy) ? [r.test.accuracy] : []));

const unique = (xs: (string | null | undefined)[]) =>
  [...new Set(xs.filter((x): x is string => typeof x === "string" && x !== ""))].sort();

/** Seconds of training (Σ epoch seconds) until valid accuracy first reaches `target`; null if never. */
export function timeToAccuracy(run: RunRecord, target: number): number | null {
  let t = 0;
  for (const e of run.epochs) {
    t += e.seconds;
    if (e.valid.accuracy >= target) return t;
  }
  return null;
}

function summarizeConfiguration(
  id: string,
  runs: RunRecord[],
  energy: RunEnergy[],
  target: number | null,
): ConfigurationSummary {
  const config = runs[0].config;
  const out: ConfigurationSummary = {
    id,
    config,
    precision: config.precision,
    completed: runs.length,
    runIds: runs.map((r) => r.id),
    representativeRunId: null,
    energy: {},
    meanPowerW: {},
    meanSeconds: energy.length ? mean(energy.map((e) => e.seconds)) : 0,
    timeToAccuracy: { reached: 0, meanSeconds: null, perRun: [] },
    bestValidAccuracy: null,
    meanTestAccuracy: null,
    testAccuracy: null,
    perSampleJ: null,
    perEpochKJ: null,
    energyToAccuracy: { reached: 0, notReached: 0, kJ: null, perRun: [] },
  };
  if (!energy.length) return out;
  // The representative run: the median metric energy (lower middle for even n; ties by run id).
  const sorted = [...energy].sort((a, b) => a.metricKJ - b.metricKJ || a.runId - b.runId);
  out.representativeRunId = sorted[Math.floor((sorted.length - 1) / 2)].runId;
  for (const c of ALL_COMPONENTS) {
    const figures = energy.flatMap((e) => (e.components[c] ? [e.components[c]] : []));
    // A component missing from some runs would compare unlike sums: shown only where every run has it.
    if (figures.length !== energy.length) continue;
    out.energy[c] = meanCi(
      figures.map((f) => f.kJ),
      weakest(figures.map((f) => f.provenance)),
    );
    out.meanPowerW[c] = mean(figures.map((f) => f.meanPowerW));
  }
  const measured = energy.flatMap((e) => (e.measuredKJ === null ? [] : [e]));
  if (measured.length === energy.length)
    out.energy.measured = meanCi(
      measured.map((e) => e.measuredKJ as number),
      weakest(measured.flatMap((e) => (e.measuredProvenance ? [e.measuredProvenance] : []))),
    );
  out.energy.total = meanCi(
    energy.map((e) => e.totalKJ),
    weakest(energy.map((e) => e.totalProvenance)),
  );
  out.energy.metric = meanCi(energy.map((e) => e.metricKJ));
  out.meanPowerW.metric = mean(energy.map((e) => e.metricMeanPowerW));
  // A diverged run's metrics can be NaN (the store reads NULL as NaN): left out, not averaged.
  const best = runs.flatMap((r) => r.epochs.map((e) => e.valid.accuracy)).filter(Number.isFinite);
  out.bestValidAccuracy = best.length ? Math.max(...best) : null;
  const tests = testAccuracies(runs);
  out.meanTestAccuracy = tests.length ? mean(tests) : null;
  out.testAccuracy = tests.length ? meanCi(tests) : null;
  trainEnergySummary(out, runs, energy, target);
  if (target !== null) {
    const perRun = runs.map((r) => timeToAccuracy(r, target));
    const reached = perRun.filter((t): t is number => t !== null);
    out.timeToAccuracy = {
      reached: reached.length,
      meanSeconds: reached.length ? mean(reached) : null,
      perRun,
    };
  }
  return out;
}

/**
 * Energy per sample (J), per epoch (kJ) and to the accuracy target (kJ) of one configuration, from
 * the train phase's energy under the metric (RunEnergy.trainKJ); provenance: the weakest of it.
 */
function trainEnergySummary(
  out: ConfigurationSummary,
  runs: RunRecord[],
  energy: RunEnergy[],
  target: number | null,
): void {
  const provenance = weakest(energy.flatMap((e) => (e.trainProvenance ? [e.trainProvenance] : [])));
  const withSamples = energy.filter((e) => e.trainSamples > 0);
  if (withSamples.length === energy.length)
    out.perSampleJ = meanCi(
      energy.map((e) => (e.trainKJ * 1000) / e.trainSamples),
      provenance,
    );
  if (energy.every((e) => e.epochCount > 0))
    out.perEpochKJ = meanCi(
      energy.map((e) => e.trainKJ / e.epochCount),
      provenance,
    );
  if (target === null) return;
  const byId = new Map(energy.map((e) => [e.runId, e]));
  const perRun = runs.map((r) => {
    const e = byId.get(r.id);
    return e ? energyToAccuracy(r, e.trainKJ, target) : null;
  });
  const reached = perRun.filter((x): x is number => x !== null);
  out.energyToAccuracy = {
    reached: reached.length,
    notReached: perRun.length - reached.length,
    kJ: reached.length ? meanCi(reached, provenance) : null,
    perRun,
  };
}

/**
 * The device blocks of the completed runs (first appearance order): which configurations ran on
 * each device, how many overlapped with other runs, and the device's mean idle GPU power.
 */
export function deviceBlocks(
  completed: RunRecord[],
  runs: RunEnergy[],
  configurationIds: string[],
): DeviceBlockSummary[] {
  const byRun = new Map(completed.map((r) => [r.id, r]));
  const labels = [...new Set(runs.map((r) => r.block))];
  return labels.map((label) => {
    const here = runs.filter((r) => r.block === label);
    const idle = here.flatMap((r) => {
      const run = byRun.get(r.runId);
      const w = run ? idleGpuPowerW(run) : null;
      return w === null ? [] : [w];
    });
    const ci = idle.length ? meanCi(idle) : null;
    return {
      label,
      runs: Object.fromEntries(
        configurationIds.map((id) => [id, here.filter((r) => r.configId === id).length]),
      ),
      overlapped: here.filter((r) => r.overlapped).length,
      idleGpuW: ci ? { n: ci.n, mean: ci.mean, sd: ci.sd } : null,
    };
  });
}

/** The configurations in the order the suite specifies them, then any others in run order. */
function configurationOrder(results: SuiteResults): string[] {
  const ids = results.suite.spec.configurations.map((c) => c.id);
  for (const r of results.runs) if (!ids.includes(r.configId)) ids.push(r.configId);
  return ids;
}

export function collectReportData(results: SuiteResults, generatedAt: Date): ReportData {
  const { suite } = results;
  // A diverged run (divergence.ts) ran its course but did not train: it is listed, never compared.
  const completed = results.runs.filter((r) => r.status === "completed" && r.diverged === undefined);
  const metric = chooseMetric(completed);
  const runs = metric ? completed.map((r) => runEnergy(r, metric)) : [];
  const { target, source: accuracyTargetSource } = accuracyTarget(results, completed);
  const configurations = configurationOrder(results)
    .filter((id) => completed.some((r) => r.configId === id))
    .map((id) =>
      summarizeConfiguration(
        id,
        completed.filter((r) => r.configId === id),
        runs.filter((e) => e.configId === id),
        target,
      ),
    );
  const givenMargin = suite.spec.equivalenceMargin;
  const equivalence = configurations.length
    ? accuracyEquivalence(
        configurations,
        new Map(
          configurations.map((c) => [c.id, testAccuracies(completed.filter((r) => r.configId === c.id))]),
        ),
        givenMargin ?? DEFAULT_EQUIVALENCE_MARGIN,
        givenMargin === undefined ? "default" : "suite spec",
      )
    : null;
  const statistics =
    metric && configurations.length
      ? energyStatistics(
          configurations.map((c) => ({
            name: c.id,
            values: runs.filter((e) => e.configId === c.id).map((e) => e.metricKJ),
          })),
          metric,
          runs.map((e) => ({ treatment: e.configId, block: e.block, value: e.metricKJ })),
        )
      : null;
  const sources = new Map<string, ReportData["environment"]["sources"][number]>();
  for (const r of completed)
    for (const e of r.energy) {
      const key = `${e.component}|${e.source}|${e.channel}|${e.provenance}`;
      if (!sources.has(key))
        sources.set(key, {
          component: e.component,
          source: e.source,
          channel: e.channel,
          provenance: e.provenance,
        });
    }
  const versions: Record<string, string[]> = {};
  for (const r of completed)
    for (const [k, v] of Object.entries(r.env?.versions ?? {}))
      versions[k] = unique([...(versions[k] ?? []), v]);
  // Planned runs are plan slots: an attempt interrupted and then redone by --resume is one
  // slot with two rows, and the suite is finished when every slot has a completed row.
  const planned = Math.max(suite.plan.length, new Set(results.runs.map((r) => r.index)).size);
  const data: ReportData = {
    suite: {
      id: suite.id,
      name: suite.name,
      origin: suite.spec.origin,
      createdAt: suite.createdAt,
      generatedAt: generatedAt.toISOString(),
    },
    planned,
    completed: completed.length,
    finished: finishedSlots(results.runs) >= planned,
    environment: {
      adapters: unique(completed.map((r) => r.env?.adapter)),
      drivers: unique(completed.map((r) => r.env?.driver)),
      hosts: unique(completed.map((r) => r.env?.hostname)),
      versions,
      sources: [...sources.values()].sort(
        (a, b) =>
          ALL_COMPONENTS.indexOf(a.component as Component) -
            ALL_COMPONENTS.indexOf(b.component as Component) ||
          (a.channel ?? "").localeCompare(b.channel ?? ""),
      ),
      notes: [...suite.notes],
    },
    energyPhases: [...ENERGY_PHASES],
    metric,
    runs,
    configurations,
    blocks: deviceBlocks(
      completed,
      runs,
      configurations.map((c) => c.id),
    ),
    accuracyTarget: target,
    accuracyTargetSource,
    equivalence,
    stepKernels: stepKernels(
      configurations,
      new Map(
        configurations.map((c) => [c.id, completed.filter((r) => r.configId === c.id).map((r) => r.kernels)]),
      ),
    ),
    carbon: carbonRows(results, configurations, runs),
    statistics,
    conclusion: [],
    caveats: [],
    excluded: results.runs
      .filter((r) => r.status !== "completed" || r.diverged !== undefined)
      .map((r) => ({
        runId: r.id,
        configId: r.configId,
        replicate: r.replicate,
        status: r.diverged !== undefined ? "diverged" : r.status,
        error: r.diverged ?? r.error,
        redoneBy: r.status === "completed" ? null : redoneBy(results.runs, r),
      })),
  };
  const { conclusion, caveats } = conclude(data);
  data.conclusion = conclusion;
  data.caveats = caveats;
  return data;
}

/** Plan slots with a completed run. */
function finishedSlots(runs: readonly RunRecord[]): number {
  return new Set(runs.filter((r) => r.status === "completed").map((r) => r.index)).size;
}

/** The id of a later completed attempt of `run`'s plan slot (a --resume redoing it), or null. */
function redoneBy(runs: readonly RunRecord[], run: RunRecord): number | null {
  return runs.find((r) => r.index === run.index && r.id > run.id && r.status === "completed")?.id ?? null;
}
