// The loader's public shapes: what the trainer calls and gets back.

export type SplitName = "train" | "valid" | "test";

export interface SkippedFile {
  file: string;
  reason: string;
}

export interface ProgressEvent {
  phase: "scan" | "decode" | "synthesize";
  split?: string;
  done: number;
  total: number;
}

export interface LoadOptions {
  /** Side of the square images after resizing; default 224 for folders, the spec's size= for synthetic. */
  imageSize?: number;
  /** Bad files become an error naming them (default: skipped, reported through onWarning and `skipped`). */
  strict?: boolean;
  /** Default: $HALFWATT_CACHE, else $XDG_CACHE_HOME/halfwatt, else ~/.cache/halfwatt. */
  cacheDir?: string;
  /** For DIR/<class>/… layouts: the seeded, per-class split (defaults 1, 0.1, 0.1). */
  splitSeed?: number;
  validFraction?: number;
  testFraction?: number;
  /** Decoding threads (workers) for a folder of 256 images or more, else decodes in flight; default os.availableParallelism(). */
  concurrency?: number;
  onProgress?: (e: ProgressEvent) => void;
  /** Each skipped file, as it is found (also on a cache hit, from the manifest). The library never prints. */
  onWarning?: (w: SkippedFile) => void;
}

export interface SplitData {
  name: SplitName;
  count: number;
  /** Class index per image, in cache order (by class, then file name). */
  labels: Uint32Array;
  /** Source file of each image, in cache order. */
  files: string[];
  /** uint8 NHWC RGB: count × size × size × 3 bytes, image i at i·imageBytes. */
  pixelFile: string;
  imageBytes: number;
  /** Copies images start … start+n−1 into out (positional reads, never the whole file). */
  readRange(start: number, n: number, out: Uint8Array): void;
  /** Copies the images at `indices`, in that order, into out. */
  readIndices(indices: ArrayLike<number>, out: Uint8Array): void;
  close(): void;
}

export interface Dataset {
  /** The folder or the synthetic spec, as given. */
  source: string;
  /** Sorted class names; a label is an index into this list. */
  classes: string[];
  imageSize: number;
  channels: 3;
  train: SplitData;
  valid: SplitData;
  test: SplitData;
  /** Per channel over every train pixel, on the 0..1 scale; std is the population one (ddof 0). */
  channelMean: [number, number, number];
  channelStd: [number, number, number];
  skipped: SkippedFile[];
  cache: { dir: string; reused: boolean; sourceHash: string };
  close(): void;
}
