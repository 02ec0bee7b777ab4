// runSuite: executes a suite's plan under telemetry into a results store. Per run, in the plan's
// blocked random order: a cooldown (until the GPU is back within a few °C of the pre-suite idle,
// or a time limit), an idle-baseline window, training, the test evaluation — each a sampler
// phase, so energy is split by phase and netted against the baseline — then the run's record.
// The dataset and the device are opened once per suite. Every record is written as it happens:
// a crash or Ctrl-C loses at most the run in progress, which is marked interrupted; a resumed
// suite skips the completed plan indices.
import { hostname } from "node:os";
import type { Dataset } from "../data/index.js";
import { loadDataset } from "../data/index.js";
import { type GpuContext, openDevice } from "../gpu/device.js";
import { tuneCacheStatus } from "../kernels/gemm-tune-cache.js";
import type { EpochResult, TrainConfig, TrainResult } from "../model/trainer.js";
import { train } from "../model/trainer.js";
import { monotonicMs } from "../telemetry/clock.js";
import type { EnergyReport } from "../telemetry/ledger.js";
import { openNvml } from "../telemetry/nvml.js";
import { Sampler } from "../telemetry/sampler.js";
import { type PlanOptions, planSources } from "../telemetry/sources.js";
import type { Sample } from "../telemetry/types.js";
import { runCarbon } from "./carbon.js";
import { divergence, runningLossDivergence } from "./divergence.js";
import { SuiteError } from "./errors.js";
import {
  type ConcurrencyStep,
  concurrencySteps,
  cumulativeFromPower,
  type EnergyPoint,
  overlapsIn,
  shareOf,
} from "./shared-energy.js";
import type { WorkerStore } from "./store.js";
import type {
  EnergyRecord,
  PhaseRecord,
  PlannedRun,
  ResultStore,
  RunConfiguration,
  RunEnvironment,
  RunGpu,
  SampleRecord,
  SuiteSpec,
} from "./types.js";
import { packageVersions } from "./versions.js";

/**
 * A run's phases. `setup` (the split's upload to the GPU, recording the step) is measured but kept
 * out of `train`, so the compared energy is the training's, not the data loading's.
 */
export const RUN_PHASES = {
  baseline: "idle-baseline",
  setup: "setup",
  train: "train",
  test: "test",
} as const;

/** How a run ended, as progress reports it. */
export type RunEndStatus = "completed" | "interrupted" | "failed" | "diverged";

export interface SuiteProgress {
  onStart?(info: {
    suiteId: number;
    total: number;
    done: number;
    adapter: string;
    sources: string[];
    unavailable: string[];
  }): void;
  onRunStart?(run: PlannedRun, config: RunConfiguration, position: number, total: number): void;
  onPhase?(run: PlannedRun, phase: string): void;
  /** After each epoch, with its metrics (loss, accuracy). */
  onEpoch?(run: PlannedRun, epoch: number, of: number, result?: EpochResult): void;
  /** Instantaneous total power (W) of the measured channels, about once a second. */
  onPower?(watts: number): void;
  /** `diverged`: stopped early by the divergence rule (divergence.ts), recorded, left out of the statistics. */
  onRunEnd?(run: PlannedRun, status: RunEndStatus, detail: string): void;
  onNote?(note: string): void;
}

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

