// Writes decoded pixels into a cache folder: one temporary uint8 file per split, images appended in
// cache order, the train split's 256-bin channel histograms taken on the way, then every file
// renamed into place and the manifest written last (the commit point, see cache.ts). Every source
// ends here: the folder loader's decodes, the synthetic generator's drawings, Fashion-MNIST's idx
// bytes.
import fs from "node:fs";
import path from "node:path";
import { LOADER_VERSION, MANIFEST, type Manifest, removeStale, tempName, writeFileAtomic } from "./cache.js";
import { DatasetError } from "./errors.js";
import { addToHistogram, channelStats } from "./histogram.js";
import type { SkippedFile, SplitName } from "./types.js";

interface OpenSplit {
  name: SplitName;
  tmp: string;
  final: string;
  fd: number;
  pos: number;
  labels: number[];
  files: string[];
}

export class CacheWriter {
  private readonly imageBytes: number;
  private readonly hist = new Float64Array(768);
  private readonly done = {} as Manifest["splits"];
  private readonly temps = new Map<SplitName, string>();
  private current: OpenSplit | undefined;

  /** `imageSize`: side of the square RGB images, so each appended image is imageSize²·3 bytes. */
  constructor(
    private readonly cacheDir: string,
    private readonly sourceHash: string,
    private readonly imageSize: number,
  ) {
    this.imageBytes = imageSize * imageSize * 3;
  }

  beginSplit(name: SplitName): void {
    if (this.current)
      throw new DatasetError(
        "cache",
        this.current.tmp,
        `Cannot begin split ${name} in ${this.cacheDir}: split ${this.current.name} (${this.current.tmp}) is still open`,
      );
    const final = `${name}.${this.sourceHash.slice(0, 16)}.u8`;
    const tmp = tempName(path.join(this.cacheDir, final));
    this.temps.set(name, tmp);
    this.current = { name, tmp, final, fd: fs.openSync(tmp, "w"), pos: 0, labels: [], files: [] };
  }

  /**
   * Appends `n` images (n·imageBytes bytes of `pixels`) with their labels and source names.
   * `hist`: their train histogram when the caller already took it (worker threads do), else it
   * is taken here for the train split.
   */
  append(pixels: Uint8Array, labels: readonly number[], files: readonly string[], hist?: Float64Array): void {
    const s = this.current;
    if (!s)
      throw new DatasetError(
        "cache",
        this.cacheDir,
        `Cannot append images to ${this.cacheDir}: no split is open`,
      );
    const want = labels.length * this.imageBytes;
    if (pixels.length !== want || files.length !== labels.length)
      throw new DatasetError(
        "cache",
        s.tmp,
        `Cannot append to split ${s.name} (${s.tmp}): ${labels.length} labels, ${files.length} names and ${pixels.length} bytes of pixels; expected ${labels.length} names and ${want} bytes (${labels.length} × ${this.imageSize}×${this.imageSize}×3)`,
      );
    let w = 0;
    while (w < want) w += fs.writeSync(s.fd, pixels, w, want - w, s.pos + w);
    s.pos += want;
    for (const l of labels) s.labels.push(l);
    for (const f of files) s.files.push(f);
    if (s.name !== "train") return;
    if (hist) for (let i = 0; i < 768; i++) this.hist[i] += hist[i];
    else addToHistogram(this.hist, pixels);
  }

  /** Closes the open split; returns its labels so far (for per-class checks). */
  endSplit(): { count: number; labels: readonly number[] } {
    const s = this.current;
    if (!s)
      throw new DatasetError(
        "cache",
        this.cacheDir,
        `Cannot end a split in ${this.cacheDir}: no split is open`,
      );
    try {
      fs.fsyncSync(s.fd);
    } finally {
      fs.closeSync(s.fd);
      this.current = undefined;
    }
    this.done[s.name] = { count: s.labels.length, pixelFile: s.final, labels: s.labels, files: s.files };
    return { count: s.labels.length, labels: s.labels };
  }

  /** Renames the pixel files into place and writes the manifest (the commit point). */
  commit(meta: { source: string; classes: string[]; skipped: SkippedFile[] }): Manifest {
    const names: SplitName[] = ["train", "valid", "test"];
    for (const n of names)
      if (!this.done[n])
        throw new DatasetError(
          "cache",
          this.cacheDir,
          `Cannot commit the cache in ${this.cacheDir}: split ${n} was not written`,
        );
    const { mean, std } = channelStats(this.hist, this.done.train.count * this.imageSize * this.imageSize);
    const manifest: Manifest = {
      version: LOADER_VERSION,
      source: meta.source,
      sourceHash: this.sourceHash,
      imageSize: this.imageSize,
      classes: meta.classes,
      splits: this.done,
      skipped: meta.skipped,
      channelMean: mean as Manifest["channelMean"],
      channelStd: std as Manifest["channelStd"],
    };
    for (const n of names)
      fs.renameSync(this.temps.get(n)!, path.join(this.cacheDir, this.done[n].pixelFile));
    writeFileAtomic(path.join(this.cacheDir, MANIFEST), JSON.stringify(manifest));
    removeStale(this.cacheDir, new Set(names.map((n) => this.done[n].pixelFile)));
    return manifest;
  }

  /** Removes whatever was not committed; safe to call after commit (in a finally). */
  dispose(): void {
    if (this.current) fs.closeSync(this.current.fd);
    this.current = undefined;
    for (const t of this.temps.values()) fs.rmSync(t, { force: true });
  }
}
