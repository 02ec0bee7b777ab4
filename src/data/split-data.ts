// A split on disk: positional reads from its uint8 pixel file, never loading it whole (BIRDS 525 at
// 224×224 is 12.7 GB for train alone).
import fs from "node:fs";
import { DatasetError } from "./errors.js";
import type { SplitData, SplitName } from "./types.js";

export class PixelSplit implements SplitData {
  private fd: number | undefined;

  constructor(
    readonly name: SplitName,
    readonly count: number,
    readonly labels: Uint32Array,
    readonly files: string[],
    readonly pixelFile: string,
    readonly imageBytes: number,
  ) {
    const st = fs.statSync(pixelFile);
    if (st.size !== count * imageBytes)
      throw new DatasetError(
        "cache",
        pixelFile,
        `${pixelFile} holds ${st.size} bytes, expected ${count} images × ${imageBytes} = ${count * imageBytes}.`,
      );
    this.fd = fs.openSync(pixelFile, "r");
  }

  private handle(): number {
    if (this.fd === undefined)
      throw new DatasetError("out-of-range", this.pixelFile, `The ${this.name} split was closed.`);
    return this.fd;
  }

  private checkOut(n: number, out: Uint8Array): void {
    if (out.length < n * this.imageBytes)
      throw new DatasetError(
        "out-of-range",
        this.pixelFile,
        `${this.name}: an output of ${out.length} bytes cannot hold ${n} images of ${this.imageBytes} bytes.`,
      );
  }

  private readAt(imageIndex: number, n: number, out: Uint8Array, outImage: number): void {
    const fd = this.handle();
    const want = n * this.imageBytes;
    let got = 0;
    while (got < want) {
      const r = fs.readSync(
        fd,
        out,
        outImage * this.imageBytes + got,
        want - got,
        imageIndex * this.imageBytes + got,
      );
      if (r === 0)
        throw new DatasetError(
          "cache",
          this.pixelFile,
          `${this.pixelFile} ended early (image ${imageIndex}, ${got} of ${want} bytes): the cache was changed while in use.`,
        );
      got += r;
    }
  }

  readRange(start: number, n: number, out: Uint8Array): void {
    if (!Number.isInteger(start) || !Number.isInteger(n) || start < 0 || n < 0 || start + n > this.count)
      throw new DatasetError(
        "out-of-range",
        this.pixelFile,
        `${this.name}: images ${start}…${start + n - 1} are outside 0…${this.count - 1}.`,
      );
    this.checkOut(n, out);
    if (n > 0) this.readAt(start, n, out, 0);
  }

  readIndices(indices: ArrayLike<number>, out: Uint8Array): void {
    const m = indices.length;
    for (let k = 0; k < m; k++) {
      const i = indices[k];
      if (!Number.isInteger(i) || i < 0 || i >= this.count)
        throw new DatasetError(
          "out-of-range",
          this.pixelFile,
          `${this.name}: index ${i} (position ${k}) is outside 0…${this.count - 1}.`,
        );
    }
    this.checkOut(m, out);
    // Consecutive indices (an unshuffled pass) become one read.
    for (let k = 0; k < m; ) {
      let run = 1;
      while (k + run < m && indices[k + run] === indices[k] + run) run++;
      this.readAt(indices[k], run, out, k);
      k += run;
    }
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
