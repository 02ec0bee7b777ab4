// An image folder -> decoded uint8 pixels per split, cached, with labels and train statistics.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  LOADER_VERSION,
  MANIFEST,
  type Manifest,
  readManifest,
  removeStale,
  sha256,
  tempName,
  writeFileAtomic,
} from "./cache.js";
import { decodeInOrder } from "./decode.js";
import { DatasetError } from "./errors.js";
import {
  type ClassFiles,
  type ScanResult,
  SPLIT_NAMES,
  type SplitOptions,
  scanFolder,
  unusable,
} from "./scan.js";
import { PixelSplit } from "./split-data.js";
import type { Dataset, LoadOptions, SkippedFile, SplitName } from "./types.js";

export interface FolderLoadSettings extends SplitOptions {
  imageSize: number;
  strict: boolean;
  cacheDir: string;
  concurrency: number;
  onProgress?: LoadOptions["onProgress"];
  onWarning?: LoadOptions["onWarning"];
}

/** Exact per-channel mean and population std (0..1 scale) from 256-bin histograms of the bytes. */
export function channelStats(hist: Float64Array, pixels: number): { mean: number[]; std: number[] } {
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < 3; c++) {
    let s = 0;
    for (let v = 0; v < 256; v++) s += hist[c * 256 + v] * v;
    const m = s / pixels;
    let q = 0;
    for (let v = 0; v < 256; v++) q += hist[c * 256 + v] * (v - m) * (v - m);
    mean.push(m / 255);
    std.push(Math.sqrt(q / pixels) / 255);
  }
  return { mean, std };
}

function badFilesError(skipped: SkippedFile[], root: string): DatasetError {
  const shown = skipped.slice(0, 20).map((s) => `  ${s.file}: ${s.reason}`);
  if (skipped.length > 20) shown.push(`  … and ${skipped.length - 20} more`);
  return new DatasetError(
    "bad-files",
    skipped[0]?.file ?? root,
    `--strict: ${skipped.length} file(s) in ${root} cannot be used:\n${shown.join("\n")}`,
  );
}

function flatten(classes: string[], byClass: ClassFiles): { files: string[]; labels: number[] } {
  const files: string[] = [];
  const labels: number[] = [];
  classes.forEach((name, label) => {
    for (const f of byClass.get(name) ?? []) {
      files.push(f);
      labels.push(label);
    }
  });
  return { files, labels };
}

