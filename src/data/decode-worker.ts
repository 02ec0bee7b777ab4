// A worker thread of the decode pool (decode-pool.ts): decodes the batches of files the main thread
// sends, one batch after another, and sends back the decoded images in one transferred buffer, with
// their histogram when asked. Here, not on the main thread, because starting a sharp pipeline
// (~0.3 ms of JS: sharp reads its ~200 options one by one) and the histogram (~0.25 ms for
// 224×224) per image otherwise cap a whole folder load at one core's ~1,200 images/s.
// workerData: DecodeWorkerData.
import { parentPort, workerData } from "node:worker_threads";
import { DecodeFailure, decodeImage } from "./decode.js";
import { addToHistogram } from "./histogram.js";

export interface DecodeWorkerData {
  /** Side of the decoded images (pixels). */
  size: number;
  /** Decodes of one batch in flight at once on libuv's pool. */
  inFlight: number;
}
export interface DecodeRequest {
  seq: number;
  files: string[];
  /** Take the 3×256 histogram of the decoded bytes (the train split's). */
  histogram: boolean;
}
export interface DecodeReply {
  seq: number;
  /** Per file of the request: undefined when decoded, else why it was not (a DecodeFailure). */
  failures?: (string | undefined)[];
  /** The decoded images, size²·3 bytes each, in file order. */
  pixels?: Uint8Array;
  hist?: Float64Array;
  /** An unexpected error (not a bad image) and the file it came from. */
  error?: string;
  file?: string;
}

const { size, inFlight } = workerData as DecodeWorkerData;
const port = parentPort!;

class FileError extends Error {
  constructor(
    readonly file: string,
    readonly original: unknown,
  ) {
    super((original as Error)?.stack ?? String(original));
  }
}

async function decodeBatch(req: DecodeRequest): Promise<void> {
  const n = req.files.length;
  const decoded: (Buffer | undefined)[] = new Array(n);
  const failures: (string | undefined)[] = new Array(n).fill(undefined);
  let next = 0;
  const lane = async () => {
    while (next < n) {
      const i = next++;
      try {
        decoded[i] = await decodeImage(req.files[i], size);
      } catch (e) {
        if (!(e instanceof DecodeFailure)) throw new FileError(req.files[i], e);
        failures[i] = e.message;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(inFlight, n) }, lane));
  } catch (e) {
    const f = e instanceof FileError ? e : new FileError(req.files[0], e);
    port.postMessage({ seq: req.seq, error: f.message, file: f.file } satisfies DecodeReply);
    return;
  }
  // A buffer of its own (not Buffer.concat, which may hand out a slice of Node's shared pool):
  // it is transferred, which detaches it here.
  const imageBytes = size * size * 3;
  const pixels = new Uint8Array(decoded.filter((d) => d !== undefined).length * imageBytes);
  let at = 0;
  for (const d of decoded)
    if (d) {
      pixels.set(d, at);
      at += imageBytes;
    }
  const transfer: ArrayBuffer[] = [pixels.buffer];
  let hist: Float64Array | undefined;
  if (req.histogram) {
    const h = new Float64Array(768);
    addToHistogram(h, pixels);
    transfer.push(h.buffer);
    hist = h;
  }
  port.postMessage({ seq: req.seq, failures, pixels, hist } satisfies DecodeReply, transfer);
}

// One batch at a time: the main thread keeps two queued per worker, and decoding both at once
// would double the decodes in flight (and the memory of large source images) behind its back.
let queue = Promise.resolve();
port.on("message", (req: DecodeRequest) => {
  queue = queue.then(() => decodeBatch(req));
});
