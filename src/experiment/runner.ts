// runSuite: executes a suite's plan under telemetry into a results store: the plan loop, resume
// and the store's bookkeeping. Once per suite: the dataset loaded and put on the device
// (resident-data.ts), the device opened, and — before the first baseline — every configuration
// warmed up (preload.ts: the GPU in the power state later baselines find, the pipelines compiled,
// each run's train phase estimated and a warning when it is too short to measure). Each run is
// measureRun's (measure-run.ts). Every record is written as it happens: a crash or Ctrl-C loses
// at most the run in progress, which is marked interrupted; a resumed suite skips the completed
// plan indices.
import { hostname } from "node:os";
import type { Dataset } from "../data/index.js";
import { loadDataset } from "../data/index.js";
import { type GpuContext, openDevice } from "../gpu/device.js";
import { tuneCacheStatus } from "../kernels/gemm-tune-cache.js";
import { openNvml } from "../telemetry/nvml.js";
import { type PlanOptions, planSources } from "../telemetry/sources.js";
import { apportionWorkerRun } from "./apportion-run.js";
import { SuiteError } from "./errors.js";
import { measureRun, type RunContext, type SuiteProgress } from "./measure-run.js";
import { MEASUREMENT_RULES, type MeasurementRules } from "./measurement-rules.js";
import { replicateChecks } from "./phase-checks.js";
import { RUN_PHASE_NAMES } from "./phase-names.js";
import { shortPhaseWarning } from "./planned-duration.js";
import { preload } from "./preload.js";
import { ResidentData } from "./resident-data.js";
import type { WorkerStore } from "./store.js";
import type { PlannedRun, ResultStore, RunEnvironment, RunGpu, SuiteSpec } from "./types.js";
import { packageVersions } from "./versions.js";

export { apportionShared, SHARED_COMPONENTS } from "./apportion-run.js";
export { energyRecords, type RunEndStatus, type SuiteProgress, trainConfigOf } from "./measure-run.js";

/** A run's phases (phase-names.ts): `setup` holds the upload and the warm-up, `train` the epochs alone. */
export const RUN_PHASES = RUN_PHASE_NAMES;

export interface SuiteRunOptions {
  store: ResultStore;
  /** Continue a suite the store already holds (else finding completed runs is an error). */
  resume?: boolean;
  /**
   * Run only the plan's runs of these blocks (a Slurm array task runs one block into its own
   * store); the store still records the whole plan. Default: every block.
   */
  blocks?: readonly number[];
  signal?: AbortSignal;
  progress?: SuiteProgress;
  ctx?: GpuContext;
  dataset?: Dataset;
  cacheDir?: string;
  /** Telemetry options (CPU TDP, RAM model, a smart plug, …), as `halfwatt measure` takes them. */
  telemetry?: PlanOptions;
  /** Sleep function (tests shorten the waits). */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Run as one of several worker processes of the suite, each bound to its own GPU
   * (src/experiment/workers.ts): runs come from whole blocks claimed in the store, the parent has
   * already opened the suite and recovered interrupted runs, and CPU/RAM energy is apportioned among
   * the runs in flight on the host.
   */
  worker?: WorkerRole;
  /** The GPU this process runs on where it knows it without being a worker (a Slurm task's GPU). */
  gpu?: RunGpu | null;
  /** The measurement rules (tests shorten them); default MEASUREMENT_RULES. */
  rules?: Partial<MeasurementRules>;
  /**
   * The GPU's measured power (W) for the settle rule before each baseline (tests: a fake source);
   * default: NVML's power reading of this process's GPU, none without NVML.
   */
  gpuPower?: (() => number | null | Promise<number | null>) | null;
}