/** Decodes every split into temporary pixel files, then commits them and the manifest. */
async function build(
  scan: ScanResult,
  s: FolderLoadSettings,
  cacheDir: string,
  sourceHash: string,
  sourceLabel: string,
): Promise<Manifest> {
  const imageBytes = s.imageSize * s.imageSize * 3;
  const skipped: SkippedFile[] = [...scan.skipped];
  const hist = new Float64Array(768);
  const splits = {} as Manifest["splits"];
  const temps: Array<{ tmp: string; final: string }> = [];
  try {
    for (const split of SPLIT_NAMES) {
      const { files, labels } = flatten(scan.classes, scan.splits[split]);
      const final = `${split}.${sourceHash.slice(0, 16)}.u8`;
      const tmp = tempName(path.join(cacheDir, final));
      temps.push({ tmp, final });
      const fd = fs.openSync(tmp, "w");
      const keptFiles: string[] = [];
      const keptLabels: number[] = [];
      const perClass = new Array<number>(scan.classes.length).fill(0);
      try {
        let pos = 0;
        let done = 0;
        s.onProgress?.({ phase: "decode", split, done: 0, total: files.length });
        await decodeInOrder(files, s.imageSize, s.concurrency, (i, r) => {
          if (r.ok) {
            let w = 0;
            while (w < imageBytes) w += fs.writeSync(fd, r.pixels, w, imageBytes - w, pos + w);
            pos += imageBytes;
            keptFiles.push(path.relative(scan.root, files[i]).split(path.sep).join("/"));
            keptLabels.push(labels[i]);
            perClass[labels[i]]++;
            if (split === "train") {
              const p = r.pixels;
              for (let b = 0; b < imageBytes; b += 3) {
                hist[p[b]]++;
                hist[256 + p[b + 1]]++;
                hist[512 + p[b + 2]]++;
              }
            }
          } else {
            const w = { file: files[i], reason: r.reason };
            skipped.push(w);
            s.onWarning?.(w);
          }
          s.onProgress?.({ phase: "decode", split, done: ++done, total: files.length });
        });
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      const empty = perClass.indexOf(0);
      // --strict names every unusable file in one error below, this class's among them.
      if (empty >= 0 && !s.strict) {
        const name = scan.classes[empty];
        const dir = path.dirname(scan.splits[split].get(name)![0]);
        throw new DatasetError(
          "empty-class",
          dir,
          `No image of class "${name}" in ${dir} could be decoded (${split} split): every file in it was skipped.`,
        );
      }
      splits[split] = { count: keptFiles.length, pixelFile: final, labels: keptLabels, files: keptFiles };
    }
    if (s.strict && unusable(skipped).length > 0) throw badFilesError(unusable(skipped), scan.root);
    const trainPixels = splits.train.count * s.imageSize * s.imageSize;
    const { mean, std } = channelStats(hist, trainPixels);
    const manifest: Manifest = {
      version: LOADER_VERSION,
      source: sourceLabel,
      sourceHash,
      imageSize: s.imageSize,
      classes: scan.classes,
      splits,
      skipped,
      channelMean: mean as Manifest["channelMean"],
      channelStd: std as Manifest["channelStd"],
    };
    for (const t of temps) fs.renameSync(t.tmp, path.join(cacheDir, t.final));
    writeFileAtomic(path.join(cacheDir, MANIFEST), JSON.stringify(manifest));
    removeStale(cacheDir, new Set(temps.map((t) => t.final)));
    return manifest;
  } finally {
    for (const t of temps) fs.rmSync(t.tmp, { force: true });
  }
}

function usable(m: Manifest | undefined, sourceHash: string, imageSize: number, dir: string): m is Manifest {
  if (!m || m.sourceHash !== sourceHash || m.imageSize !== imageSize) return false;
  const bytes = imageSize * imageSize * 3;
  return SPLIT_NAMES.every((n) => {
    const sp = m.splits[n];
    const st = fs.statSync(path.join(dir, sp.pixelFile), { throwIfNoEntry: false });
    return st?.isFile() && st.size === sp.count * bytes && sp.labels.length === sp.count;
  });
}

export async function loadFolder(dir: string, s: FolderLoadSettings, sourceLabel = dir): Promise<Dataset> {
  // --strict does not stop at the listing's bad names: the decoding finds the broken images too,
  // and one error names them all (build), so the user fixes the folder in one pass.
  const scan = scanFolder(dir, s, (done, total) => s.onProgress?.({ phase: "scan", done, total }));
  const params = {
    v: LOADER_VERSION,
    root: scan.root,
    imageSize: s.imageSize,
    layout: scan.layout,
  } as Record<string, unknown>;
  // The split parameters only matter where the loader does the splitting.
  if (scan.layout === "classes")
    Object.assign(params, { seed: s.splitSeed, valid: s.validFraction, test: s.testFraction });
  const key = sha256(JSON.stringify(params)).slice(0, 20);
  const sourceHash = sha256(`${JSON.stringify(params)}\n${scan.hashLines.join("\n")}`);
  const cacheDir = path.join(s.cacheDir, "images", key);
  try {
    fs.mkdirSync(cacheDir, { recursive: true });
  } catch (cause) {
    throw new DatasetError(
      "cache",
      cacheDir,
      `Cannot create the cache folder ${cacheDir}: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  let manifest = readManifest(cacheDir);
  const reused = usable(manifest, sourceHash, s.imageSize, cacheDir);
  if (reused) {
    if (s.strict && unusable(manifest!.skipped).length > 0)
      throw badFilesError(unusable(manifest!.skipped), scan.root);
    for (const w of manifest!.skipped) s.onWarning?.(w);
  } else {
    for (const w of scan.skipped) s.onWarning?.(w);
    manifest = await build(scan, s, cacheDir, sourceHash, sourceLabel);
  }
  const m = manifest!;
  const imageBytes = s.imageSize * s.imageSize * 3;
  const opened: PixelSplit[] = [];
  try {
    for (const n of SPLIT_NAMES) {
      const sp = m.splits[n];
      opened.push(
        new PixelSplit(
          n,
          sp.count,
          Uint32Array.from(sp.labels),
          sp.files.map((f) => path.join(scan.root, f)),
          path.join(cacheDir, sp.pixelFile),
          imageBytes,
        ),
      );
    }
  } catch (e) {
    for (const o of opened) o.close();
    throw e;
  }
  const [train, valid, test] = opened as [PixelSplit, PixelSplit, PixelSplit];
  return {
    source: sourceLabel,
    classes: m.classes,
    imageSize: s.imageSize,
    channels: 3,
    train,
    valid,
    test,
    channelMean: m.channelMean,
    channelStd: m.channelStd,
    skipped: m.skipped,
    cache: { dir: cacheDir, reused, sourceHash },
    close() {
      for (const o of opened) o.close();
    },
  };
}

export function defaultConcurrency(): number {
  return os.availableParallelism();
}

export type { SplitName };
