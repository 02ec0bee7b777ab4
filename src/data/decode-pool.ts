// Many image files -> decoded images, handed over in file order (the cache order must not depend on
// which decode finished first), in batches. Large sets are decoded in child processes
// (decode-worker.ts: libvips does not scale across the threads of one process), small ones on the
// calling thread (a child costs ~0.1 s to start and load sharp, about what the calling thread
// needs for a hundred 224×224 JPEGs). On the calling thread sharp's work runs on libuv's pool,
// which the caller should size to the cores (UV_THREADPOOL_SIZE); each child sizes its own.
import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DecodeFailure, decodeImage } from "./decode.js";
import type { DecodeReply, DecodeRequest, DecodeWorkerData } from "./decode-worker.js";
import { DatasetError } from "./errors.js";
import { forkDataProcess } from "./spawn-worker.js";

/** Files from batch.first on, in order; the decoded ones' pixels packed in that order. */
export interface DecodedBatch {
  first: number;
  /** Per file: undefined when decoded, else why not (e.g. "not a decodable image: …"). */
  failures: (string | undefined)[];
  /** The decoded images, size²·3 bytes each. */
  pixels: Uint8Array;
  /** Their 3×256 channel histogram, when asked for and taken on a worker. */
  hist?: Float64Array;
}

export interface Decoder {
  /**
   * Decodes `files` and calls `sink` for consecutive batches, in file order. `histogram`: the
   * batches' histograms are wanted (the train split's), so workers take them.
   */
  decode(files: readonly string[], histogram: boolean, sink: (b: DecodedBatch) => void): Promise<void>;
  /** Stops the workers; safe to call more than once. */
  close(): Promise<void>;
}

export interface DecoderOptions {
  /** Side of the decoded images (pixels). */
  size: number;
  /** Decodes in flight on the calling thread; else the number of child processes. */
  concurrency: number;
  /** Forces the number of decoding processes (1: the calling thread); default by `files`. */
  threads?: number;
  /** Files to be decoded in all: picks the calling thread or workers. */
  files: number;
}

/** From this many files on, decoding runs in child processes. */
export const THREADED_FILES = 256;
/** Decodes in flight per child (and its libuv pool's size): one decoding while its JS handles another. */
const WORKER_IN_FLIGHT = 2;
/** Bytes of decoded pixels per batch: large enough that messaging is noise, small enough to spread the tail. */
const BATCH_BYTES = 2 ** 20;
const MAX_BATCH_FILES = 16;

export function openDecoder(o: DecoderOptions): Decoder {
  const auto = o.files >= THREADED_FILES ? o.concurrency : 1;
  const threads = Math.max(1, o.threads ?? auto);
  return threads === 1 ? callingThread(o.size, o.concurrency) : new ProcessDecoder(o.size, threads);
}

/** `width` decodes in flight on the calling thread, each handed over as a batch of one. */
function callingThread(size: number, width: number): Decoder {
  return {
    async decode(files, _histogram, sink) {
      // A result that finishes before an earlier file waits here; the map holds at most the files
      // finished while the oldest one in flight is still decoding.
      const done = new Map<number, DecodedBatch>();
      let nextStart = 0;
      let nextFlush = 0;
      let sinkError: unknown;
      const flush = () => {
        while (done.has(nextFlush)) {
          const b = done.get(nextFlush)!;
          done.delete(nextFlush);
          sink(b);
          nextFlush++;
        }
      };
      const lane = async () => {
        while (nextStart < files.length && sinkError === undefined) {
          const i = nextStart++;
          let b: DecodedBatch;
          try {
            b = { first: i, failures: [undefined], pixels: await decodeImage(files[i], size) };
          } catch (e) {
            if (!(e instanceof DecodeFailure))
              throw new DatasetError(
                "cache",
                files[i],
                `Cannot decode ${files[i]}: ${(e as Error).message}`,
                {
                  cause: e,
                },
              );
            b = { first: i, failures: [e.message], pixels: new Uint8Array(0) };
          }
          done.set(i, b);
          try {
            flush();
          } catch (e) {
            sinkError = e;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, Math.min(width, files.length)) }, lane));
      if (sinkError !== undefined) throw sinkError;
    },
    async close() {},
  };
}

class ProcessDecoder implements Decoder {
  private workers: ChildProcess[] | undefined;
  /** Where the children leave each batch's pixels (decode-worker.ts); removed by close(). */
  private scratch: string | undefined;
  /** Why a worker stopped between two decode calls (then no call's handlers were listening). */
  private broken: string | undefined;

  constructor(
    private readonly size: number,
    private readonly threads: number,
  ) {}

