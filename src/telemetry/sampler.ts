// The sampler: polls telemetry sources in a worker thread and charges their energy to phases
// the caller marks (idle-baseline, warmup, epoch N, eval, cooldown, ...).
//
//   const s = await Sampler.start({ sources: planSources().specs, drain: () => device.queue.onSubmittedWorkDone() });
//   await s.mark("idle-baseline"); ...; await s.mark("epoch 1"); ...; const report = await s.stop();
//
// Each mark first awaits `drain` so GPU work queued in one phase is finished (and charged to it)
// before the next begins. Marks and samples share the monotonic clock of clock.ts.
import { Worker } from "node:worker_threads";
import { monotonicMs } from "./clock.js";
import { TelemetryError, TelemetryInputError } from "./errors.js";
import { EnergyLedger, type EnergyReport } from "./ledger.js";
import type { Batch, FromWorker, SamplerWorkerData, ToWorker } from "./protocol.js";
import type { SourceSpec } from "./sources.js";
import type { ChannelInfo, Sample } from "./types.js";

export type Drain = () => unknown;

export interface SamplerOptions {
  sources: SourceSpec[];
  /** Samples per second (default 10; at most 100, NVML power's useful limit). */
  hz?: number;
  /** Counter reads per second (default min(hz, 10)); counters are also read at every mark. */
  counterHz?: number;
  /** How often the worker hands over a batch (default 250 ms). */
  flushMs?: number;
  /** Ring buffer size in samples (default 100 000). */
  capacity?: number;
  /** Awaited before every mark and stop, e.g. () => device.queue.onSubmittedWorkDone(). */
  drain?: Drain;
  /** The phase whose mean power is subtracted for net energy (default "idle-baseline"). */
  baselinePhase?: string;
  /** Counter vs integrated-power warning threshold (default 0.05). */
  agreementTolerance?: number;
  /** Every batch of raw samples, for consumers that keep traces. */
  onSamples?: (samples: readonly Sample[]) => void;
}

export const MAX_HZ = 100;

/** The worker's entry: compiled .js next to this file, or (running .ts under vitest) via the TS bootstrap. */
function spawnWorker(data: SamplerWorkerData): Worker {
  if (import.meta.url.endsWith(".ts")) {
    const entry = new URL("./sampler-worker.ts", import.meta.url).href;
    return new Worker(new URL("./ts-worker-bootstrap.mjs", import.meta.url), {
      workerData: { ...data, __entry: entry },
    });
  }
  return new Worker(new URL("./sampler-worker.js", import.meta.url), { workerData: data });
}

export class Sampler {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (b: Batch) => void; reject: (e: Error) => void }>();
  private failure: Error | null = null;
  private stopped = false;
  private stopping = false;
  private dropped = 0;
  readonly ledger: EnergyLedger;

  private constructor(
    private readonly worker: Worker,
    readonly channels: ChannelInfo[],
    /** Sources that could not be started, and why. */
    readonly failed: { source: string; reason: string }[],
    private readonly options: SamplerOptions,
  ) {
    this.ledger = new EnergyLedger(channels, {
      baselinePhase: options.baselinePhase,
      agreementTolerance: options.agreementTolerance,
    });
    for (const f of failed) this.ledger.warn(`source ${f.source} unavailable: ${f.reason}`);
  }

  static async start(options: SamplerOptions): Promise<Sampler> {
    const hz = options.hz ?? 10;
    if (!(hz > 0 && hz <= MAX_HZ))
      throw new TelemetryInputError(`sampling rate ${hz} Hz must be in (0, ${MAX_HZ}]`);
    const data: SamplerWorkerData = {
      specs: options.sources,
      hz,
      counterHz: Math.min(hz, options.counterHz ?? 10),
      flushMs: options.flushMs ?? 250,
      capacity: options.capacity ?? 100_000,
    };
    const worker = spawnWorker(data);
    const ready = await new Promise<Extract<FromWorker, { type: "ready" }>>((resolve, reject) => {
      const onMessage = (m: FromWorker) => {
        if (m.type === "ready") {
          worker.off("message", onMessage);
          resolve(m);
        } else if (m.type === "fatal")
          reject(new TelemetryError(`telemetry sampler failed to start: ${m.message}`));
      };
      worker.on("message", onMessage);
      worker.once("error", (e) =>
        reject(new TelemetryError(`telemetry sampler failed to start: ${e.message}`, { cause: e })),
      );
      worker.once("exit", (code) =>
        reject(new TelemetryError(`telemetry sampler exited (${code}) before it was ready`)),
      );
    });
    worker.removeAllListeners("error");
    worker.removeAllListeners("exit");
    const sampler = new Sampler(worker, ready.channels, ready.failed, options);
    sampler.listen();
    return sampler;
  }

  private listen(): void {
    this.worker.on("message", (m: FromWorker) => {
      if (m.type === "batch") {
        this.take(m);
        this.send({ type: "ack" });
      } else if (m.type === "reply") {
        this.take(m);
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        p?.resolve(m);
      } else if (m.type === "fatal") this.fail(new TelemetryError(`telemetry sampler failed: ${m.message}`));
    });
    this.worker.on("error", (e) =>
      this.fail(new TelemetryError(`telemetry sampler failed: ${e.message}`, { cause: e })),
    );
    this.worker.on("exit", (code) => {
      if (!this.stopping) this.fail(new TelemetryError(`telemetry sampler exited unexpectedly (${code})`));
    });
  }

  private take(b: Batch): void {
    this.ledger.add(b.samples);
    for (const e of b.errors) this.ledger.warn(`source read failed: ${e}`);
    this.dropped = b.dropped;
    if (b.samples.length) this.options.onSamples?.(b.samples);
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private send(m: ToWorker): void {
    this.worker.postMessage(m);
  }

  private request(type: "mark" | "stop"): Promise<Batch> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<Batch>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send({ type, id });
    });
  }

  /**
   * Starts phase `name` (ending the previous one): awaits drain, stamps the boundary, then has
   * the worker read every counter at once so the boundary is bracketed closely.
   */
  async mark(name: string, drain: Drain | undefined = this.options.drain): Promise<void> {
    if (this.stopped) throw new TelemetryError(`sampler already stopped; cannot mark "${name}"`);
    await drain?.();
    this.ledger.mark(name, monotonicMs(), Date.now());
    await this.request("mark");
  }

  /** Ends the last phase, stops the worker and returns energy per phase. */
  async stop(drain: Drain | undefined = this.options.drain): Promise<EnergyReport> {
    if (this.stopped) throw new TelemetryError("sampler already stopped");
    await drain?.();
    this.ledger.end(monotonicMs());
    this.stopping = true;
    try {
      await this.request("stop");
    } finally {
      this.stopped = true;
      await this.worker.terminate();
    }
    if (this.dropped) this.ledger.warn(`${this.dropped} samples were dropped by the full ring buffer`);
    return this.ledger.report();
  }

  /** Stops without a report (error paths). */
  async abort(): Promise<void> {
    this.stopping = this.stopped = true;
    await this.worker.terminate();
  }
}
