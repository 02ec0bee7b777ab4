// Fashion-MNIST (Zalando; Debian's dataset-fashion-mnist) -> the decoded-pixel cache, straight from
// its idx files: 60,000 train + 10,000 test 28×28 grey images, 10 classes.
//
// Choices:
// - Grey is replicated to RGB (28×28×3 = 2352 inputs): the loader, the normalisation and the model
//   all take 3 channels, and the reference MLP is 2352 → 256 → 10. The three channels then
//   carry the same mean and std.
// - Validation: 1/12 of the train file held out (5,000 of 60,000, as Keras' and PyTorch's examples
//   often do), stratified — each class gives its share (500 each here, largest remainder when it
//   does not divide) — chosen by a seeded shuffle per class (LoadOptions.splitSeed, default 1).
//   Train keeps the rest; the 10,000 t10k images are the test split. Within a split images keep
//   their file order.
// - No resizing: the images are used at their 28×28; another imageSize is refused.
import fs from "node:fs";
import path from "node:path";
import { seededRandom } from "../util/rng.js";
import { LOADER_VERSION, type Manifest, readManifest, sha256 } from "./cache.js";
import { CacheWriter } from "./cache-writer.js";
import { DatasetError } from "./errors.js";
import { type IdxArray, readIdxFile } from "./idx.js";
import { cacheFolder, currentManifest, openCached } from "./open-cached.js";
import type { Dataset, LoadOptions, SplitName } from "./types.js";

/** Where Debian's dataset-fashion-mnist puts the files. */
export const FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";

/** Label order of the Fashion-MNIST README. */
export const FASHION_MNIST_CLASSES = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
];

/** The share of the train file held out for validation: 5,000 of 60,000. */
export const FASHION_VALID_SHARE = 1 / 12;

const FILES = {
  trainImages: "train-images-idx3-ubyte",
  trainLabels: "train-labels-idx1-ubyte",
  testImages: "t10k-images-idx3-ubyte",
  testLabels: "t10k-labels-idx1-ubyte",
} as const;
type FileRole = keyof typeof FILES;

export interface FashionLoadSettings {
  cacheDir: string;
  splitSeed: number;
  /** When given it must equal the files' side (28). */
  imageSize?: number;
  onProgress?: LoadOptions["onProgress"];
}

/** Each file as it is in `dir`: plain or .gz (the plain one when both exist). */
function locate(dir: string): Record<FileRole, string> {
  const st = fs.statSync(dir, { throwIfNoEntry: false });
  if (!st?.isDirectory())
    throw new DatasetError(
      "missing-folder",
      dir,
      `Fashion-MNIST folder ${dir} does not exist${dir === FASHION_MNIST_DIR ? " (install Debian's dataset-fashion-mnist: setup.sh does)" : ""}; give fashion-mnist:DIR for another place`,
    );
  const out = {} as Record<FileRole, string>;
  for (const role of Object.keys(FILES) as FileRole[]) {
    const name = FILES[role];
    const found = [name, `${name}.gz`].map((n) => path.join(dir, n)).find((f) => fs.existsSync(f));
    if (!found)
      throw new DatasetError(
        "missing-file",
        path.join(dir, name),
        `${dir} holds no ${name} (nor ${name}.gz)`,
      );
    out[role] = found;
  }
  return out;
}

/** Images [n, side, side] and labels [n] of one split, checked against each other. */
function readPair(imagesFile: string, labelsFile: string): { images: IdxArray; labels: Uint8Array } {
  const images = readIdxFile(imagesFile, 3);
  const [n, rows, cols] = images.dims;
  if (rows !== cols)
    throw new DatasetError(
      "bad-idx",
      imagesFile,
      `${imagesFile}: images of ${rows}×${cols}; only square images are supported`,
    );
  const labels = readIdxFile(labelsFile, 1);
  if (labels.dims[0] !== n)
    throw new DatasetError(
      "bad-idx",
      labelsFile,
      `${labelsFile}: ${labels.dims[0]} labels for the ${n} images of ${imagesFile} (count mismatch)`,
    );
  const K = FASHION_MNIST_CLASSES.length;
  const badAt = labels.data.findIndex((l) => l >= K);
  if (badAt >= 0)
    throw new DatasetError(
      "bad-idx",
      labelsFile,
      `${labelsFile}: label ${labels.data[badAt]} at index ${badAt} is outside 0…${K - 1}`,
    );
  return { images, labels: labels.data };
}

/**
 * The stratified, seeded hold-out: indices (file order) of the valid images. Class c of n_c images
 * gives n_c·V/n rounded by largest remainder (ties to the lower class), so the quotas sum to V.
 */
export function stratifiedHoldout(
  labels: ArrayLike<number>,
  classes: number,
  valid: number,
  seed: number,
): number[] {
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < labels.length; i++) byClass[labels[i]].push(i);
  const exact = byClass.map((ix) => (ix.length * valid) / labels.length);
  const quota = exact.map(Math.floor);
  let left = valid - quota.reduce((a, b) => a + b, 0);
  const order = exact
    .map((e, c) => ({ frac: e - Math.floor(e), c }))
    .sort((a, b) => b.frac - a.frac || a.c - b.c);
  for (const { c } of order) if (left-- > 0) quota[c]++;
  const chosen: number[] = [];
  byClass.forEach((ix, c) => {
    const rng = seededRandom((seed ^ Math.imul(c + 1, 0x9e3779b1)) >>> 0);
    const a = ix.slice();
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [a[i], a[j]] = [a[j], a[i]];
    }
    chosen.push(...a.slice(0, quota[c]));
  });
  return chosen.sort((x, y) => x - y);
}

