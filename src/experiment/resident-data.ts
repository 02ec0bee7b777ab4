// ResidentData: a suite's dataset on the device, uploaded once and kept across runs. Each run used
// to re-read the decoded cache and re-upload it (8–16 s of setup per run on the H200 for a 1.8 GB
// split). A split that fits one storage binding (the trainer's rule, uploadSplit) stays resident
// for the whole suite; one that does not is streamed, and its batch-sized buffers depend on the
// run's batch, so those are made per run. A suite has one image size, so `dispose` at its end is
// the only time the resident splits are freed (a new image size means a new ResidentData).
import type { Dataset, SplitData } from "../data/index.js";
import type { GpuContext } from "../gpu/device.js";
import { freeGpuSplit, type GpuSplit } from "../model/mlp.js";
import { planShards, residentBudget } from "../model/shards.js";
import { uploadSplit } from "../model/trainer.js";
import type { RunSplits } from "../model/warmup.js";

/** How a run got its splits: who paid the upload, and how long it took (s, queue drained). */
export interface SplitsAcquired {
  splits: RunSplits;
  /**
   * "this-run": this run uploaded the resident splits (the first run of the suite, in its setup);
   * "earlier-run": they were already on the device; "per-run": streamed splits, made for this run.
   */
  upload: "this-run" | "earlier-run" | "per-run";
  uploadSeconds: number;
  uploadBytes: number;
  /** Frees what this run alone holds (streamed splits); resident ones stay. */
  release(): void;
}

/**
 * Whether every split of `dataset` can stay on the device: each fits the shard rule (one storage
 * binding, or up to 8 of whole images each: src/model/shards.ts) and all together fit the
 * resident budget. Otherwise the reason, for the suite's note that its data is streamed.
 */
export function residentVerdict(ctx: GpuContext, dataset: Dataset): true | string {
  if (process.env.HALFWATT_STREAM) return "HALFWATT_STREAM is set";
  const splits = [dataset.train, dataset.valid, dataset.test];
  for (const s of splits) {
    const plan = planShards(ctx, s.count, s.imageBytes);
    if (typeof plan === "string") return `the ${s.name} split: ${plan}`;
  }
  const total = splits.reduce((n, s) => n + s.count * s.imageBytes, 0);
  const budget = residentBudget();
  if (total > budget)
    return `${total} bytes of images are past the resident budget of ${budget} bytes (HALFWATT_RESIDENT_BYTES)`;
  return true;
}

/** Whether every split of `dataset` can stay on the device across runs (residentVerdict). */
export function fitsResident(ctx: GpuContext, dataset: Dataset): boolean {
  return residentVerdict(ctx, dataset) === true;
}

const freeSplit = (s: GpuSplit | null) => {
  if (s) freeGpuSplit(s);
};

async function uploadAll(ctx: GpuContext, dataset: Dataset, batch: number): Promise<RunSplits> {
  const up = (s: SplitData) => (s.count ? uploadSplit(ctx, s, batch) : Promise.resolve(null));
  const train = await uploadSplit(ctx, dataset.train, batch);
  return { train, valid: await up(dataset.valid), test: await up(dataset.test) };
}

export class ResidentData {
  private resident: RunSplits | null = null;
  private readonly fits: boolean;

  constructor(
    private readonly ctx: GpuContext,
    readonly dataset: Dataset,
  ) {
    const verdict = residentVerdict(ctx, dataset);
    this.fits = verdict === true;
    if (verdict !== true && !process.env.HALFWATT_STREAM)
      console.warn(`halfwatt: the dataset is streamed within each run's train phase: ${verdict}`);
  }

  /** The splits for a run of batch `batch` (images per step). */
  async acquire(batch: number): Promise<SplitsAcquired> {
    const bytes = [this.dataset.train, this.dataset.valid, this.dataset.test].reduce(
      (n, s) => n + s.count * s.imageBytes,
      0,
    );
    if (this.fits && this.resident)
      return { splits: this.resident, upload: "earlier-run", uploadSeconds: 0, uploadBytes: 0, release() {} };
    const t0 = performance.now();
    const splits = await uploadAll(this.ctx, this.dataset, this.fits ? Number.MAX_SAFE_INTEGER : batch);
    await this.ctx.device.queue.onSubmittedWorkDone();
    const uploadSeconds = (performance.now() - t0) / 1000;
    if (this.fits) {
      this.resident = splits;
      return { splits, upload: "this-run", uploadSeconds, uploadBytes: bytes, release() {} };
    }
    return {
      splits,
      upload: "per-run",
      uploadSeconds,
      // Streamed: only the batch buffers are allocated now; the images go up step by step.
      uploadBytes: 0,
      release: () => {
        freeSplit(splits.train);
        freeSplit(splits.valid);
        freeSplit(splits.test);
      },
    };
  }

  /** Frees the resident splits (the suite's end). */
  dispose(): void {
    if (!this.resident) return;
    freeSplit(this.resident.train);
    freeSplit(this.resident.valid);
    freeSplit(this.resident.test);
    this.resident = null;
  }
}

/**
 * The first `n` images of a split as a small resident split: what the suite's up-front probe
 * trains on to compile each configuration and time its steps before any run.
 */
export async function uploadHead(ctx: GpuContext, split: SplitData, n: number): Promise<GpuSplit> {
  const count = Math.min(n, split.count);
  // A view (SplitData is a class: its methods are bound, not spread).
  const head: SplitData = {
    name: split.name,
    count,
    labels: split.labels.subarray(0, count),
    files: split.files.slice(0, count),
    pixelFile: split.pixelFile,
    imageBytes: split.imageBytes,
    readRange: (start, k, out) => split.readRange(start, k, out),
    readIndices: (indices, out) => split.readIndices(indices, out),
    close: () => {},
  };
  return uploadSplit(ctx, head, count);
}
