// Finding the images: the two folder layouts, what counts as an image file, the seeded split of a
// DIR/<class>/… layout, and the lines the source hash is made of. Nothing here decodes.
import fs from "node:fs";
import path from "node:path";
import { seededRandom } from "../util/rng.js";
import { DatasetError } from "./errors.js";
import type { SkippedFile, SplitName } from "./types.js";

export const IMAGE_EXTENSIONS = [".jpg", ".jpeg", ".png", ".webp"] as const;
export const SPLIT_NAMES: readonly SplitName[] = ["train", "valid", "test"];
/** Folder names accepted for each split (Kaggle's BIRDS 525 uses "valid"; many sets use "val"). */
const SPLIT_FOLDERS: Record<SplitName, readonly string[]> = {
  train: ["train"],
  valid: ["valid", "val"],
  test: ["test"],
};

export interface SplitOptions {
  splitSeed: number;
  validFraction: number;
  testFraction: number;
}

/** One split's images grouped by class, files sorted. */
export type ClassFiles = Map<string, string[]>;

export interface ScanResult {
  root: string;
  layout: "splits" | "classes";
  /** Class names of the train split, sorted: the label is the index. */
  classes: string[];
  splits: Record<SplitName, ClassFiles>;
  /** Entries that are not image files at all (found while listing, before any decoding). */
  skipped: SkippedFile[];
  /**
   * One line per entry inside a class folder (relative path, size, mtime), sorted: what the source
   * hash is computed from. Bad entries are included, so fixing a bad file also invalidates.
   */
  hashLines: string[];
}

type Progress = (done: number, total: number) => void;

// Hidden entries (.DS_Store, ._x.jpg AppleDouble files, a Jupyter .ipynb_checkpoints folder) are
// never images or classes; they are skipped, and reported like every other skipped entry.
export const HIDDEN = "hidden (name starts with a dot), ignored";

