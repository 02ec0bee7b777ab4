// A suite on several GPUs of one host: one worker process per GPU, all writing the one store.
//
// The parent opens the suite (checking the spec, recovering runs a crash left `running`, refusing
// a half-done suite without --resume), warms the dataset cache, and starts a worker per GPU with
// the environment that binds it to that GPU (gpus.ts: DRI_PRIME for Mesa's device-select layer).
// Each worker joins the parent's store lock (store.ts, OpenStoreOptions.join), claims whole blocks
// (replicates) of the plan one at a time in an SQLite transaction, and runs them with the runner
// (runner.ts, SuiteRunOptions.worker): its sampler reads its own GPU, and the CPU/RAM energy of its
// runs is apportioned among the runs in flight on the host (shared-energy.ts). Whole blocks keep
// every configuration of a replicate on one GPU, so the device is a blocking factor of the design.
//
// Messages: the parent sends one `start` (what to run) and, on Ctrl-C or SIGTERM, `stop` (with its
// cause); a worker sends its progress events, then `done` with its summary (or `error`). A worker
// whose channel to the parent closes stops as on Ctrl-C: it never writes on without the process
// that holds the store's lock.
// A worker that dies leaves its run `running`: the parent marks it failed (or interrupted, when
// stopping) and the others go on; `--resume` runs it again, with the blocks no one finished.
import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { loadDataset } from "../data/index.js";
import { type BindEnv, GPU_BOUND_ENV, type PhysicalGpu, withBindEnv } from "../gpu/gpus.js";
import type { PlanOptions } from "../telemetry/sources.js";
import { SuiteError } from "./errors.js";
import { SHARED_PROVENANCE } from "./provenance.js";
import {
  emptySummary,
  type RunEndStatus,
  refuseUnfinishedWithoutResume,
  runSuite,
  type SuiteProgress,
  type SuiteRunSummary,
} from "./runner.js";
import { openStore, type SqliteResultStore } from "./store.js";
import type { PlannedRun, RunConfiguration, RunGpu, SuiteSpec } from "./types.js";

/** What the parent tells a worker to do. */
export interface WorkerStart {
  type: "start";
  spec: SuiteSpec;
  plan: PlannedRun[];
  storePath: string;
  lockToken: string;
  session: string;
  worker: number;
  gpu: RunGpu | null;
  nvmlIndex: number | null;
  cacheDir?: string;
  telemetry?: PlanOptions;
}

/** What a worker tells its parent. */
export type WorkerEvent =
  | { type: "ready"; adapter: string; sources: string[]; unavailable: string[] }
  | { type: "run-start"; run: PlannedRun; config: RunConfiguration }
  | { type: "phase"; run: PlannedRun; phase: string }
  | { type: "epoch"; run: PlannedRun; epoch: number; of: number }
  | { type: "run-end"; run: PlannedRun; status: RunEndStatus; detail: string }
  | { type: "note"; note: string }
  | { type: "done"; summary: SuiteRunSummary }
  | { type: "error"; code: string; message: string };

/** Events of a suite on several GPUs, each with the GPU it happened on (null: the parent). */
export interface MultiGpuProgress {
  onStart?(info: { suiteId: number; total: number; done: number; gpus: PhysicalGpu[] }): void;
  onEvent?(gpu: PhysicalGpu, worker: number, event: WorkerEvent): void;
  onNote?(gpu: PhysicalGpu | null, note: string): void;
  /** A worker ended without its `done` (killed, crashed): its running run was marked so. */
  onWorkerLost?(gpu: PhysicalGpu, worker: number, why: string, runsMarked: number): void;
}

export interface MultiGpuOptions {
  store: SqliteResultStore;
  gpus: PhysicalGpu[];
  resume?: boolean;
  signal?: AbortSignal;
  cacheDir?: string;
  telemetry?: PlanOptions;
  progress?: MultiGpuProgress;
  /**
   * Starts worker `worker` for `gpu` with `env` (the parent's environment bound to that GPU): the
   * CLI runs itself (`halfwatt suite … --worker N`) with an IPC channel, which the worker end
   * serves with runWorker(). The library does not know the CLI's path, hence this callback.
   */
  launch(worker: number, gpu: PhysicalGpu, env: NodeJS.ProcessEnv): ChildProcess;
}

