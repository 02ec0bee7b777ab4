// Messages between the sampler (main thread) and its worker thread.
import type { SourceSpec } from "./sources.js";
import type { ChannelInfo, Sample } from "./types.js";

export interface SamplerWorkerData {
  specs: SourceSpec[];
  hz: number;
  /** Counter reads (NVML energy: ~4 ms each) happen at this rate, and at every mark. */
  counterHz: number;
  flushMs: number;
  capacity: number;
}

export type ToWorker = { type: "mark"; id: number } | { type: "stop"; id: number } | { type: "ack" };

export interface Batch {
  samples: Sample[];
  /** Samples lost to a full ring buffer since the start. */
  dropped: number;
  /** New source failures: "source: message". */
  errors: string[];
}

export type FromWorker =
  | { type: "ready"; channels: ChannelInfo[]; failed: { source: string; reason: string }[] }
  | ({ type: "batch" } & Batch)
  | ({ type: "reply"; id: number } & Batch)
  | { type: "fatal"; message: string };