/** A worker's identity and GPU (SuiteRunOptions.worker). */
export interface WorkerRole {
  /** 0-based worker number (env.worker). */
  index: number;
  /** The GPU the process is bound to, as env.gpu records it (null: unknown). */
  gpu: RunGpu | null;
  /** Its NVML index: the only GPU its sampler reads and whose temperature it watches; null without NVML. */
  nvmlIndex: number | null;
  /** The parent's session (block claims are per session). */
  session: string;
  /** The store, with block claims and run times (the same handle as SuiteRunOptions.store). */
  store: WorkerStore;
}

export interface SuiteRunSummary {
  suiteId: number;
  completed: number;
  interrupted: number;
  failed: number;
  /** Runs stopped by the divergence rule (stored as completed, marked diverged; not redone on resume). */
  diverged: number;
  skipped: number;
  stopped: boolean;
}

/**
 * A store holding part of this suite is resumed only on request (--resume); a finished suite is
 * not an error (the caller re-writes its report).
 */
export function refuseUnfinishedWithoutResume(
  spec: SuiteSpec,
  done: number,
  planned: number,
  resume: boolean | undefined,
): void {
  if (done && done < planned && !resume)
    throw new SuiteError(
      `the store already holds suite "${spec.name}" with ${done} completed run(s): pass --resume to finish it, or choose another --out`,
    );
}

