// A worker thread of the synthetic generator: draws the batches the main thread asks for and sends
// the pixels back (transferred, not copied) with their histogram. workerData: { spec, imageSize }.
import { parentPort, workerData } from "node:worker_threads";
import type { SyntheticSpec } from "./spec.js";
import { drawBatch } from "./synthetic.js";
import type { SplitName } from "./types.js";

export interface DrawRequest {
  seq: number;
  split: SplitName;
  indices: number[];
}
export interface DrawReply {
  seq: number;
  pixels?: Uint8Array;
  hist?: Float64Array;
  error?: string;
}

const { spec, imageSize } = workerData as { spec: SyntheticSpec; imageSize: number };
const port = parentPort!;
port.on("message", async (req: DrawRequest) => {
  try {
    const { pixels, hist } = await drawBatch(spec, imageSize, req.split, req.indices);
    port.postMessage({ seq: req.seq, pixels, hist } satisfies DrawReply, [pixels.buffer as ArrayBuffer]);
  } catch (e) {
    port.postMessage({ seq: req.seq, error: (e as Error).stack ?? String(e) } satisfies DrawReply);
  }
});
