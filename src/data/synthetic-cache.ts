// The synthetic set straight into the decoded-pixel cache: no PNG encode or decode. Each image is
// drawn from its own seeded stream (synthetic.ts), so batches can be drawn on worker threads in any
// order; they are written in cache order (by class, then index — the order the PNG folder used to
// load in, so a seed gives the same bytes as before). Sets of 64 MiB or more are drawn on
// `concurrency` worker threads, smaller ones on the calling thread (a worker costs more to start
// than a small set costs to draw).
import type { Worker } from "node:worker_threads";
import { LOADER_VERSION, type Manifest, sha256 } from "./cache.js";
import { CacheWriter } from "./cache-writer.js";
import { DatasetError } from "./errors.js";
import { cacheFolder, currentManifest, openCached } from "./open-cached.js";
import { spawnDataWorker } from "./spawn-worker.js";
import { formatSyntheticSpec, type SyntheticSpec } from "./spec.js";
import {
  className,
  type DrawnBatch,
  drawBatch,
  GENERATOR_VERSION,
  SYNTHETIC_SPLITS,
  splitOrder,
  syntheticEntry,
} from "./synthetic.js";
import type { DrawReply, DrawRequest } from "./synthetic-worker.js";
import type { Dataset, LoadOptions, SplitName } from "./types.js";

export interface SyntheticLoadSettings {
  cacheDir: string;
  /** Side of the cached images (default: the spec's size=). */
  imageSize: number;
  /** Worker threads for a large set. */
  concurrency: number;
  /** Forces the number of drawing threads (1: the calling thread); default by the set's size. */
  threads?: number;
  onProgress?: LoadOptions["onProgress"];
}

/** From this many bytes of pixels on, the set is drawn on worker threads. */
export const THREADED_BYTES = 64 * 2 ** 20;
/** Bytes of one batch sent to a worker: large enough that messaging is noise, small enough to keep memory flat. */
const BATCH_BYTES = 4 * 2 ** 20;

interface Batch {
  split: SplitName;
  indices: number[];
  first: boolean;
  last: boolean;
}

function planBatches(spec: SyntheticSpec, imageBytes: number): Batch[] {
  const per = Math.max(1, Math.floor(BATCH_BYTES / imageBytes));
  const out: Batch[] = [];
  for (const split of SYNTHETIC_SPLITS) {
    const order = splitOrder(spec[split], spec.classes);
    for (let k = 0; k < order.length; k += per)
      out.push({
        split,
        indices: order.slice(k, k + per),
        first: k === 0,
        last: k + per >= order.length,
      });
  }
  return out;
}

/** Draws every batch on `threads` workers (two batches in flight each) and hands them to `sink` in order. */
async function drawOnWorkers(
  cacheDir: string,
  spec: SyntheticSpec,
  imageSize: number,
  batches: Batch[],
  threads: number,
  sink: (b: Batch, d: DrawnBatch) => void,
): Promise<void> {
  const workers = Array.from({ length: threads }, () =>
    spawnDataWorker("synthetic-worker", { spec, imageSize }),
  );
  try {
    await new Promise<void>((resolve, reject) => {
      let next = 0;
      let flushed = 0;
      let finished = false;
      const ready = new Map<number, DrawnBatch>();
      const fail = (e: unknown) => {
        finished = true;
        reject(e);
      };
      const send = (w: Worker) => {
        if (next >= batches.length) return;
        const b = batches[next];
        w.postMessage({ seq: next++, split: b.split, indices: b.indices } satisfies DrawRequest);
      };
      for (const w of workers) {
        w.on("message", (r: DrawReply) => {
          if (finished) return;
          if (r.error !== undefined || !r.pixels || !r.hist)
            return fail(
              new DatasetError(
                "cache",
                cacheDir,
                `Cannot draw the synthetic dataset into ${cacheDir}: a drawing worker failed (${r.error ?? "empty reply"})`,
              ),
            );
          ready.set(r.seq, { pixels: r.pixels, hist: r.hist });
          try {
            while (ready.has(flushed)) {
              const d = ready.get(flushed)!;
              ready.delete(flushed);
              sink(batches[flushed], d);
              flushed++;
            }
          } catch (e) {
            return fail(e);
          }
          if (flushed === batches.length) {
            finished = true;
            resolve();
          } else send(w);
        });
        w.on("error", fail);
        w.on("exit", (code) => {
          if (!finished)
            fail(
              new DatasetError(
                "cache",
                cacheDir,
                `Cannot draw the synthetic dataset into ${cacheDir}: a drawing worker exited with code ${code} before the set was drawn`,
              ),
            );
        });
      }
      for (const w of workers) send(w);
      for (const w of workers) send(w);
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

async function build(
  spec: SyntheticSpec,
  s: SyntheticLoadSettings,
  cacheDir: string,
  sourceHash: string,
  source: string,
): Promise<Manifest> {
  const imageBytes = s.imageSize * s.imageSize * 3;
  const batches = planBatches(spec, imageBytes);
  const total = spec.train + spec.valid + spec.test;
  const auto = total * imageBytes >= THREADED_BYTES ? s.concurrency : 1;
  const threads = Math.max(1, Math.min(s.threads ?? auto, batches.length));
  const writer = new CacheWriter(cacheDir, sourceHash, s.imageSize);
  let done = 0;
  const sink = (b: Batch, d: DrawnBatch) => {
    if (b.first) writer.beginSplit(b.split);
    writer.append(
      d.pixels,
      b.indices.map((i) => i % spec.classes),
      b.indices.map((i) => syntheticEntry(b.split, i, spec.classes)),
      d.hist,
    );
    if (b.last) writer.endSplit();
    done += b.indices.length;
    s.onProgress?.({ phase: "synthesize", done, total });
  };
  try {
    if (threads === 1)
      for (const b of batches) sink(b, await drawBatch(spec, s.imageSize, b.split, b.indices));
    else await drawOnWorkers(cacheDir, spec, s.imageSize, batches, threads, sink);
    const classes = Array.from({ length: spec.classes }, (_, c) => className(c, spec.classes));
    return writer.commit({ source, classes, skipped: [] });
  } catch (cause) {
    if (cause instanceof DatasetError) throw cause;
    throw new DatasetError(
      "cache",
      cacheDir,
      `Cannot write the synthetic dataset into ${cacheDir}: ${(cause as Error).message}`,
      { cause },
    );
  } finally {
    writer.dispose();
  }
}

/** The synthetic set of `spec` at s.imageSize, drawn into the cache unless it is there already. */
export async function loadSynthetic(
  spec: SyntheticSpec,
  s: SyntheticLoadSettings,
  source: string,
): Promise<Dataset> {
  const params = {
    v: LOADER_VERSION,
    kind: "synthetic",
    generator: GENERATOR_VERSION,
    spec: formatSyntheticSpec(spec),
    imageSize: s.imageSize,
  };
  const key = sha256(JSON.stringify(params)).slice(0, 20);
  // Nothing outside the parameters goes into the drawing, so they are the whole source hash.
  const sourceHash = sha256(JSON.stringify(params));
  const cacheDir = cacheFolder(s.cacheDir, key);
  const held = currentManifest(cacheDir, sourceHash, s.imageSize);
  const manifest = held ?? (await build(spec, s, cacheDir, sourceHash, source));
  return openCached(manifest, cacheDir, held !== undefined, source, (f) => f);
}
