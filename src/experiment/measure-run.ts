// measureRun: one planned run under telemetry, into its record. In order: a cooldown (back within
// a few °C of the pre-suite idle, or a time limit), the power settle wait (measured GPU power
// steady, power-settle.ts), then the sampler's phases — the idle baseline; setup (the dataset's
// upload when this run pays it, the warm-up: every pipeline compiled and a few uncounted steps on
// a throwaway model, src/model/warmup.ts); train (the epochs alone); test — and the record:
// energy per phase netted against the baseline, and how the phases were kept clean
// (RunMeasurement). runSuite (runner.ts) keeps the plan loop, resume and the store's bookkeeping;
// a worker's shared-energy apportioning comes in as `apportion` (apportion-run.ts).
import type { GpuContext } from "../gpu/device.js";
import type { EpochResult, TrainConfig, TrainResult } from "../model/trainer.js";
import { train } from "../model/trainer.js";
import { warmUp } from "../model/warmup.js";
import { monotonicMs } from "../telemetry/clock.js";
import type { EnergyReport } from "../telemetry/ledger.js";
import { Sampler } from "../telemetry/sampler.js";
import type { SourceSpec } from "../telemetry/sources.js";
import type { Component, Sample } from "../telemetry/types.js";
import type { ShareableReadings } from "./apportion-run.js";
import { runCarbon } from "./carbon.js";
import { type RampResult, rampClocks } from "./clock-ramp.js";
import { divergence, runningLossDivergence } from "./divergence.js";
import type { MeasurementRules } from "./measurement-rules.js";
import { epochCheck, planCheck, trainPhaseSeconds } from "./phase-checks.js";
import { RUN_PHASE_NAMES } from "./phase-names.js";
import { plannedDuration } from "./planned-duration.js";
import { type SettleResult, waitForSettledPower } from "./power-settle.js";
import type { ResidentData } from "./resident-data.js";
import type {
  EnergyRecord,
  PhaseRecord,
  PlannedRun,
  ResultStore,
  RunConfiguration,
  RunEnvironment,
  RunMeasurement,
  SampleRecord,
  SuiteSpec,
} from "./types.js";

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

/** What every run of a suite shares: built once by runSuite. */
export interface RunContext {
  spec: SuiteSpec;
  store: ResultStore;
  suiteId: number;
  ctx: GpuContext;
  /** The dataset, on the device once per suite. */
  data: ResidentData;
  sources: SourceSpec[];
  env: RunEnvironment;
  /** Idle-baseline window, s. */
  baselineSeconds: number;
  rules: MeasurementRules;
  /** The rules' values for this adapter (a GPU read by NVML or another), s. */
  warmupTimedSeconds: number;
  rampSeconds: number;
  /** GPU temperature (°C) of the GPU this process runs on, or null; and its pre-suite idle. */
  temperature: () => number | null;
  idleTempC: number | null;
  /** The measured power of this process's GPU (W), or null where none can be read (no NVML). */
  gpuPower: (() => number | null | Promise<number | null>) | null;
  progress: SuiteProgress;
  signal?: AbortSignal;
  sleep: (ms: number) => Promise<void>;
  cacheDir?: string;
  /** A worker's apportioning of host-wide energy among overlapping runs (null: none). */
  apportion:
    | ((
        energy: EnergyRecord[],
        readings: ShareableReadings,
        windows: { name: string; startMs: number; endMs: number }[],
        fallback: { startMs: number; endMs: number },
        runId: number,
      ) => EnergyRecord[])
    | null;
}

export type RunOutcome =
  | { status: "completed"; detail: string }
  | { status: "diverged"; detail: string }
  | { status: "interrupted"; detail: string }
  | { status: "failed"; detail: string; error: unknown };

