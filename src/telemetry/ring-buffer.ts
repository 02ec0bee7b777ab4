// A fixed-capacity FIFO that overwrites its oldest entries when full, so the sampler's memory
// stays bounded even if its consumer stops draining. It counts what it dropped.
import { TelemetryInputError } from "./errors.js";

export class RingBuffer<T> {
  private readonly items: (T | undefined)[];
  private head = 0;
  private count = 0;
  /** Entries overwritten before anyone drained them, since construction. */
  dropped = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new TelemetryInputError(`ring buffer capacity ${capacity} must be an integer >= 1`);
    this.items = new Array(capacity);
  }

  get length(): number {
    return this.count;
  }

  push(item: T): void {
    const tail = (this.head + this.count) % this.capacity;
    this.items[tail] = item;
    if (this.count < this.capacity) this.count++;
    else {
      this.head = (this.head + 1) % this.capacity;
      this.dropped++;
    }
  }

  /** Removes and returns everything, oldest first. */
  drain(): T[] {
    const out: T[] = new Array(this.count);
    for (let i = 0; i < this.count; i++) {
      const j = (this.head + i) % this.capacity;
      out[i] = this.items[j] as T;
      this.items[j] = undefined;
    }
    this.head = 0;
    this.count = 0;
    return out;
  }
}
