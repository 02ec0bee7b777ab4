// A committed cache folder -> a Dataset: its manifest checked against what the caller expects,
// each split opened for positional reads. Shared by every source (folders, synthetic, idx).
import fs from "node:fs";
import path from "node:path";
import { type Manifest, readManifest } from "./cache.js";
import { DatasetError } from "./errors.js";
import { SPLIT_NAMES } from "./scan.js";
import { PixelSplit } from "./split-data.js";
import type { Dataset } from "./types.js";

/** Creates `<cacheRoot>/images/<key>/` and returns it; an unwritable cache is a runtime error. */
export function cacheFolder(cacheRoot: string, key: string): string {
  const dir = path.join(cacheRoot, "images", key);
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (cause) {
    throw new DatasetError(
      "cache",
      dir,
      `Cannot create the cache folder ${dir}: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  return dir;
}

/** The folder's manifest when it is complete and current: same source hash and image size, every pixel file whole. */
export function currentManifest(dir: string, sourceHash: string, imageSize: number): Manifest | undefined {
  const m = readManifest(dir);
  if (!m || m.sourceHash !== sourceHash || m.imageSize !== imageSize) return undefined;
  const bytes = imageSize * imageSize * 3;
  const whole = SPLIT_NAMES.every((n) => {
    const sp = m.splits[n];
    const st = fs.statSync(path.join(dir, sp.pixelFile), { throwIfNoEntry: false });
    return st?.isFile() && st.size === sp.count * bytes && sp.labels.length === sp.count;
  });
  return whole ? m : undefined;
}

/**
 * Opens the splits of a committed manifest in `dir`. `sourceOf` turns a manifest's file entry
 * into what SplitData.files reports (an absolute path for folders).
 */
export function openCached(
  m: Manifest,
  dir: string,
  reused: boolean,
  source: string,
  sourceOf: (entry: string) => string,
): Dataset {
  const imageBytes = m.imageSize * m.imageSize * 3;
  const opened: PixelSplit[] = [];
  try {
    for (const n of SPLIT_NAMES) {
      const sp = m.splits[n];
      opened.push(
        new PixelSplit(
          n,
          sp.count,
          Uint32Array.from(sp.labels),
          sp.files.map(sourceOf),
          path.join(dir, sp.pixelFile),
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
    source,
    classes: m.classes,
    imageSize: m.imageSize,
    channels: 3,
    train,
    valid,
    test,
    channelMean: m.channelMean,
    channelStd: m.channelStd,
    skipped: m.skipped,
    cache: { dir, reused, sourceHash: m.sourceHash },
    close() {
      for (const o of opened) o.close();
    },
  };
}