/** What stopped the suite, for the interrupted run's record: the signal's name (SIGINT, SIGTERM) or the reason given. */
function stopCause(signal: AbortSignal | undefined): string {
  const r = signal?.reason;
  return typeof r === "string" ? r : "by request";
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

/** Mean gross power over the idle baseline, per component total, W. */
export function baselineWatts(report: EnergyReport): Partial<Record<Component, number>> {
  const out: Partial<Record<Component, number>> = {};
  const p = report.phases.find((x) => x.name === RUN_PHASE_NAMES.baseline);
  if (!p || p.durationS <= 0) return out;
  for (const t of p.totals) if (t.gross !== null) out[t.component] = t.gross / p.durationS;
  return out;
}

/** Cooldown by temperature (after the suite's first run), then the power settle wait. */
async function bringToIdle(rc: RunContext, run: PlannedRun, position: number): Promise<SettleResult | null> {
  const { spec, signal } = rc;
  if (rc.idleTempC !== null && spec.cooldown.maxSeconds > 0 && position > 1) {
    rc.progress.onPhase?.(run, "cooldown");
    const until = Date.now() + spec.cooldown.maxSeconds * 1000;
    const idle = rc.idleTempC;
    for (
      let t = rc.temperature();
      t !== null && t > idle + spec.cooldown.withinCelsius && Date.now() < until;
      t = rc.temperature()
    ) {
      if (signal?.aborted) break;
      await rc.sleep(1000);
    }
  }
  if (!rc.gpuPower) return null;
  rc.progress.onPhase?.(run, "settle");
  const clock = { now: () => monotonicMs(), sleep: rc.sleep };
  return waitForSettledPower(rc.gpuPower, rc.rules.settle, clock, signal);
}

export async function measureRun(
  rc: RunContext,
  run: PlannedRun,
  config: RunConfiguration,
  position: number,
): Promise<RunOutcome> {
  const { store, progress, ctx, spec, signal } = rc;
  const settle = await bringToIdle(rc, run, position);
  if (settle?.timedOut)
    progress.onNote?.(
      `run ${run.index + 1}: GPU power not settled after ${rc.rules.settle.timeoutSeconds} s (spread ${settle.spreadW?.toFixed(1)} W, slope ${settle.slopeWPerS?.toFixed(2)} W/s); baseline taken anyway`,
    );
  const runId = store.startRun(rc.suiteId, run, config, rc.env, rc.temperature());
  const t0 = monotonicMs();
  // Monotonic sample times to the wall clock the store's run times use (shared energy).
  const wallOffset = Date.now() - t0;
  const shareable: ShareableReadings = new Map();
  const pending: SampleRecord[] = [];
  let lastPowerAt = 0;
  const flush = () => {
    if (pending.length) store.addSamples(runId, pending.splice(0));
  };
  let sampler: Sampler | null = null;
  let release = () => {};
  // The run's own stop token: the suite's stop, or the divergence rule (which stops this run only).
  const runStop = new AbortController();
  const forwardStop = () => runStop.abort(signal?.reason);
  if (signal?.aborted) forwardStop();
  else signal?.addEventListener("abort", forwardStop, { once: true });
  let diverged: string | null = null;
  const epochsSoFar: EpochResult[] = [];
  const windowStart = Date.now();
  try {
    sampler = await Sampler.start({
      sources: rc.sources,
      hz: spec.telemetry.hz,
      baselinePhase: RUN_PHASE_NAMES.baseline,
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
          if (rc.apportion && !s.channel.startsWith("nvml:") && !s.channel.startsWith("nvidia-smi")) {
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
    progress.onPhase?.(run, RUN_PHASE_NAMES.baseline);
    await s.mark(RUN_PHASE_NAMES.baseline);
    await rc.sleep(rc.baselineSeconds * 1000);
    progress.onPhase?.(run, RUN_PHASE_NAMES.setup);
    await s.mark(RUN_PHASE_NAMES.setup);
    const trainConfig = trainConfigOf(spec, config, run.seed, rc.cacheDir);
    const acquired = await rc.data.acquire(config.batch);
    release = acquired.release;
    // Clocks up before the warm-up's timed steps too: timed at the idle clocks the baseline leaves,
    // two chunks can agree and still give a plan 2.8× too long (H200, 2026-12-04, run 13).
    const warmupRamp = await rampClocks(ctx, rc.rampSeconds);
    const warm = await warmUp(ctx, trainConfig, rc.data.dataset, acquired.splits, {
      timedSteps: rc.rules.warmupTimedSteps,
      minTimedSeconds: rc.warmupTimedSeconds,
    });
    let ramp: RampResult = { seconds: 0, dispatches: 0 };
    const result: TrainResult = await train(
      trainConfig,
      {
        signal: runStop.signal,
        onRunStart: async () => {
          // The model is built and initialised (host work, the GPU idle meanwhile): raise the
          // clocks again right before the mark (clock-ramp.ts), still in setup.
          ramp = await rampClocks(ctx, rc.rampSeconds);
          progress.onPhase?.(run, RUN_PHASE_NAMES.train);
          await s.mark(RUN_PHASE_NAMES.train);
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
          progress.onPhase?.(run, RUN_PHASE_NAMES.test);
          await s.mark(RUN_PHASE_NAMES.test);
        },
      },
      { ctx, dataset: rc.data.dataset, splits: acquired.splits },
    );
    const report = await s.stop();
    sampler = null;
    flush();
    for (const w of new Set(report.warnings)) progress.onNote?.(`run ${run.index + 1}: ${w}`);
    if (result.stopped && diverged === null) {
      store.failRun(runId, "interrupted", `stopped (${stopCause(signal)}) before the run finished`);
      return { status: "interrupted", detail: "stopped" };
    }
    const phases: PhaseRecord[] = report.phases.map((p) => ({
      name: p.name,
      startMs: p.startMs - t0,
      endMs: p.endMs - t0,
    }));
    let energy = energyRecords(report);
    if (rc.apportion) {
      const windows = report.phases.map((p) => ({
        name: p.name,
        startMs: p.startMs + wallOffset,
        endMs: p.endMs + wallOffset,
      }));
      energy = rc.apportion(energy, shareable, windows, { startMs: windowStart, endMs: Date.now() }, runId);
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
    const planned = plannedDuration(config, rc.data.dataset.train.count, warm.secondsPerStep).trainSeconds;
    const measurement: RunMeasurement = {
      baselineW: baselineWatts(report),
      settle: settle
        ? {
            settled: settle.settled,
            timedOut: settle.timedOut,
            seconds: settle.seconds,
            spreadW: settle.spreadW,
            slopeWPerS: settle.slopeWPerS,
          }
        : null,
      upload: { paidBy: acquired.upload, seconds: acquired.uploadSeconds, bytes: acquired.uploadBytes },
      warmup: { steps: warm.steps, seconds: warm.seconds, secondsPerStep: warm.secondsPerStep },
      ramp,
      warmupRamp,
      plannedTrainSeconds: planned,
      planCheck: planCheck(planned, trainPhaseSeconds(phases), rc.rules.planFactor, rc.rules.planMinSeconds),
      epochCheck: epochCheck(result.epochs, rc.rules.phaseTolerance),
    };
    store.setRunMeasurement(runId, measurement);
    const plan = measurement.planCheck;
    if (plan && !plan.ok)
      progress.onNote?.(
        `run ${run.index + 1}: its train phase took ${plan.trainS.toFixed(1)} s, ${plan.ratio.toFixed(2)}× its plan of ≈ ${plan.plannedS.toFixed(1)} s (from the warm-up's step time), past a factor of ${rc.rules.planFactor} either way: the warm-up was timed in an unsteady state`,
      );
    if (measurement.epochCheck && !measurement.epochCheck.ok)
      progress.onNote?.(
        `run ${run.index + 1}: epoch 1 took ${measurement.epochCheck.firstS.toFixed(3)} s vs the median epoch's ${measurement.epochCheck.medianS.toFixed(3)} s (${(100 * measurement.epochCheck.deviation).toFixed(0)} % off, past ${100 * rc.rules.phaseTolerance} %)`,
      );
    const gpu = report.phases
      .find((p) => p.name === RUN_PHASE_NAMES.train)
      ?.totals.find((t) => t.component === "gpu");
    if (diverged !== null) return { status: "diverged", detail: `diverged, stopped early: ${diverged}` };
    return {
      status: "completed",
      detail: `test acc ${result.test ? (100 * result.test.accuracy).toFixed(1) : "n/a"} %${gpu?.gross != null ? `, GPU ${(gpu.gross / 1000).toFixed(2)} kJ` : ""}`,
    };
  } catch (e) {
    if (sampler) await sampler.abort().catch(() => {});
    flush();
    const message = e instanceof Error ? e.message : String(e);
    store.failRun(
      runId,
      signal?.aborted ? "interrupted" : "failed",
      signal?.aborted ? `stopped (${stopCause(signal)}): ${message}` : message,
    );
    if (signal?.aborted) return { status: "interrupted", detail: message };
    return { status: "failed", detail: message, error: e };
  } finally {
    signal?.removeEventListener("abort", forwardStop);
    release();
  }
}