export interface MultiGpuSummary extends SuiteRunSummary {
  /** Per worker: its GPU, its own summary (null when it died), and why it ended early if it did. */
  workers: { worker: number; gpu: number; summary: SuiteRunSummary | null; lost: string | null }[];
}

/** The GPU a worker records in its runs' env.gpu. */
export function runGpuOf(gpu: PhysicalGpu): RunGpu {
  return { index: gpu.index, pciBusId: gpu.pciBusId ?? gpu.pci, uuid: gpu.uuid, name: gpu.name };
}

/** A worker's environment: the parent's, bound to its GPU, without a conflicting adapter choice. */
export function workerEnv(base: NodeJS.ProcessEnv, gpu: PhysicalGpu): NodeJS.ProcessEnv {
  const bind: BindEnv = {
    ...(gpu.bindEnv ?? {}),
    HALFWATT_ADAPTER: undefined,
    [GPU_BOUND_ENV]: String(gpu.index),
  };
  return withBindEnv(base, bind);
}

export const OVERLAP_NOTE =
  "runs ran on several GPUs at once, one worker process per GPU: each run's GPU energy is its own GPU's, " +
  `while the CPU, RAM and wall-meter energy of runs that overlapped is apportioned among the runs in flight (provenance "${SHARED_PROVENANCE}"); ` +
  "an idle baseline measured while other workers were busy includes their CPU load, so its CPU part is not idle (the GPU part is its own GPU's idle)";

/** The parent's stop cause as the worker records it: "SIGTERM via the suite's parent process". */
function stopReason(signal: AbortSignal | undefined): string {
  const r = signal?.reason;
  return `${typeof r === "string" ? r : "a stop"} via the suite's parent process`;
}

