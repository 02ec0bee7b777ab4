// An image folder -> decoded uint8 pixels per split, cached, with labels and train statistics.
import os from "node:os";
import path from "node:path";
import { LOADER_VERSION, type Manifest, sha256 } from "./cache.js";
import { CacheWriter } from "./cache-writer.js";
import { type Decoder, openDecoder } from "./decode-pool.js";
import { DatasetError } from "./errors.js";
import { cacheFolder, currentManifest, openCached } from "./open-cached.js";
import {
  type ClassFiles,
  type ScanResult,
  SPLIT_NAMES,
  type SplitOptions,
  scanFolder,
  unusable,
} from "./scan.js";
import type { Dataset, LoadOptions, SkippedFile, SplitName } from "./types.js";

export interface FolderLoadSettings extends SplitOptions {
  imageSize: number;
  strict: boolean;
  cacheDir: string;
  concurrency: number;
  /** Forces the number of decoding threads (1: the calling thread); default by the set's size. */
  threads?: number;
  onProgress?: LoadOptions["onProgress"];
  onWarning?: LoadOptions["onWarning"];
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
  const skipped: SkippedFile[] = [...scan.skipped];
  const writer = new CacheWriter(cacheDir, sourceHash, s.imageSize);
  const splits = SPLIT_NAMES.map((split) => ({ split, ...flatten(scan.classes, scan.splits[split]) }));
  const decoder: Decoder = openDecoder({
    size: s.imageSize,
    concurrency: s.concurrency,
    threads: s.threads,
    files: splits.reduce((n, x) => n + x.files.length, 0),
  });
  try {
    for (const { split, files, labels } of splits) {
      writer.beginSplit(split);
      let done = 0;
      s.onProgress?.({ phase: "decode", split, done: 0, total: files.length });
      await decoder.decode(files, split === "train", (b) => {
        const keptLabels: number[] = [];
        const keptNames: string[] = [];
        b.failures.forEach((reason, k) => {
          const i = b.first + k;
          if (reason === undefined) {
            keptLabels.push(labels[i]);
            keptNames.push(path.relative(scan.root, files[i]).split(path.sep).join("/"));
          } else {
            const w = { file: files[i], reason };
            skipped.push(w);
            s.onWarning?.(w);
          }
        });
        if (keptLabels.length > 0) writer.append(b.pixels, keptLabels, keptNames, b.hist);
        done += b.failures.length;
        s.onProgress?.({ phase: "decode", split, done, total: files.length });
      });
      const kept = writer.endSplit();
      const perClass = new Array<number>(scan.classes.length).fill(0);
      for (const l of kept.labels) perClass[l]++;
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
    }
    if (s.strict && unusable(skipped).length > 0) throw badFilesError(unusable(skipped), scan.root);
    return writer.commit({ source: sourceLabel, classes: scan.classes, skipped });
  } finally {
    writer.dispose();
    await decoder.close();
  }
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
  const cacheDir = cacheFolder(s.cacheDir, key);
  let manifest = currentManifest(cacheDir, sourceHash, s.imageSize);
  const reused = manifest !== undefined;
  if (manifest) {
    if (s.strict && unusable(manifest.skipped).length > 0)
      throw badFilesError(unusable(manifest.skipped), scan.root);
    for (const w of manifest.skipped) s.onWarning?.(w);
  } else {
    for (const w of scan.skipped) s.onWarning?.(w);
    manifest = await build(scan, s, cacheDir, sourceHash, sourceLabel);
  }
  return openCached(manifest, cacheDir, reused, sourceLabel, (f) => path.join(scan.root, f));
}

export function defaultConcurrency(): number {
  return os.availableParallelism();
}

export type { SplitName };
