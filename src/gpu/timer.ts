// GPU timing from timestamp queries where the device has them, else from queue completion
// (wall time around submit + onSubmittedWorkDone, which includes submission overhead).
import type { GpuContext } from "./device.js";

export interface GpuTiming {
  /** Seconds on the GPU between the first pass's start and the last pass's end. */
  seconds: number;
  method: "timestamp-query" | "queue-completion";
}

/**
 * Times `record(encoder, timestampWrites)`: the callback records one or more compute passes;
 * it must pass `beginning` to the first and `end` to the last pass's timestampWrites.
 */
export class GpuTimer {
  private querySet: GPUQuerySet | null = null;
  private resolve: GPUBuffer | null = null;
  private readback: GPUBuffer | null = null;

  constructor(private readonly ctx: GpuContext) {
    if (ctx.caps.timestamps) {
      const d = ctx.device;
      this.querySet = d.createQuerySet({ type: "timestamp", count: 2 });
      this.resolve = d.createBuffer({
        size: 16,
        usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
      });
      this.readback = d.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    }
  }

  get method(): GpuTiming["method"] {
    return this.querySet ? "timestamp-query" : "queue-completion";
  }

  /** Writes for the first pass (start) and the last pass (end). Undefined without timestamps. */
  writes(): { first?: GPUComputePassTimestampWrites; last?: GPUComputePassTimestampWrites } {
    if (!this.querySet) return {};
    return {
      first: { querySet: this.querySet, beginningOfPassWriteIndex: 0 },
      last: { querySet: this.querySet, endOfPassWriteIndex: 1 },
    };
  }

  /**
   * The timestampWrites for pass `index` of `count` passes recorded back to back: the start on
   * the first, the end on the last, both when there is one (undefined without timestamps).
   */
  writesFor(index: number, count: number): GPUComputePassTimestampWrites | undefined {
    const w = this.writes();
    if (!w.first || !w.last) return undefined;
    if (count === 1) return { ...w.first, ...w.last };
    return index === 0 ? w.first : index === count - 1 ? w.last : undefined;
  }

  async time(record: (encoder: GPUCommandEncoder) => void | Promise<void>): Promise<GpuTiming> {
    const d = this.ctx.device;
    const enc = d.createCommandEncoder({ label: "timed" });
    await record(enc);
    const t0 = performance.now();
    if (this.querySet && this.resolve && this.readback) {
      enc.resolveQuerySet(this.querySet, 0, 2, this.resolve, 0);
      enc.copyBufferToBuffer(this.resolve, 0, this.readback, 0, 16);
      d.queue.submit([enc.finish()]);
      await this.readback.mapAsync(GPUMapMode.READ);
      const ts = new BigUint64Array(this.readback.getMappedRange().slice(0));
      this.readback.unmap();
      this.ctx.check("GpuTimer");
      return { seconds: Number(ts[1] - ts[0]) / 1e9, method: "timestamp-query" };
    }
    d.queue.submit([enc.finish()]);
    await d.queue.onSubmittedWorkDone();
    this.ctx.check("GpuTimer");
    return { seconds: (performance.now() - t0) / 1e3, method: "queue-completion" };
  }

  destroy(): void {
    this.querySet?.destroy();
    this.resolve?.destroy();
    this.readback?.destroy();
  }
}