/** Runs the suite with one worker process per GPU (see the file comment). */
export async function runSuiteOnGpus(
  spec: SuiteSpec,
  plan: PlannedRun[],
  opts: MultiGpuOptions,
): Promise<MultiGpuSummary> {
  const { store, gpus, progress = {} } = opts;
  if (!gpus.length) throw new SuiteError("no GPU to run the suite on");
  if (store.lockToken === null)
    throw new SuiteError(`the results store ${store.path} was opened read-only: workers cannot join it`);
  const suite = store.openSuite(spec, plan);
  const recovered = store.recoverInterrupted(suite.id);
  if (recovered)
    progress.onNote?.(null, `${recovered} run(s) left running by an earlier process marked interrupted`);
  const done = store.completedIndices(suite.id);
  refuseUnfinishedWithoutResume(spec, done.size, plan.length, opts.resume);
  const summary: MultiGpuSummary = { ...emptySummary(suite.id, done.size), workers: [] };
  if (done.size >= plan.length) return summary;
  // Decode the dataset once here, so the workers find it in the cache instead of decoding it each.
  (await loadDataset(spec.data, { imageSize: spec.imageSize, cacheDir: opts.cacheDir })).close();
  if (gpus.length > 1 && !suite.notes.includes(OVERLAP_NOTE)) store.addSuiteNote(suite.id, OVERLAP_NOTE);
  progress.onStart?.({ suiteId: suite.id, total: plan.length, done: done.size, gpus });

  const session = randomUUID();
  const live = new Set<ChildProcess>();
  // The stop carries its cause (SIGINT, SIGTERM), which the worker records in its interrupted run.
  const stopMessage = () => ({ type: "stop", reason: stopReason(opts.signal) });
  const stopAll = () => {
    for (const child of live) if (child.connected) child.send(stopMessage());
  };
  opts.signal?.addEventListener("abort", stopAll, { once: true });
  try {
    const ends = gpus.map(
      (gpu, worker) =>
        new Promise<void>((resolve) => {
          const child = opts.launch(worker, gpu, workerEnv(process.env, gpu));
          live.add(child);
          let result: SuiteRunSummary | null = null;
          let failure: string | null = null;
          child.on("message", (m: WorkerEvent) => {
            if (m.type === "done") result = m.summary;
            else if (m.type === "error") failure = m.message;
            progress.onEvent?.(gpu, worker, m);
          });
          let ended = false;
          const end = (why: string | null) => {
            if (ended) return;
            ended = true;
            live.delete(child);
            let lost = result ? null : (failure ?? why ?? "it ended without a summary");
            if (result) {
              summary.completed += result.completed;
              summary.interrupted += result.interrupted;
              summary.failed += result.failed;
              summary.diverged += result.diverged ?? 0;
              if (result.stopped) summary.stopped = true;
            }
            if (lost !== null) {
              // Its run in progress, if any, is left `running`: mark it, so the others' shares and a resume see it ended.
              const status = opts.signal?.aborted ? "interrupted" : "failed";
              let marked = 0;
              try {
                marked = store.failWorkerRuns(
                  suite.id,
                  worker,
                  status,
                  `worker ${worker} (GPU ${gpu.index}) ended: ${lost}`,
                );
              } catch (e) {
                lost += `; its running run could not be marked: ${(e as Error).message}`;
              }
              if (status === "interrupted") summary.interrupted += marked;
              else summary.failed += marked;
              if (opts.signal?.aborted) summary.stopped = true;
              progress.onWorkerLost?.(gpu, worker, lost, marked);
            }
            summary.workers.push({ worker, gpu: gpu.index, summary: result, lost });
            resolve();
          };
          child.on("error", (e) => end(`could not be started: ${e.message}`));
          child.on("exit", (code, signal) =>
            end(signal ? `killed by ${signal}` : code ? `exit status ${code}` : null),
          );
          const start: WorkerStart = {
            type: "start",
            spec,
            plan,
            storePath: store.path,
            lockToken: store.lockToken as string,
            session,
            worker,
            gpu: runGpuOf(gpu),
            nvmlIndex: gpu.nvmlIndex,
            ...(opts.cacheDir !== undefined ? { cacheDir: opts.cacheDir } : {}),
            ...(opts.telemetry !== undefined ? { telemetry: opts.telemetry } : {}),
          };
          if (child.connected) child.send(start);
          if (opts.signal?.aborted) child.connected && child.send(stopMessage());
        }),
    );
    await Promise.all(ends);
  } finally {
    opts.signal?.removeEventListener("abort", stopAll);
  }
  summary.workers.sort((a, b) => a.worker - b.worker);
  return summary;
}

/** The worker's side: runs what `start` says, reporting through `send`; resolves with its summary. */
export async function runWorker(
  start: WorkerStart,
  send: (event: WorkerEvent) => void,
  signal: AbortSignal,
): Promise<SuiteRunSummary> {
  const store = openStore(start.storePath, { join: start.lockToken });
  try {
    const progress: SuiteProgress = {
      onStart: (i) =>
        send({ type: "ready", adapter: i.adapter, sources: i.sources, unavailable: i.unavailable }),
      onRunStart: (run, config) => send({ type: "run-start", run, config }),
      onPhase: (run, phase) => send({ type: "phase", run, phase }),
      onEpoch: (run, epoch, of) => send({ type: "epoch", run, epoch, of }),
      onRunEnd: (run, status, detail) => send({ type: "run-end", run, status, detail }),
      onNote: (note) => send({ type: "note", note }),
    };
    return await runSuite(start.spec, start.plan, {
      store,
      resume: true,
      signal,
      progress,
      cacheDir: start.cacheDir,
      telemetry: start.telemetry,
      worker: {
        index: start.worker,
        gpu: start.gpu,
        nvmlIndex: start.nvmlIndex,
        session: start.session,
        store,
      },
    });
  } finally {
    store.close();
  }
}