/** Skipped entries that make a dataset unusable under --strict: all but the hidden ones, which are ignored. */
export function unusable(skipped: readonly SkippedFile[]): SkippedFile[] {
  return skipped.filter((s) => s.reason !== HIDDEN);
}
function isHidden(name: string): boolean {
  return name.startsWith(".");
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Code-unit order, like Python's sorted() on names: the same on every machine and locale. */
export function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function listDir(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => byName(a.name, b.name));
  } catch (cause) {
    throw new DatasetError(
      "missing-folder",
      dir,
      `Cannot read the folder ${dir}: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
}

function relPosix(root: string, p: string): string {
  return path.relative(root, p).split(path.sep).join("/");
}

interface ClassListing {
  files: string[];
}

/** Lists one class folder: image files to decode; everything else is reported as skipped. */
function listClass(
  root: string,
  classDir: string,
  skipped: SkippedFile[],
  hashLines: string[],
): ClassListing {
  const files: string[] = [];
  for (const ent of listDir(classDir)) {
    const p = path.join(classDir, ent.name);
    const rel = relPosix(root, p);
    if (isHidden(ent.name)) {
      skipped.push({ file: p, reason: HIDDEN });
      continue;
    }
    let st: fs.Stats;
    try {
      st = fs.statSync(p); // follows symlinks: a link to an image is an image
    } catch (cause) {
      const l = fs.lstatSync(p, { throwIfNoEntry: false });
      hashLines.push(`${rel}\t${l?.size ?? -1}\t${l?.mtimeMs ?? -1}\tunreadable`);
      const why = l?.isSymbolicLink() ? "a broken symbolic link" : (cause as Error).message;
      skipped.push({ file: p, reason: `unreadable: ${why}` });
      continue;
    }
    hashLines.push(`${rel}\t${st.size}\t${st.mtimeMs}`);
    const ext = path.extname(ent.name).toLowerCase();
    const looksLikeImage = (IMAGE_EXTENSIONS as readonly string[]).includes(ext);
    if (st.isDirectory()) {
      skipped.push({
        file: p,
        reason: looksLikeImage
          ? "unreadable: a folder, not an image file"
          : "a folder inside a class folder (not searched)",
      });
    } else if (!st.isFile()) {
      skipped.push({ file: p, reason: "unreadable: not a regular file" });
    } else if (!looksLikeImage) {
      skipped.push({
        file: p,
        reason: `not an image file extension (${ext || "none"}; expected ${IMAGE_EXTENSIONS.join(", ")})`,
      });
    } else {
      files.push(p);
    }
  }
  return { files };
}

/** Class folders of one split folder; files lying beside them are reported as skipped. */
function listClasses(
  root: string,
  splitDir: string,
  skipped: SkippedFile[],
  hashLines: string[],
  progress: { done: number; total: number; report?: Progress },
): ClassFiles {
  const out: ClassFiles = new Map();
  const entries = listDir(splitDir);
  const classDirs = entries.filter((e) => !isHidden(e.name) && isDir(path.join(splitDir, e.name)));
  progress.total += classDirs.length;
  for (const ent of entries) {
    const p = path.join(splitDir, ent.name);
    if (isHidden(ent.name)) {
      skipped.push({ file: p, reason: HIDDEN });
      continue;
    }
    if (!isDir(p)) {
      skipped.push({ file: p, reason: "not inside a class folder" });
      continue;
    }
    const { files } = listClass(root, p, skipped, hashLines);
    if (files.length === 0)
      throw new DatasetError(
        "empty-class",
        p,
        `The class folder ${p} holds no image files (${IMAGE_EXTENSIONS.join(", ")}). Remove it or add images.`,
      );
    out.set(ent.name, files);
    progress.done++;
    progress.report?.(progress.done, progress.total);
  }
  return out;
}

/** A 32-bit FNV-1a hash: mixes a class name into the split seed. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * Splits each class of a DIR/<class>/… layout on its own (stratified): every class gets at least
 * one image in each split. The shuffle is seeded by splitSeed and the class name, so adding a
 * class or an image to one class leaves the other classes' splits unchanged.
 */
export function splitByRatio(all: ClassFiles, opts: SplitOptions): Record<SplitName, ClassFiles> {
  const out: Record<SplitName, ClassFiles> = { train: new Map(), valid: new Map(), test: new Map() };
  for (const [name, files] of all) {
    const n = files.length;
    const nValid = Math.max(1, Math.round(n * opts.validFraction));
    const nTest = Math.max(1, Math.round(n * opts.testFraction));
    if (n - nValid - nTest < 1) {
      const dir = path.dirname(files[0]);
      throw new DatasetError(
        "too-few-images",
        dir,
        `The class folder ${dir} has ${n} image file(s): too few to give train, valid and test one each ` +
          `(valid ${nValid}, test ${nTest} at fractions ${opts.validFraction}/${opts.testFraction}).`,
      );
    }
    const order = files.slice();
    const rng = seededRandom((opts.splitSeed ^ fnv1a(name)) >>> 0);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    // Within a split the cache order is by file name again; the shuffle only picks membership.
    out.valid.set(name, order.slice(0, nValid).sort(byName));
    out.test.set(name, order.slice(nValid, nValid + nTest).sort(byName));
    out.train.set(name, order.slice(nValid + nTest).sort(byName));
  }
  return out;
}

function checkSameClasses(splitDirs: Record<SplitName, string>, splits: Record<SplitName, ClassFiles>) {
  const train = new Set(splits.train.keys());
  for (const name of ["valid", "test"] as const) {
    const here = new Set(splits[name].keys());
    const missing = [...train].filter((c) => !here.has(c));
    const extra = [...here].filter((c) => !train.has(c));
    if (missing.length)
      throw new DatasetError(
        "class-mismatch",
        splitDirs[name],
        `${splitDirs[name]} has no folder for class(es) ${missing.map((c) => JSON.stringify(c)).join(", ")} ` +
          `that ${splitDirs.train} has: every class must be in every split.`,
      );
    if (extra.length)
      throw new DatasetError(
        "class-mismatch",
        path.join(splitDirs[name], extra[0]),
        `${splitDirs[name]} has class folder(s) ${extra.map((c) => JSON.stringify(c)).join(", ")} ` +
          `that ${splitDirs.train} lacks: every class must be in every split.`,
      );
  }
}

/** Finds the layout and every image; throws for a missing folder, split, empty class, no classes. */
export function scanFolder(dirArg: string, opts: SplitOptions, report?: Progress): ScanResult {
  const root = path.resolve(dirArg);
  if (!fs.existsSync(root))
    throw new DatasetError("missing-folder", root, `The dataset folder ${root} does not exist.`);
  if (!isDir(root))
    throw new DatasetError("missing-folder", root, `The dataset path ${root} is not a folder.`);
  const skipped: SkippedFile[] = [];
  const hashLines: string[] = [];
  const progress = { done: 0, total: 0, report };
  const top = listDir(root).map((e) => e.name);
  const splitFolder = (s: SplitName) =>
    SPLIT_FOLDERS[s].find((f) => top.includes(f) && isDir(path.join(root, f)));
  const anySplit = SPLIT_NAMES.some((s) => splitFolder(s) !== undefined);
  let splits: Record<SplitName, ClassFiles>;
  let layout: ScanResult["layout"];
  if (anySplit) {
    layout = "splits";
    const dirs = {} as Record<SplitName, string>;
    for (const s of SPLIT_NAMES) {
      const f = splitFolder(s);
      const want = path.join(root, SPLIT_FOLDERS[s][0]);
      if (f === undefined)
        throw new DatasetError(
          "missing-split",
          want,
          `The split folder ${want} is missing: ${root} has a train/valid/test layout, which needs all three` +
            (s === "valid" ? ` (${path.join(root, "val")} is accepted too).` : "."),
        );
      dirs[s] = path.join(root, f);
    }
    splits = { train: new Map(), valid: new Map(), test: new Map() };
    for (const s of SPLIT_NAMES) {
      splits[s] = listClasses(root, dirs[s], skipped, hashLines, progress);
      if (splits[s].size === 0)
        throw new DatasetError("no-images", dirs[s], `The split folder ${dirs[s]} has no class folders.`);
    }
    checkSameClasses(dirs, splits);
  } else {
    layout = "classes";
    const all = listClasses(root, root, skipped, hashLines, progress);
    if (all.size === 0)
      throw new DatasetError(
        "no-images",
        root,
        `No images in ${root}: expected ${root}/{train,valid,test}/<class>/*.{jpg,jpeg,png,webp} or ${root}/<class>/*.`,
      );
    splits = splitByRatio(all, opts);
  }
  // A classifier of one class learns nothing (its loss is 0 from the first step): refuse it here,
  // before a suite's idle baseline or a single step, naming the class found.
  if (splits.train.size < 2) {
    const [only] = splits.train.keys();
    throw new DatasetError(
      "no-images",
      root,
      `${root} has one class ("${only}"): a classifier needs at least 2 class folders, ${layout === "splits" ? `in each of ${SPLIT_NAMES.join(", ")}` : `${root}/<class>/…`}.`,
    );
  }
  hashLines.sort(byName);
  return { root, layout, classes: [...splits.train.keys()].sort(byName), splits, skipped, hashLines };
}
