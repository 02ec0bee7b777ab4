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
import type { TrainConfig, TrainResult } from "../model/trainer.js";
import { train } from "../model/trainer.js";
import { monotonicMs } from "../telemetry/clock.js";
import type { EnergyReport } from "../telemetry/ledger.js";
import { openNvml } from "../telemetry/nvml.js";
import { Sampler } from "../telemetry/sampler.js";
import { type PlanOptions, planSources } from "../telemetry/sources.js";
import type { Sample } from "../telemetry/types.js";
import { resolveIntensity } from "./carbon.js";
import { SuiteError } from "./errors.js";
import type {
  EnergyRecord,
  PhaseRecord,
  PlannedRun,
  ResultStore,
  RunConfiguration,
  RunEnvironment,
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
  onEpoch?(run: PlannedRun, epoch: number, of: number): void;
  /** Instantaneous total power (W) of the measured channels, about once a second. */
  onPower?(watts: number): void;
  onRunEnd?(run: PlannedRun, status: "completed" | "interrupted" | "failed", detail: string): void;
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
}

export interface SuiteRunSummary {
  suiteId: number;
  completed: number;
  interrupted: number;
  failed: number;
  skipped: number;
  stopped: boolean;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function gpuTemperature(): number | null {
  const nvml = openNvml();
  if (!nvml.available) return null;
  const t = nvml.binding.snapshot(0).temperatureC;
  return typeof t === "number" ? t : null;
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
  const { store, progress = {} } = opts;
  const sleep = opts.sleep ?? defaultSleep;
  const suite = store.openSuite(spec, plan);
  const recovered = store.recoverInterrupted(suite.id);
  if (recovered)
    progress.onNote?.(`${recovered} run(s) left running by an earlier process marked interrupted`);
  const blocks = opts.blocks;
  const scope = blocks ? plan.filter((r) => blocks.includes(r.block)) : plan;
  const inScope = new Set(scope.map((r) => r.index));
  const done = new Set([...store.completedIndices(suite.id)].filter((i) => inScope.has(i)));
  // A finished suite is not an error: the caller re-writes its report.
  if (done.size && done.size < scope.length && !opts.resume)
    throw new SuiteError(
      `the store already holds suite "${spec.name}" with ${done.size} completed run(s): pass --resume to finish it, or choose another --out`,
    );
  const configs = new Map(spec.configurations.map((c) => [c.id, c]));
  const todo = scope.filter((r) => !done.has(r.index));
  const summary: SuiteRunSummary = {
    suiteId: suite.id,
    completed: 0,
    interrupted: 0,
    failed: 0,
    skipped: done.size,
    stopped: false,
  };
  if (!todo.length) return summary;

  const dataset =
    opts.dataset ?? (await loadDataset(spec.data, { imageSize: spec.imageSize, cacheDir: opts.cacheDir }));
  const ctx = opts.ctx ?? (await openDevice());
  const sources = planSources(opts.telemetry ?? {});
  const nvml = openNvml();
  const onGpu = nvml.available;
  for (const u of sources.unavailable) {
    const note = `${u.source} not used: ${u.reason}`;
    if (!suite.notes.includes(note)) store.addSuiteNote(suite.id, note);
  }
  const baselineS = spec.baselineSeconds ?? (onGpu ? 30 : 3);
  let idleTemp = suite.idleTempC;
  if (idleTemp === null) {
    idleTemp = gpuTemperature();
    if (idleTemp !== null) store.setIdleTemp(suite.id, idleTemp);
  }
  const env: RunEnvironment = {
    adapter: ctx.adapterName,
    driver: nvml.available ? (nvml.load.driverVersion ?? null) : null,
    hostname: hostname(),
    versions: packageVersions(),
  };
  progress.onStart?.({
    suiteId: suite.id,
    total: scope.length,
    done: done.size,
    adapter: ctx.adapterName,
    sources: sources.specs.map((s) => s.kind),
    unavailable: sources.unavailable.map((u) => `${u.source}: ${u.reason}`),
  });

  try {
    let position = done.size;
    for (const run of todo) {
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
          let t = gpuTemperature();
          t !== null && t > idleTemp + spec.cooldown.withinCelsius && Date.now() < until;
          t = gpuTemperature()
        ) {
          if (opts.signal?.aborted) break;
          await sleep(1000);
        }
      }
      const tempBefore = gpuTemperature();
      const runId = store.startRun(suite.id, run, config, env, tempBefore);
      const t0 = monotonicMs();
      const pending: SampleRecord[] = [];
      let lastPowerAt = 0;
      const flush = () => {
        if (pending.length) store.addSamples(runId, pending.splice(0));
      };
      let sampler: Sampler | null = null;
      let completedDetail: string | null = null;
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
            signal: opts.signal,
            onRunStart: async () => {
              progress.onPhase?.(run, RUN_PHASES.train);
              await s.mark(RUN_PHASES.train);
            },
            onEpochEnd: (e) => {
              store.addEpoch(runId, e);
              progress.onEpoch?.(run, e.epoch, config.epochs);
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
        if (result.stopped) {
          store.failRun(runId, "interrupted", "stopped by the user (SIGINT) before the run finished");
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
        const carbon = resolveIntensity(spec.carbon, { startMs: windowStart, endMs: Date.now() });
        store.finishRun(runId, {
          seconds: result.seconds,
          test: result.test,
          lossScale: result.lossScale,
          kernels: result.kernels,
          phases,
          energy: energyRecords(report),
          carbon,
        });
        summary.completed++;
        const gpu = report.phases
          .find((p) => p.name === RUN_PHASES.train)
          ?.totals.find((t) => t.component === "gpu");
        completedDetail = `test acc ${result.test ? (100 * result.test.accuracy).toFixed(1) : "n/a"} %${gpu?.gross != null ? `, GPU ${(gpu.gross / 1000).toFixed(2)} kJ` : ""}`;
      } catch (e) {
        if (sampler) await sampler.abort().catch(() => {});
        flush();
        const message = e instanceof Error ? e.message : String(e);
        store.failRun(runId, opts.signal?.aborted ? "interrupted" : "failed", message);
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
      }
      // Outside the try: a progress callback that throws must not turn a stored run into a failed one.
      if (completedDetail !== null) progress.onRunEnd?.(run, "completed", completedDetail);
    }
  } finally {
    if (!opts.dataset) dataset.close();
  }
  return summary;
}
