// A ring of mappable buffers for reading small results (metrics sums, the training state) back
// every few steps without stalling the queue: a copy into the next free slot is recorded in a
// step's encoder, and the slot is mapped after that submit; the CPU waits only when every slot is
// still in flight, which also bounds how far the CPU can run ahead of the GPU.
import type { GpuContext } from "../gpu/device.js";

interface Slot {
  buffer: GPUBuffer;
  pending: Promise<void> | null;
}

export class ReadbackRing {
  private readonly slots: Slot[];
  private next = 0;

  constructor(
    private readonly ctx: GpuContext,
    readonly bytes: number,
    count = 4,
    label = "readback",
  ) {
    this.slots = Array.from({ length: count }, (_, i) => ({
      buffer: ctx.device.createBuffer({
        size: bytes,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
        label: `${label} ${i}`,
      }),
      pending: null,
    }));
  }

  /** The next slot's buffer, free to be copied into (waits for the oldest read when all are busy). */
  async acquire(): Promise<{ buffer: GPUBuffer; index: number }> {
    const index = this.next;
    const slot = this.slots[index];
    if (slot.pending) await slot.pending;
    this.next = (index + 1) % this.slots.length;
    return { buffer: slot.buffer, index };
  }

  /**
   * After the submit that copied into slot `index`: maps it and resolves with a copy of its bytes.
   * The slot is free again once the promise settles.
   */
  read(index: number): Promise<ArrayBuffer> {
    const slot = this.slots[index];
    let out: ArrayBuffer = new ArrayBuffer(0);
    const p = slot.buffer.mapAsync(GPUMapMode.READ).then(() => {
      out = slot.buffer.getMappedRange(0, this.bytes).slice(0);
      slot.buffer.unmap();
    });
    slot.pending = p.finally(() => {
      slot.pending = null;
    });
    return p.then(() => {
      this.ctx.check("reading training metrics back");
      return out;
    });
  }

  destroy(): void {
    for (const s of this.slots) s.buffer.destroy();
  }
}