/** Writes images `indices` of `src` (grey, side²) as RGB into the open split of `writer`. */
function writeGreyAsRgb(
  writer: CacheWriter,
  src: IdxArray,
  labels: Uint8Array,
  indices: readonly number[],
  fileName: string,
  progress: (done: number) => void,
): void {
  const px = src.dims[1] * src.dims[2];
  const CHUNK = 1024;
  const out = new Uint8Array(CHUNK * px * 3);
  for (let start = 0; start < indices.length; start += CHUNK) {
    const n = Math.min(CHUNK, indices.length - start);
    const lab: number[] = [];
    const names: string[] = [];
    for (let k = 0; k < n; k++) {
      const i = indices[start + k];
      const from = i * px;
      const to = k * px * 3;
      for (let p = 0; p < px; p++) {
        const g = src.data[from + p];
        out[to + 3 * p] = g;
        out[to + 3 * p + 1] = g;
        out[to + 3 * p + 2] = g;
      }
      lab.push(labels[i]);
      names.push(`${fileName}#${i}`);
    }
    writer.append(out.subarray(0, n * px * 3), lab, names);
    progress(start + n);
  }
}

function sizeRefused(file: string, side: number, asked: number): never {
  throw new DatasetError(
    "bad-option",
    file,
    `Fashion-MNIST's images are ${side}×${side}; image size ${asked} was asked for (they are not resized: use ${side}, or leave it unset)`,
  );
}

function build(
  files: Record<FileRole, string>,
  s: FashionLoadSettings,
  cacheDir: string,
  sourceHash: string,
  source: string,
): Manifest {
  const train = readPair(files.trainImages, files.trainLabels);
  const test = readPair(files.testImages, files.testLabels);
  const side = train.images.dims[1];
  if (test.images.dims[1] !== side)
    throw new DatasetError(
      "bad-idx",
      files.testImages,
      `${files.testImages}: ${test.images.dims[1]}×${test.images.dims[1]} images, but ${files.trainImages} has ${side}×${side}`,
    );
  if (s.imageSize !== undefined && s.imageSize !== side) sizeRefused(files.trainImages, side, s.imageSize);
  const K = FASHION_MNIST_CLASSES.length;
  const n = train.images.dims[0];
  const validIx = stratifiedHoldout(train.labels, K, Math.round(n * FASHION_VALID_SHARE), s.splitSeed);
  const isValid = new Uint8Array(n);
  for (const i of validIx) isValid[i] = 1;
  const trainIx: number[] = [];
  for (let i = 0; i < n; i++) if (!isValid[i]) trainIx.push(i);
  const testIx = Array.from({ length: test.images.dims[0] }, (_, i) => i);
  const plan: Array<[SplitName, IdxArray, Uint8Array, number[], string]> = [
    ["train", train.images, train.labels, trainIx, files.trainImages],
    ["valid", train.images, train.labels, validIx, files.trainImages],
    ["test", test.images, test.labels, testIx, files.testImages],
  ];
  const writer = new CacheWriter(cacheDir, sourceHash, side);
  try {
    for (const [split, images, labels, ix, file] of plan) {
      const seen = new Uint8Array(K);
      for (const i of ix) seen[labels[i]] = 1;
      const missing = seen.indexOf(0);
      if (missing >= 0)
        throw new DatasetError(
          "too-few-images",
          file,
          `${file}: no image of class ${missing} (${FASHION_MNIST_CLASSES[missing]}) in the ${split} split (${ix.length} images): every class needs one in every split`,
        );
      writer.beginSplit(split);
      s.onProgress?.({ phase: "decode", split, done: 0, total: ix.length });
      writeGreyAsRgb(writer, images, labels, ix, path.basename(file), (done) =>
        s.onProgress?.({ phase: "decode", split, done, total: ix.length }),
      );
      writer.endSplit();
    }
    return writer.commit({ source, classes: FASHION_MNIST_CLASSES, skipped: [] });
  } finally {
    writer.dispose();
  }
}

/** Loads Fashion-MNIST from `dir` through the cache (a stat of four files on a hit, no parsing). */
export function loadFashionMnist(dir: string, s: FashionLoadSettings, source: string): Dataset {
  const root = path.resolve(dir);
  const files = locate(root);
  const params = {
    v: LOADER_VERSION,
    kind: "fashion-mnist",
    root,
    seed: s.splitSeed,
    valid: FASHION_VALID_SHARE,
  };
  const key = sha256(JSON.stringify(params)).slice(0, 20);
  // Like folders: each file's name, size and mtime, not its bytes.
  const lines = Object.values(files).map((f) => {
    const st = fs.statSync(f);
    return `${path.basename(f)}\t${st.size}\t${st.mtimeMs}`;
  });
  const sourceHash = sha256(`${JSON.stringify(params)}\n${lines.join("\n")}`);
  const cacheDir = cacheFolder(s.cacheDir, key);
  // The side is only known from the files: a hit is checked at the size the cache holds, then
  // against the one asked for (the same refusal as a build's).
  const side = readManifest(cacheDir)?.imageSize;
  const held = side === undefined ? undefined : currentManifest(cacheDir, sourceHash, side);
  if (held && s.imageSize !== undefined && s.imageSize !== held.imageSize)
    sizeRefused(files.trainImages, held.imageSize, s.imageSize);
  const manifest = held ?? build(files, s, cacheDir, sourceHash, source);
  return openCached(manifest, cacheDir, held !== undefined, source, (f) => path.join(root, f));
}