/** A summary before any run: the completed ones counted as skipped. */
export function emptySummary(suiteId: number, skipped: number): SuiteRunSummary {
  return { suiteId, completed: 0, interrupted: 0, failed: 0, diverged: 0, skipped, stopped: false };
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Temperature of NVML GPU `index` (°C), or null without NVML or a sensor. */
function gpuTemperature(index = 0): number | null {
  const nvml = openNvml();
  if (!nvml.available || index >= (nvml.load.deviceCount ?? 0)) return null;
  const t = nvml.binding.snapshot(index).temperatureC;
  return typeof t === "number" ? t : null;
}

export async function runSuite(
  spec: SuiteSpec,
  plan: PlannedRun[],
  opts: SuiteRunOptions,
): Promise<SuiteRunSummary> {
  const { store, progress = {}, worker } = opts;
  const sleep = opts.sleep ?? defaultSleep;
  const rules: MeasurementRules = { ...MEASUREMENT_RULES, ...opts.rules };
  const suite = store.openSuite(spec, plan);
  // A worker's parent has recovered interrupted runs and checked --resume; recovering here would
  // mark the runs of the worker's siblings, which are running, interrupted.
  if (!worker) {
    const recovered = store.recoverInterrupted(suite.id);
    if (recovered)
      progress.onNote?.(`${recovered} run(s) left running by an earlier process marked interrupted`);
  }
  const blocks = opts.blocks;
  const scope = blocks ? plan.filter((r) => blocks.includes(r.block)) : plan;
  const inScope = new Set(scope.map((r) => r.index));
  const done = new Set([...store.completedIndices(suite.id)].filter((i) => inScope.has(i)));
  if (!worker) refuseUnfinishedWithoutResume(spec, done.size, scope.length, opts.resume);
  const configs = new Map(spec.configurations.map((c) => [c.id, c]));
  const todo = scope.filter((r) => !done.has(r.index));
  const summary = emptySummary(suite.id, done.size);
  if (!todo.length) return summary;
  const gpuKey = worker?.gpu ? `${worker.gpu.index} ${worker.gpu.pciBusId ?? ""}`.trim() : null;
  // A worker claims its first block before it loads, compiles or warms up anything: one whose
  // siblings have claimed every block leaves without touching the dataset or the GPU.
  const claim = () =>
    worker && !opts.signal?.aborted
      ? worker.store.claimBlock(suite.id, worker.session, worker.index, gpuKey)
      : null;
  const claimed = claim();
  if (worker && claimed === null) return summary;

  const dataset =
    opts.dataset ?? (await loadDataset(spec.data, { imageSize: spec.imageSize, cacheDir: opts.cacheDir }));
  const ctx = opts.ctx ?? (await openDevice());
  // A worker reads its own GPU only: a neighbour's energy never enters its runs.
  const telemetry: PlanOptions =
    worker?.nvmlIndex != null ? { ...opts.telemetry, gpus: [worker.nvmlIndex] } : (opts.telemetry ?? {});
  const sources = planSources(telemetry);
  const nvml = openNvml();
  const onGpu = nvml.available;
  for (const u of sources.unavailable) {
    const note = `${u.source} not used: ${u.reason}`;
    if (!suite.notes.includes(note)) store.addSuiteNote(suite.id, note);
  }
  // Which GEMM kernels run changes a run's time and energy: say whether they were tuned here.
  const tuning = tuneCacheStatus(ctx);
  const kernelNote = tuning.entries
    ? `GEMM kernels: ${tuning.entries} tuned choice(s) from ${tuning.path} apply on this adapter (halfwatt tune); other products use the built-in heuristics; each run's kernel table names what ran`
    : "GEMM kernels: the built-in heuristics (no tune cache entry for this adapter; `halfwatt tune` measures the fastest kernels for the classifier's products, docs/performance.md)";
  if (!suite.notes.includes(kernelNote)) store.addSuiteNote(suite.id, kernelNote);
  const baselineS = spec.baselineSeconds ?? (onGpu ? 30 : 3);
  const gpuIndex = worker?.nvmlIndex ?? 0;
  let idleTemp = suite.idleTempC;
  if (worker) {
    // Each GPU cools towards its own idle temperature, read when its worker starts.
    idleTemp = worker.nvmlIndex === null ? null : gpuTemperature(gpuIndex);
  } else if (idleTemp === null) {
    idleTemp = gpuTemperature(gpuIndex);
    if (idleTemp !== null) store.setIdleTemp(suite.id, idleTemp);
  }
  const env: RunEnvironment = {
    adapter: ctx.adapterName,
    driver: nvml.available ? (nvml.load.driverVersion ?? null) : null,
    hostname: hostname(),
    versions: packageVersions(),
    ...(worker ? { gpu: worker.gpu, worker: worker.index, overlapped: false } : {}),
    ...(!worker && opts.gpu ? { gpu: opts.gpu } : {}),
  };
  progress.onStart?.({
    suiteId: suite.id,
    total: scope.length,
    done: done.size,
    adapter: ctx.adapterName,
    sources: sources.specs.map((s) => s.kind),
    unavailable: sources.unavailable.map((u) => `${u.source}: ${u.reason}`),
  });

  /** The runs to do: the plan's order alone, or, for a worker, whole blocks claimed one at a time. */
  function* runsToDo(): Generator<PlannedRun> {
    if (!worker) {
      yield* todo;
      return;
    }
    for (let block = claimed; block !== null; block = claim()) {
      const completed = store.completedIndices(suite.id);
      for (const r of scope) if (r.block === block && !completed.has(r.index)) yield r;
    }
  }

  const data = new ResidentData(ctx, dataset);
  try {
    // Before the first baseline: load, compile, estimate (preload.ts).
    const toRun = [...new Set(todo.map((r) => r.configId))].map((id) => {
      const c = configs.get(id);
      if (!c) throw new SuiteError(`plan names configuration ${id}, which the spec does not have`);
      return c;
    });
    progress.onNote?.(`preload: warming up ${toRun.length} configuration(s) before the first baseline`);
    const pre = await preload(
      ctx,
      spec,
      dataset,
      toRun,
      onGpu ? rules.preloadSeconds.nvml : rules.preloadSeconds.other,
      {
        timedSteps: rules.warmupTimedSteps,
        minTimedSeconds: onGpu ? rules.warmupTimedSeconds.nvml : rules.warmupTimedSeconds.other,
        signal: opts.signal,
      },
    );
    progress.onNote?.(
      `planned train phase per run (an estimate: warm-up s per step × steps): ${pre.planned.map((d) => `${d.configId} ≈ ${d.trainSeconds.toFixed(1)} s`).join(", ")}; preload ${pre.seconds.toFixed(1)} s`,
    );
    const minTrain = onGpu ? rules.minTrainSeconds.nvml : rules.minTrainSeconds.other;
    for (const d of pre.planned) {
      const w = shortPhaseWarning(d, minTrain);
      if (!w) continue;
      progress.onNote?.(w);
      if (!suite.notes.includes(w)) store.addSuiteNote(suite.id, w);
    }
    const rc: RunContext = {
      spec,
      store,
      suiteId: suite.id,
      ctx,
      data,
      sources: sources.specs,
      env,
      baselineSeconds: baselineS,
      rules,
      warmupTimedSeconds: onGpu ? rules.warmupTimedSeconds.nvml : rules.warmupTimedSeconds.other,
      rampSeconds: onGpu ? rules.rampSeconds.nvml : rules.rampSeconds.other,
      temperature: () => gpuTemperature(gpuIndex),
      idleTempC: idleTemp,
      gpuPower: opts.gpuPower !== undefined ? opts.gpuPower : nvmlPower(gpuIndex),
      progress,
      signal: opts.signal,
      sleep,
      cacheDir: opts.cacheDir,
      apportion: worker
        ? (energy, readings, windows, fallback, runId) =>
            apportionWorkerRun(energy, readings, windows, fallback, worker.store, suite.id, runId, env)
        : null,
    };
    let position = done.size;
    for (const run of runsToDo()) {
      if (opts.signal?.aborted) {
        summary.stopped = true;
        break;
      }
      position++;
      const config = configs.get(run.configId);
      if (!config)
        throw new SuiteError(`plan names configuration ${run.configId}, which the spec does not have`);
      progress.onRunStart?.(run, config, position, scope.length);
      const outcome = await measureRun(rc, run, config, position);
      if (outcome.status === "interrupted") {
        summary.interrupted++;
        summary.stopped = true;
        progress.onRunEnd?.(run, "interrupted", outcome.detail);
        break;
      }
      if (outcome.status === "failed") {
        summary.failed++;
        progress.onRunEnd?.(run, "failed", outcome.detail);
        // A configuration error would fail every run alike: stop rather than fail them all.
        if (summary.failed >= 2 && summary.completed === 0) throw outcome.error;
        continue;
      }
      if (outcome.status === "diverged") summary.diverged++;
      else summary.completed++;
      // A progress callback that throws must not turn a stored run into a failed one: it runs
      // after the record is complete.
      progress.onRunEnd?.(run, outcome.status, outcome.detail);
    }
    if (!worker) noteReplicateChecks(store, suite.id, rules.phaseTolerance, progress);
  } finally {
    data.dispose();
    if (!opts.dataset) dataset.close();
  }
  return summary;
}

/** NVML's power reading of GPU `index`, W, or null without NVML (no settle rule then). */
function nvmlPower(index: number): (() => number | null) | null {
  const nvml = openNvml();
  if (!nvml.available || index >= (nvml.load.deviceCount ?? 0)) return null;
  return () => {
    const mw = nvml.binding.powerMilliwatts(index);
    return Number.isFinite(mw) ? mw / 1000 : null;
  };
}

/** Notes the suite's first-replicate checks (phase-checks.ts) that failed, once each. */
function noteReplicateChecks(
  store: ResultStore,
  suiteId: number,
  tolerance: number,
  progress: SuiteProgress,
): void {
  const results = store.results(suiteId);
  const runs = results.runs.filter((r) => r.status === "completed");
  for (const c of replicateChecks(runs, tolerance)) {
    if (c.ok) continue;
    const note = `${c.configId}: its first replicate (run ${c.firstRunId}) took ${(1e6 * c.firstSPerSample).toFixed(1)} µs per sample in train vs ${(1e6 * c.othersSPerSample).toFixed(1)} µs for the others (${(100 * c.deviation).toFixed(0)} % off, past ${100 * tolerance} %)`;
    progress.onNote?.(note);
    if (!results.suite.notes.includes(note)) store.addSuiteNote(suiteId, note);
  }
}