  private start(): ChildProcess[] {
    if (!this.workers) {
      this.scratch = fs.mkdtempSync(path.join(os.tmpdir(), "halfwatt-decode-"));
      const data: DecodeWorkerData = { size: this.size, inFlight: WORKER_IN_FLIGHT, scratch: this.scratch };
      this.workers = Array.from({ length: this.threads }, () =>
        forkDataProcess("decode-worker", data, { UV_THREADPOOL_SIZE: String(WORKER_IN_FLIGHT) }),
      );
      for (const w of this.workers) {
        // An 'error' with no listener would be an uncaught exception; each decode call reports its own.
        w.on("error", (e) => {
          this.broken ??= `failed (${e.message})`;
        });
        w.on("exit", (code, signal) => {
          this.broken ??= `exited with ${signal ?? `code ${code}`}`;
        });
      }
    }
    return this.workers;
  }

  decode(files: readonly string[], histogram: boolean, sink: (b: DecodedBatch) => void): Promise<void> {
    const per = Math.max(1, Math.min(MAX_BATCH_FILES, Math.floor(BATCH_BYTES / (this.size * this.size * 3))));
    const batches: number[] = [];
    for (let k = 0; k < files.length; k += per) batches.push(k);
    if (batches.length === 0) return Promise.resolve();
    const workers = this.start();
    if (this.broken !== undefined)
      return Promise.reject(
        new DatasetError("cache", files[0], `Cannot decode ${files[0]}: a decoding worker ${this.broken}`),
      );
    const slice = (seq: number) => files.slice(batches[seq], batches[seq] + per);
    return new Promise<void>((resolve, reject) => {
      let next = 0;
      let flushed = 0;
      let finished = false;
      const ready = new Map<number, DecodedBatch>();
      /** The batches each worker has been sent and not yet answered, oldest first. */
      const pending = new Map<ChildProcess, number[]>(workers.map((w) => [w, []]));
      const listening: (() => void)[] = [];
      const stopListening = () => {
        finished = true;
        for (const off of listening) off();
      };
      const fail = (e: unknown) => {
        stopListening();
        reject(e);
      };
      const send = (w: ChildProcess) => {
        if (next >= batches.length) return;
        pending.get(w)!.push(next);
        w.send({ seq: next, files: slice(next), histogram } satisfies DecodeRequest);
        next++;
      };
      for (const w of workers) {
        const onMessage = (message: unknown) => {
          const r = message as DecodeReply;
          if (finished) return;
          pending.get(w)!.shift();
          let pixels: Uint8Array | undefined;
          try {
            if (r.pixelFile) pixels = fs.readFileSync(r.pixelFile);
          } catch (e) {
            r.error ??= `cannot read a decoding worker's ${r.pixelFile}: ${(e as Error).message}`;
          } finally {
            if (r.pixelFile) fs.rmSync(r.pixelFile, { force: true });
          }
          if (r.error !== undefined || !pixels || !r.failures) {
            const file = r.file ?? slice(r.seq)[0];
            return fail(
              new DatasetError(
                "cache",
                file,
                `Cannot decode ${file}: ${r.error ?? "empty reply from a decoding worker"}`,
              ),
            );
          }
          ready.set(r.seq, { first: batches[r.seq], failures: r.failures, pixels, hist: r.hist });
          try {
            while (ready.has(flushed)) {
              const b = ready.get(flushed)!;
              ready.delete(flushed);
              sink(b);
              flushed++;
            }
          } catch (e) {
            return fail(e);
          }
          if (flushed === batches.length) {
            stopListening();
            resolve();
          } else send(w);
        };
        const died = (why: string) => {
          if (finished) return;
          const seq = pending.get(w)![0];
          const file = seq === undefined ? files[0] : slice(seq)[0];
          const batch = seq === undefined ? "" : ` (its batch: ${slice(seq).join(", ")})`;
          fail(new DatasetError("cache", file, `Cannot decode ${file}: a decoding worker ${why}${batch}`));
        };
        const onError = (e: Error) => died(`failed (${e.stack ?? e.message})`);
        const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
          died(`exited with ${signal ?? `code ${code}`}`);
        w.on("message", onMessage).on("error", onError).on("exit", onExit);
        listening.push(() => w.off("message", onMessage).off("error", onError).off("exit", onExit));
      }
      // Two batches queued per worker, so it never waits on the main thread for its next one.
      for (const w of workers) send(w);
      for (const w of workers) send(w);
    });
  }

  async close(): Promise<void> {
    const ws = this.workers ?? [];
    this.workers = undefined;
    const scratch = this.scratch;
    this.scratch = undefined;
    await Promise.all(
      ws.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.exitCode !== null || w.signalCode !== null) return resolve();
            w.once("exit", () => resolve());
            w.kill();
          }),
      ),
    );
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  }
}
