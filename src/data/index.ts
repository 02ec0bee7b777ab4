// The dataset loader: an image folder, the synthetic spec or Fashion-MNIST -> cached uint8 pixels and labels.
// See docs in each module: scan.ts (layouts), decode.ts (decoding choices), cache.ts (cache
// validity), synthetic.ts (the generated set).
import path from "node:path";
import { defaultCacheDir } from "./cache.js";
import { DatasetError } from "./errors.js";
import { loadFashionMnist } from "./fashion-mnist.js";
import { defaultConcurrency, loadFolder } from "./folder.js";
import { type DataSpec, parseDataSpec } from "./spec.js";
import { loadSynthetic } from "./synthetic-cache.js";
import type { Dataset, LoadOptions } from "./types.js";

export { defaultCacheDir } from "./cache.js";
export { DatasetError, type DatasetErrorKind } from "./errors.js";
export { FASHION_MNIST_CLASSES, FASHION_MNIST_DIR, FASHION_VALID_SHARE } from "./fashion-mnist.js";
export { type IdxArray, parseIdx, readIdxFile } from "./idx.js";
export { IMAGE_EXTENSIONS } from "./scan.js";
export {
  type DataSpec,
  type FashionMnistSpec,
  formatSyntheticSpec,
  parseDataSpec,
  SYNTHETIC_DEFAULTS,
  type SyntheticSpec,
} from "./spec.js";
export { className, classStyle, drawImage } from "./synthetic.js";
export type { Dataset, LoadOptions, ProgressEvent, SkippedFile, SplitData, SplitName } from "./types.js";

export const DEFAULT_IMAGE_SIZE = 224;

function checkOptions(o: LoadOptions): void {
  const bad = (msg: string) => {
    throw new DatasetError("bad-option", "", msg);
  };
  if (
    o.imageSize !== undefined &&
    !(Number.isInteger(o.imageSize) && o.imageSize >= 1 && o.imageSize <= 4096)
  )
    bad(`--image-size must be a whole number from 1 to 4096, got ${o.imageSize}`);
  for (const [k, v] of [
    ["validFraction", o.validFraction],
    ["testFraction", o.testFraction],
  ] as const)
    if (v !== undefined && !(v > 0 && v < 1)) bad(`${k} must lie strictly between 0 and 1, got ${v}`);
  if ((o.validFraction ?? 0.1) + (o.testFraction ?? 0.1) >= 1)
    bad(
      `validFraction + testFraction must be below 1 (train needs images), got ${o.validFraction} + ${o.testFraction}`,
    );
  if (
    o.splitSeed !== undefined &&
    !(Number.isInteger(o.splitSeed) && o.splitSeed >= 0 && o.splitSeed <= 0xffffffff)
  )
    bad(`splitSeed must be a whole number in 0…2^32−1, got ${o.splitSeed}`);
  if (o.concurrency !== undefined && !(Number.isInteger(o.concurrency) && o.concurrency >= 1))
    bad(`concurrency must be a whole number ≥ 1, got ${o.concurrency}`);
}

/**
 * Loads `spec` (a folder, "synthetic[:…]" or "fashion-mnist[:DIR]"): scans, decodes what the cache lacks, and opens each
 * split for positional reads. For synthetic sets the image size is the spec's size= unless
 * options.imageSize is given (then the drawn images are resized as a folder's images are).
 * Call close() on the result when done.
 */
export async function loadDataset(spec: string, options: LoadOptions = {}): Promise<Dataset> {
  checkOptions(options);
  const parsed: DataSpec = parseDataSpec(spec);
  const cacheDir = path.resolve(options.cacheDir ?? defaultCacheDir());
  const concurrency = options.concurrency ?? defaultConcurrency();
  const common = {
    strict: options.strict ?? false,
    cacheDir,
    concurrency,
    splitSeed: options.splitSeed ?? 1,
    validFraction: options.validFraction ?? 0.1,
    testFraction: options.testFraction ?? 0.1,
    onProgress: options.onProgress,
    onWarning: options.onWarning,
  };
  if (parsed.kind === "fashion-mnist")
    return loadFashionMnist(
      parsed.dir,
      { cacheDir, splitSeed: common.splitSeed, imageSize: options.imageSize, onProgress: options.onProgress },
      spec,
    );
  if (parsed.kind === "folder")
    return loadFolder(parsed.dir, { ...common, imageSize: options.imageSize ?? DEFAULT_IMAGE_SIZE }, spec);
  return loadSynthetic(
    parsed,
    { cacheDir, concurrency, imageSize: options.imageSize ?? parsed.size, onProgress: options.onProgress },
    spec,
  );
}
