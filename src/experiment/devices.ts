// `suite … --devices all|0,2` as a library: the suite on several GPUs of this host, one worker
// process per GPU (the protocol and the parent's bookkeeping: workers.ts). This file is the
// orchestration around it: choosing the GPUs before anything is written, opening the store, and
// the worker process's side (serveWorker: the parent's `start`, its `stop`, its going away, and
// SIGINT/SIGTERM, all stop after the current step). How a worker is started (this CLI in its
// hidden worker mode) and how its output is shown stay the command line's (src/cli/suite-workers.ts).
import type { ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { HalfwattError } from "../errors.js";
import { discoverGpus, type PhysicalGpu, selectGpus } from "../gpu/gpus.js";
import type { PlanOptions } from "../telemetry/sources.js";
import { handleStopSignals } from "./stop-signals.js";
import { openStore } from "./store.js";
import type { PlannedRun, SuiteSpec } from "./types.js";
import {
  type MultiGpuProgress,
  type MultiGpuSummary,
  runSuiteOnGpus,
  runWorker,
  type WorkerEvent,
  type WorkerStart,
} from "./workers.js";

export interface DevicesRunOptions {
  /** "all" or GPU indices ("0,2"), as `halfwatt devices` numbers them. */
  devices: string;
  /** The folder of results.sqlite (created if needed). */
  out: string;
  resume?: boolean;
  cacheDir?: string;
  telemetry: PlanOptions;
  signal?: AbortSignal;
  /** Notes of the GPU discovery (how the GPUs were found), before the suite starts. */
  onDiscoveryNote?(note: string): void;
  progress?: MultiGpuProgress;
  /** Starts worker `worker` for `gpu` (MultiGpuOptions.launch); `out` is the absolute results folder. */
  launch(worker: number, gpu: PhysicalGpu, env: NodeJS.ProcessEnv, out: string): ChildProcess;
}

export interface DevicesRun {
  summary: MultiGpuSummary;
  /** The results store written (absolute). */
  storePath: string;
  gpus: PhysicalGpu[];
}

/** Chooses the GPUs, runs one worker per GPU into OUT/results.sqlite, closes the store (lock released). */
export async function runSuiteOnDevices(
  spec: SuiteSpec,
  plan: PlannedRun[],
  o: DevicesRunOptions,
): Promise<DevicesRun> {
  if (process.env.HALFWATT_ADAPTER)
    throw new HalfwattError(
      "E_USAGE",
      "--devices chooses the GPUs itself: leave out --adapter (and HALFWATT_ADAPTER)",
    );
  // Before anything is written: a GPU that cannot be bound is refused here.
  const discovery = await discoverGpus();
  const gpus = selectGpus(discovery, o.devices);
  const out = resolve(o.out);
  mkdirSync(out, { recursive: true });
  const storePath = join(out, "results.sqlite");
  const store = openStore(storePath, { wait: false });
  try {
    for (const n of discovery.notes) o.onDiscoveryNote?.(n);
    const summary = await runSuiteOnGpus(spec, plan, {
      store,
      gpus,
      resume: o.resume,
      signal: o.signal,
      cacheDir: o.cacheDir,
      telemetry: o.telemetry,
      progress: o.progress,
      launch: (worker, gpu, env) => o.launch(worker, gpu, env, out),
    });
    return { summary, storePath, gpus };
  } finally {
    store.close();
  }
}

/**
 * The hidden worker mode (`suite … --worker N`): waits for the parent's `start`, runs it, reports
 * every event over the IPC channel; resolves with the exit status (0, or 128 + the signal that
 * stopped it, 130 when the parent's `stop` or its going away did). Ctrl-C (the terminal's SIGINT
 * reaches the whole process group), SIGTERM (Slurm signals every process of the step), the
 * parent's `stop`, or the parent going away all stop it after the current step.
 */
export async function serveWorker(): Promise<number> {
  const send = process.send?.bind(process);
  if (!send)
    throw new HalfwattError(
      "E_USAGE",
      "--worker is internal: halfwatt suite --devices starts its workers itself",
    );
  const stops = handleStopSignals();
  const onDisconnect = () => stops.stop("the suite's parent process went away");
  process.on("disconnect", onDisconnect);
  const onStopMessage = (m: { type?: string; reason?: string }) => {
    if (m?.type === "stop") stops.stop(m.reason ?? "a stop via the suite's parent process");
  };
  try {
    const start = await new Promise<WorkerStart>((resolveStart, reject) => {
      const onMessage = (m: { type?: string }) => {
        if (m?.type === "start") {
          process.off("message", onMessage);
          resolveStart(m as WorkerStart);
        } else if (m?.type === "stop") reject(new HalfwattError("E_RUNTIME", "stopped before it started"));
      };
      process.on("message", onMessage);
    });
    process.on("message", onStopMessage);
    const post = (e: WorkerEvent) =>
      new Promise<void>((done) => {
        if (!process.connected) return done();
        send(e, undefined, {}, () => done());
      });
    try {
      const summary = await runWorker(start, (e) => void post(e), stops.signal);
      await post({ type: "done", summary });
      return summary.stopped ? (stops.exitCode() ?? 130) : 0;
    } catch (e) {
      const err = e as HalfwattError;
      await post({ type: "error", code: err.code ?? "E_RUNTIME", message: err.message ?? String(e) });
      throw e;
    }
  } finally {
    stops.dispose();
    process.off("disconnect", onDisconnect);
    process.removeAllListeners("message");
    // The IPC channel would keep the process alive.
    if (process.connected) process.disconnect();
  }
}