/** What stopped the suite, for the interrupted run's record: the signal's name (SIGINT, SIGTERM) or the reason given. */
function stopCause(signal: AbortSignal | undefined): string {
  const r = signal?.reason;
  return typeof r === "string" ? r : "by request";
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Temperature of NVML GPU `index` (°C), or null without NVML or a sensor. */
function gpuTemperature(index = 0): number | null {
  const nvml = openNvml();
  if (!nvml.available || index >= (nvml.load.deviceCount ?? 0)) return null;
  const t = nvml.binding.snapshot(index).temperatureC;
  return typeof t === "number" ? t : null;
}

/** Components whose energy the runs in flight on one host share (the GPUs are each run's own). */
export const SHARED_COMPONENTS: readonly string[] = ["cpu", "dram", "system"];

/**
 * Scales the shared components' records of a run by the run's share of each phase
 * (shared-energy.ts) and labels them `estimated, shared`. `points` are each channel's cumulative
 * energy readings on the wall clock; `phases` the phases' wall-clock windows.
 */
export function apportionShared(
  records: readonly EnergyRecord[],
  points: ReadonlyMap<string, EnergyPoint[]>,
  phases: readonly { name: string; startMs: number; endMs: number }[],
  steps: readonly ConcurrencyStep[],
): EnergyRecord[] {
  const window = new Map(phases.map((p) => [p.name, p]));
  const ratio = (phase: string, channel: string): number => {
    const w = window.get(phase);
    if (!w) return 1;
    return shareOf(points.get(channel) ?? [], steps, w.startMs, w.endMs);
  };
  const scale = (e: EnergyRecord, r: number): EnergyRecord => {
    const by = (v: number | null | undefined) => (v === null || v === undefined ? v : v * r);
    return {
      ...e,
      provenance: "estimated",
      shared: true,
      grossJ: by(e.grossJ) ?? null,
      netJ: by(e.netJ) ?? null,
      meanPowerW: by(e.meanPowerW) ?? null,
      ...(e.grossLowJ !== undefined ? { grossLowJ: by(e.grossLowJ) } : {}),
      ...(e.grossHighJ !== undefined ? { grossHighJ: by(e.grossHighJ) } : {}),
      ...(e.netLowJ !== undefined ? { netLowJ: by(e.netLowJ) } : {}),
      ...(e.netHighJ !== undefined ? { netHighJ: by(e.netHighJ) } : {}),
    };
  };
  return records.map((e) => {
    if (!SHARED_COMPONENTS.includes(e.component)) return e;
    if (e.channel !== null) return scale(e, ratio(e.phase, e.channel));
    // A component's total: its channels' shares weighted by their energy (cross-checks left out, as in the total).
    const parts = records.filter(
      (c) =>
        c.phase === e.phase &&
        c.component === e.component &&
        c.channel !== null &&
        !c.flag?.startsWith("cross-check"),
    );
    const whole = parts.reduce((s, c) => s + (c.grossJ ?? 0), 0);
    const r =
      whole > 0
        ? parts.reduce((s, c) => s + (c.grossJ ?? 0) * ratio(c.phase, c.channel as string), 0) / whole
        : parts.length
          ? ratio(e.phase, parts[0].channel as string)
          : 1;
    return scale(e, r);
  });
}

/** The trainer's configuration of one planned run. */
export function trainConfigOf(
  spec: SuiteSpec,
  config: RunConfiguration,
  seed: number,
  cacheDir?: string,
): TrainConfig {
  return {
    data: spec.data,
    precision: config.precision,
    batch: config.batch,
    neurons: config.neurons,
    epochs: config.epochs,
    optimizer: { ...config.optimizer },
    seed,
    imageSize: spec.imageSize,
    cacheDir,
  };
}

/** Energy records of every phase, per component total and per channel. */
export function energyRecords(report: EnergyReport): EnergyRecord[] {
  const out: EnergyRecord[] = [];
  for (const p of report.phases) {
    for (const t of p.totals)
      out.push({
        phase: p.name,
        component: t.component,
        channel: null,
        source: t.sources.join(" + "),
        provenance: t.provenance,
        grossJ: t.gross,
        netJ: t.net,
        seconds: p.durationS,
        meanPowerW: t.gross === null || p.durationS <= 0 ? null : t.gross / p.durationS,
        ...(t.flag ? { flag: t.flag } : {}),
        grossLowJ: t.low ?? null,
        grossHighJ: t.high ?? null,
        netLowJ: t.netLow ?? null,
        netHighJ: t.netHigh ?? null,
      });
    for (const c of p.channels)
      out.push({
        phase: p.name,
        component: c.component,
        channel: c.channel,
        source: c.source,
        provenance: c.gross.provenance,
        grossJ: c.gross.joules,
        netJ: c.net?.joules ?? null,
        seconds: p.durationS,
        meanPowerW: c.meanPowerW,
        grossLowJ: c.gross.low ?? null,
        grossHighJ: c.gross.high ?? null,
        netLowJ: c.net?.low ?? null,
        netHighJ: c.net?.high ?? null,
        ...(c.gross.flag
          ? { flag: c.gross.flag }
          : c.crossCheck
            ? { flag: "cross-check (not in totals)" }
            : {}),
      });
  }
  return out;
}

export async function runSuite(
  spec: SuiteSpec,
  plan: PlannedRun[],
  opts: SuiteRunOptions,
): Promise<SuiteRunSummary> {
  const { store, progress = {}, worker } = opts;
  const sleep = opts.sleep ?? defaultSleep;
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
  const gpuKey = worker?.gpu ? `${worker.gpu.index} ${worker.gpu.pciBusId ?? ""}`.trim() : null;
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
    for (;;) {
      if (opts.signal?.aborted) return;
      const block = worker.store.claimBlock(suite.id, worker.session, worker.index, gpuKey);
      if (block === null) return;
      const completed = store.completedIndices(suite.id);
      for (const r of scope) if (r.block === block && !completed.has(r.index)) yield r;
    }
  }

  try {
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

      // Cooldown: back to within a few °C of the pre-suite idle, or the time limit.
      if (idleTemp !== null && spec.cooldown.maxSeconds > 0 && position > 1) {
        progress.onPhase?.(run, "cooldown");
        const until = Date.now() + spec.cooldown.maxSeconds * 1000;
        for (
          let t = gpuTemperature(gpuIndex);
          t !== null && t > idleTemp + spec.cooldown.withinCelsius && Date.now() < until;
          t = gpuTemperature(gpuIndex)
        ) {
          if (opts.signal?.aborted) break;
          await sleep(1000);
        }
      }
      const tempBefore = gpuTemperature(gpuIndex);
      const runId = store.startRun(suite.id, run, config, env, tempBefore);
      const t0 = monotonicMs();
      // Monotonic sample times to the wall clock the store's run times use (shared energy).
      const wallOffset = Date.now() - t0;
      const shareable = new Map<string, { t: number; e?: number; w?: number }[]>();
      const pending: SampleRecord[] = [];
      let lastPowerAt = 0;
      const flush = () => {
        if (pending.length) store.addSamples(runId, pending.splice(0));
      };
      let sampler: Sampler | null = null;
      let completedDetail: string | null = null;
      let divergedDetail: string | null = null;
      // The run's own stop token: the suite's stop, or the divergence rule (which stops this run only).
      const runStop = new AbortController();
      const forwardStop = () => runStop.abort(opts.signal?.reason);
      if (opts.signal?.aborted) forwardStop();
      else opts.signal?.addEventListener("abort", forwardStop, { once: true });
      let diverged: string | null = null;
      const epochsSoFar: EpochResult[] = [];
      const windowStart = Date.now();
      try {
        sampler = await Sampler.start({
          sources: sources.specs,
          hz: spec.telemetry.hz,
          baselinePhase: RUN_PHASES.baseline,
          drain: () => ctx.device.queue.onSubmittedWorkDone(),
          onSamples: (batch: readonly Sample[]) => {
            const latest = new Map<string, number>();
            for (const s of batch) {
              pending.push({
                t: s.t - t0,
                channel: s.channel,
                ...(s.powerW !== undefined ? { powerW: s.powerW } : {}),
                ...(s.energyJ !== undefined ? { energyJ: s.energyJ } : {}),
              });
              if (s.powerW !== undefined) latest.set(s.channel, s.powerW);
              // A worker keeps the host-wide channels' readings to apportion them at the run's end.
              if (worker && !s.channel.startsWith("nvml:") && !s.channel.startsWith("nvidia-smi")) {
                let list = shareable.get(s.channel);
                if (!list) {
                  list = [];
                  shareable.set(s.channel, list);
                }
                list.push({ t: s.t + wallOffset, e: s.energyJ, w: s.powerW });
              }
            }
            if (pending.length > 2000) flush();
            const now = Date.now();
            if (progress.onPower && latest.size && now - lastPowerAt > 1000) {
              lastPowerAt = now;
              progress.onPower([...latest.values()].reduce((a, b) => a + b, 0));
            }
          },
        });
        const s = sampler;
        progress.onPhase?.(run, RUN_PHASES.baseline);
        await s.mark(RUN_PHASES.baseline);
        await sleep(baselineS * 1000);
        progress.onPhase?.(run, RUN_PHASES.setup);
        await s.mark(RUN_PHASES.setup);
        const result: TrainResult = await train(
          trainConfigOf(spec, config, run.seed, opts.cacheDir),
          {
            signal: runStop.signal,
            onRunStart: async () => {
              progress.onPhase?.(run, RUN_PHASES.train);
              await s.mark(RUN_PHASES.train);
            },
            onProgress: (p) => {
              diverged ??= runningLossDivergence(p.epoch, p.loss);
              if (diverged) runStop.abort("diverged");
            },
            onEpochEnd: (e) => {
              store.addEpoch(runId, e);
              epochsSoFar.push(e);
              diverged ??= divergence(epochsSoFar);
              if (diverged) runStop.abort("diverged");
              progress.onEpoch?.(run, e.epoch, config.epochs, e);
            },
            onTestStart: async () => {
              progress.onPhase?.(run, RUN_PHASES.test);
              await s.mark(RUN_PHASES.test);
            },
          },
          { ctx, dataset },
        );
        const report = await s.stop();
        sampler = null;
        flush();
        for (const w of new Set(report.warnings)) progress.onNote?.(`run ${run.index + 1}: ${w}`);
        if (result.stopped && diverged === null) {
          store.failRun(runId, "interrupted", `stopped (${stopCause(opts.signal)}) before the run finished`);
          summary.interrupted++;
          summary.stopped = true;
          progress.onRunEnd?.(run, "interrupted", "stopped");
          break;
        }
        const phases: PhaseRecord[] = report.phases.map((p) => ({
          name: p.name,
          startMs: p.startMs - t0,
          endMs: p.endMs - t0,
        }));
        let energy = energyRecords(report);
        if (worker) {
          // Runs in flight on this host now or during this run, this one included (still running).
          const steps = concurrencySteps(worker.store.runIntervals(suite.id, env.hostname));
          const windows = report.phases.map((p) => ({
            name: p.name,
            startMs: p.startMs + wallOffset,
            endMs: p.endMs + wallOffset,
          }));
          const first = windows[0]?.startMs ?? windowStart;
          const last = windows.at(-1)?.endMs ?? Date.now();
          if (overlapsIn(steps, first, last)) {
            const points = new Map<string, EnergyPoint[]>();
            for (const [channel, list] of shareable) {
              const counter = list
                .filter((p) => p.e !== undefined)
                .map((p) => ({ t: p.t, e: p.e as number }));
              points.set(
                channel,
                counter.length >= 2
                  ? counter
                  : cumulativeFromPower(
                      list.filter((p) => p.w !== undefined).map((p) => ({ t: p.t, w: p.w as number })),
                    ),
              );
            }
            energy = apportionShared(energy, points, windows, steps);
            worker.store.setRunEnv(runId, { ...env, overlapped: true });
          }
        }
        const { carbon, note } = runCarbon(spec.carbon, { startMs: windowStart, endMs: Date.now() });
        if (note) progress.onNote?.(`run ${run.index + 1}: ${note}`);
        store.finishRun(runId, {
          seconds: result.seconds,
          test: result.test,
          lossScale: result.lossScale,
          kernels: result.kernels,
          phases,
          energy,
          carbon,
          ...(diverged !== null ? { diverged } : {}),
        });
        if (diverged !== null) {
          summary.diverged++;
          divergedDetail = `diverged, stopped early: ${diverged}`;
        } else summary.completed++;
        const gpu = report.phases
          .find((p) => p.name === RUN_PHASES.train)
          ?.totals.find((t) => t.component === "gpu");
        completedDetail = `test acc ${result.test ? (100 * result.test.accuracy).toFixed(1) : "n/a"} %${gpu?.gross != null ? `, GPU ${(gpu.gross / 1000).toFixed(2)} kJ` : ""}`;
      } catch (e) {
        if (sampler) await sampler.abort().catch(() => {});
        flush();
        const message = e instanceof Error ? e.message : String(e);
        store.failRun(
          runId,
          opts.signal?.aborted ? "interrupted" : "failed",
          opts.signal?.aborted ? `stopped (${stopCause(opts.signal)}): ${message}` : message,
        );
        if (opts.signal?.aborted) {
          summary.interrupted++;
          summary.stopped = true;
          progress.onRunEnd?.(run, "interrupted", message);
          break;
        }
        summary.failed++;
        progress.onRunEnd?.(run, "failed", message);
        // A configuration error would fail every run alike: stop rather than fail them all.
        if (summary.failed >= 2 && summary.completed === 0) throw e;
      } finally {
        opts.signal?.removeEventListener("abort", forwardStop);
      }
      // Outside the try: a progress callback that throws must not turn a stored run into a failed one.
      if (divergedDetail !== null) progress.onRunEnd?.(run, "diverged", divergedDetail);
      else if (completedDetail !== null) progress.onRunEnd?.(run, "completed", completedDetail);
    }
  } finally {
    if (!opts.dataset) dataset.close();
  }
  return summary;
}
