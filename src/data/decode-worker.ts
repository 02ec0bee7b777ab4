// A child process of the decode pool (decode-pool.ts): decodes the batches of files the parent
// sends, one batch after another, and hands back the decoded images as one file in the pool's
// scratch folder (the parent reads and removes it: a pipe's structured clone of the same bytes
// cost the parent 0.4 ms of CPU an image, a cap near 2,500 images/s), with their histogram when
// asked. Not on the main thread, because starting a sharp pipeline (~0.3 ms of JS:
// sharp reads its ~200 options one by one) and the histogram (~0.25 ms for 224×224) per image
// otherwise cap a whole folder load at one core's ~1,200 images/s. A process, not a worker
// thread, because libvips does not scale within one process: on the H200's 16-vCPU host one
// process decoded at most ~1,800 224×224 JPEGs/s however many were in flight (4.6 ms of CPU an
// image at 16, 1.8 ms at 1), and 16 processes with one each 7,556/s (bench/cpu-scaling.bench.ts,
// src/data/README.md). argv[2]: DecodeWorkerData as JSON. It exits when the parent goes.
import fs from "node:fs";
import path from "node:path";
import { DecodeFailure, decodeImage } from "./decode.js";
import { addToHistogram } from "./histogram.js";

export interface DecodeWorkerData {
  /** Side of the decoded images (pixels). */
  size: number;
  /** Decodes of one batch in flight at once on libuv's pool. */
  inFlight: number;
  /** Folder for the batches' pixel files (the parent's, removed by it). */
  scratch: string;
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
  /** A file of the decoded images, size²·3 bytes each, in file order (the parent removes it). */
  pixelFile?: string;
  hist?: Float64Array;
  /** An unexpected error (not a bad image) and the file it came from. */
  error?: string;
  file?: string;
}

const { size, inFlight, scratch } = JSON.parse(process.argv[2] ?? "{}") as DecodeWorkerData;
const send = (reply: DecodeReply) => process.send?.(reply);

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
    send({ seq: req.seq, error: f.message, file: f.file });
    return;
  }
  const imageBytes = size * size * 3;
  const pixels = new Uint8Array(decoded.filter((d) => d !== undefined).length * imageBytes);
  let at = 0;
  for (const d of decoded)
    if (d) {
      pixels.set(d, at);
      at += imageBytes;
    }
  let hist: Float64Array | undefined;
  if (req.histogram) {
    hist = new Float64Array(768);
    addToHistogram(hist, pixels);
  }
  const pixelFile = path.join(scratch, `${process.pid}-${req.seq}.u8`);
  try {
    fs.writeFileSync(pixelFile, pixels);
  } catch (e) {
    send({ seq: req.seq, error: `cannot write ${pixelFile}: ${(e as Error).message}`, file: req.files[0] });
    return;
  }
  send({ seq: req.seq, failures, pixelFile, hist });
}

// One batch at a time: the main thread keeps two queued per worker, and decoding both at once
// would double the decodes in flight (and the memory of large source images) behind its back.
let queue = Promise.resolve();
process.on("message", (req: DecodeRequest) => {
  queue = queue.then(() => decodeBatch(req));
});
process.on("disconnect", () => process.exit(0));
