// The sampler's worker thread: polls every source on a fixed schedule, stamps each reading on
// the process-wide monotonic clock, keeps them in a bounded ring buffer and hands them to the
// main thread in batches. Running here keeps slow reads (NVML's ~4 ms energy read, HTTP plugs)
// off the thread that drives the GPU.
import { parentPort, workerData } from "node:worker_threads";
import { monotonicMs } from "./clock.js";
import { TelemetryError } from "./errors.js";
import type { Batch, FromWorker, SamplerWorkerData, ToWorker } from "./protocol.js";
import { RingBuffer } from "./ring-buffer.js";
import { createSource } from "./sources.js";
import type { Sample, TelemetrySource } from "./types.js";

interface Polled {
  source: TelemetrySource;
  busy: boolean;
  lastReadT: number;
}

if (!parentPort) throw new TelemetryError("sampler-worker.ts runs only as a worker thread");
const port = parentPort;
const post = (m: FromWorker) => port.postMessage(m);

async function main(data: SamplerWorkerData): Promise<void> {
  const polled: Polled[] = [];
  const failed: { source: string; reason: string }[] = [];
  for (const spec of data.specs) {
    try {
      polled.push({ source: await createSource(spec), busy: false, lastReadT: Number.NEGATIVE_INFINITY });
    } catch (e) {
      failed.push({ source: spec.kind, reason: (e as Error).message });
    }
  }
  const ring = new RingBuffer<Sample>(data.capacity);
  const seenErrors = new Set<string>();
  let newErrors: string[] = [];

  async function readOne(p: Polled, counters: boolean, force: boolean): Promise<void> {
    const now = monotonicMs();
    // `force` (marks, start, stop) bypasses the rate limit only for sources without one: a slow
    // HTTP plug has no counter to bracket, so it is not worth holding a phase mark for.
    const limit = p.source.minIntervalMs ?? 0;
    if (p.busy || ((!force || limit > 0) && now - p.lastReadT < limit)) return;
    p.busy = true;
    p.lastReadT = now;
    try {
      const before = monotonicMs();
      const readings = await p.source.read({ counters });
      const mid = (before + monotonicMs()) / 2;
      for (const r of readings) ring.push({ ...r, t: r.t ?? mid });
    } catch (e) {
      const msg = `${p.source.name}: ${(e as Error).message}`;
      if (!seenErrors.has(msg)) {
        seenErrors.add(msg);
        newErrors.push(msg);
      }
    } finally {
      p.busy = false;
    }
  }
  const readAll = (counters: boolean, force: boolean) =>
    Promise.all(polled.map((p) => readOne(p, counters, force)));
  const batch = (): Batch => {
    const b = { samples: ring.drain(), dropped: ring.dropped, errors: newErrors };
    newErrors = [];
    return b;
  };

  // A first full reading before "ready", so the first phase mark is bracketed by counter values.
  await readAll(true, true);
  post({ type: "ready", channels: polled.flatMap((p) => p.source.channels), failed });

  const periodMs = 1000 / data.hz;
  const counterEvery = Math.max(1, Math.round(data.hz / data.counterHz));
  const start = monotonicMs();
  let tick = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    // Fixed schedule from `start`, skipping ticks that were missed rather than bunching them.
    tick = Math.max(tick + 1, Math.ceil((monotonicMs() - start) / periodMs));
    timer = setTimeout(run, Math.max(0, start + tick * periodMs - monotonicMs()));
  };
  const run = async () => {
    if (stopped) return;
    await readAll(tick % counterEvery === 0, false);
    if (!stopped) schedule();
  };
  schedule();

  // Periodic flushes wait for the main thread's ack, so a busy main thread leaves samples in the
  // bounded ring rather than piling up unbounded in the message queue.
  let awaitingAck = false;
  const flusher = setInterval(() => {
    if (!awaitingAck && (ring.length || newErrors.length)) {
      awaitingAck = true;
      post({ type: "batch", ...batch() });
    }
  }, data.flushMs);

  port.on("message", async (m: ToWorker) => {
    if (m.type === "ack") awaitingAck = false;
    else if (m.type === "mark") {
      await readAll(true, true);
      post({ type: "reply", id: m.id, ...batch() });
    } else if (m.type === "stop") {
      stopped = true;
      clearTimeout(timer);
      clearInterval(flusher);
      await readAll(true, true);
      for (const p of polled) await p.source.close?.();
      post({ type: "reply", id: m.id, ...batch() });
      port.close();
    }
  });
}

main(workerData as SamplerWorkerData).catch((e: unknown) =>
  post({ type: "fatal", message: String((e as Error)?.stack ?? e) }),
);
