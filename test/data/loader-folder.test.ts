// The folder loader against images whose pixels are known by construction: solid colours written
// with sharp in every format the loader accepts, bad files of every kind, both layouts, and the
// cache's reuse and invalidation. Expectations come from the colours we wrote, never from the loader.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import {
  type Dataset,
  DatasetError,
  type LoadOptions,
  loadDataset,
  type ProgressEvent,
} from "../../src/data/index.js";
import { makeRng, runSeed } from "../helpers/rng.js";

type Rgb = [number, number, number];

const seed = runSeed();
console.log(`loader-folder seed ${seed} (HALFWATT_SEED=${seed} replays)`);
const rng = makeRng(seed);
const root = fs.mkdtempSync(path.join(os.tmpdir(), "halfwatt-data-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

let counter = 0;
/** A fresh dataset folder and a fresh cache folder. */
function fresh(): { dir: string; cache: string } {
  const base = path.join(root, `case${++counter}`);
  fs.mkdirSync(path.join(base, "data"), { recursive: true });
  return { dir: path.join(base, "data"), cache: path.join(base, "cache") };
}

function randomColour(): Rgb {
  return [0, 1, 2].map(() => 20 + Math.floor(rng() * 216)) as Rgb;
}

type Format = "png" | "jpeg" | "webp";
async function solid(file: string, c: Rgb, format: Format = "png", w = 21, h = 13): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const img = sharp({
    create: { width: w, height: h, channels: 3, background: { r: c[0], g: c[1], b: c[2] } },
  });
  if (format === "png") await img.png().toFile(file);
  else if (format === "jpeg") await img.jpeg({ quality: 100, chromaSubsampling: "4:4:4" }).toFile(file);
  else await img.webp({ lossless: true }).toFile(file);
}

/** The colour of every pixel of image i, if they are all equal (else throws). */
function pixelsOf(ds: Dataset, split: "train" | "valid" | "test", i: number): Uint8Array {
  const out = new Uint8Array(ds.train.imageBytes);
  ds[split].readRange(i, 1, out);
  return out;
}
function expectSolid(px: Uint8Array, c: Rgb, tol: number, what: string): void {
  let worst = 0;
  for (let p = 0; p < px.length; p += 3)
    for (let ch = 0; ch < 3; ch++) worst = Math.max(worst, Math.abs(px[p + ch] - c[ch]));
  expect(worst, `${what}: max |pixel − ${c}|`).toBeLessThanOrEqual(tol);
}
function indexOfFile(ds: Dataset, split: "train" | "valid" | "test", endsWith: string): number {
  const i = ds[split].files.findIndex((f) => f.endsWith(endsWith));
  expect(i, `${endsWith} in ${split}`).toBeGreaterThanOrEqual(0);
  return i;
}

async function load(dir: string, cache: string, extra: LoadOptions = {}) {
  const warnings: { file: string; reason: string }[] = [];
  const events: ProgressEvent[] = [];
  const ds = await loadDataset(dir, {
    cacheDir: cache,
    concurrency: 3,
    onWarning: (w) => warnings.push(w),
    onProgress: (e) => events.push(e),
    ...extra,
  });
  return { ds, warnings, events };
}

async function rejects(p: Promise<unknown>): Promise<DatasetError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DatasetError);
    expect((e as DatasetError).code).toMatch(/^E_/);
    return e as DatasetError;
  }
  throw new Error("expected a DatasetError, got success");
}

/** Three splits × the given classes, one solid PNG per (split, class) unless files are given. */
async function splitLayout(dir: string, classes: string[], perClass = 1): Promise<Map<string, Rgb>> {
  const colours = new Map<string, Rgb>();
  for (const split of ["train", "valid", "test"])
    for (const c of classes)
      for (let k = 0; k < perClass; k++) {
        const rel = `${split}/${c}/img${k}.png`;
        const col = randomColour();
        colours.set(rel, col);
        await solid(path.join(dir, rel), col);
      }
  return colours;
}

/** A second class ("zz-other", one image per split): a dataset needs two classes to be used at all. */
async function secondClass(dir: string): Promise<void> {
  for (const split of ["train", "valid", "test"])
    await solid(path.join(dir, split, "zz-other", "img.png"), randomColour());
}

describe("decoding: every format to 3-channel sRGB", () => {
  it("PNG, JPEG, WebP, grey, RGBA, CMYK JPEG and 16-bit PNG decode to their colour", async () => {
    const { dir, cache } = fresh();
    const col = randomColour();
    const t = path.join(dir, "train", "all");
    await solid(path.join(t, "a.png"), col, "png");
    await solid(path.join(t, "b.jpg"), col, "jpeg");
    await solid(path.join(t, "c.JPEG"), col, "jpeg", 7, 30); // upper-case extension, odd aspect
    await solid(path.join(t, "d.webp"), col, "webp");
    const grey = 20 + Math.floor(rng() * 216);
    await sharp(Buffer.alloc(17 * 9, grey), { raw: { width: 17, height: 9, channels: 1 } })
      .png()
      .toFile(path.join(t, "e.png"));
    // RGBA at half opacity: alpha is dropped, the colour under it kept (PIL's convert("RGB")).
    await sharp({
      create: {
        width: 11,
        height: 11,
        channels: 4,
        background: { r: col[0], g: col[1], b: col[2], alpha: 0.5 },
      },
    })
      .png()
      .toFile(path.join(t, "f.png"));
    // CMYK: converted through sharp's default profile; a colour inside the CMYK gamut comes back close.
    await sharp({ create: { width: 12, height: 12, channels: 3, background: { r: 100, g: 150, b: 100 } } })
      .toColourspace("cmyk")
      .jpeg({ quality: 100 })
      .toFile(path.join(t, "g.jpg"));
    expect((await sharp(path.join(t, "g.jpg")).metadata()).space).toBe("cmyk");
    // 16-bit PNG whose samples are the 8-bit colour × 257 (exactly representable both ways).
    const w16 = new Uint16Array(5 * 4 * 3);
    for (let i = 0; i < w16.length; i++) w16[i] = col[i % 3] * 257;
    await sharp(w16, { raw: { width: 5, height: 4, channels: 3 } })
      .toColourspace("rgb16")
      .png()
      .toFile(path.join(t, "h.png"));
    expect((await sharp(path.join(t, "h.png")).metadata()).depth).toBe("ushort");
    for (const s of ["valid", "test"]) await solid(path.join(dir, s, "all", "x.png"), col);
    await secondClass(dir);

    const { ds, warnings } = await load(dir, cache, { imageSize: 9 });
    try {
      expect(warnings).toEqual([]);
      expect(ds.train.count).toBe(8 + 1);
      expect(ds.imageSize).toBe(9);
      expect(ds.train.imageBytes).toBe(9 * 9 * 3);
      expectSolid(pixelsOf(ds, "train", indexOfFile(ds, "train", "a.png")), col, 0, "png");
      expectSolid(pixelsOf(ds, "train", indexOfFile(ds, "train", "b.jpg")), col, 3, "jpeg q100");
      expectSolid(pixelsOf(ds, "train", indexOfFile(ds, "train", "c.JPEG")), col, 3, "jpeg 7×30");
      expectSolid(pixelsOf(ds, "train", indexOfFile(ds, "train", "d.webp")), col, 0, "lossless webp");
      expectSolid(
        pixelsOf(ds, "train", indexOfFile(ds, "train", "e.png")),
        [grey, grey, grey],
        0,
        "grey png",
      );
      expectSolid(pixelsOf(ds, "train", indexOfFile(ds, "train", "f.png")), col, 0, "rgba png");
      expectSolid(pixelsOf(ds, "train", indexOfFile(ds, "train", "g.jpg")), [100, 150, 100], 10, "cmyk jpeg");
      expectSolid(pixelsOf(ds, "train", indexOfFile(ds, "train", "h.png")), col, 0, "16-bit png");
    } finally {
      ds.close();
    }
  });

  it("squashes to size×size (no crop) and applies EXIF orientation", async () => {
    const { dir, cache } = fresh();
    const red: Rgb = [255, 0, 0];
    const blue: Rgb = [0, 0, 255];
    // 40×20: red in the left quarter. Squashed, column 0 is red; a centre crop would lose it.
    const wide = Buffer.alloc(40 * 20 * 3);
    for (let y = 0; y < 20; y++) for (let x = 0; x < 40; x++) wide.set(x < 10 ? red : blue, (y * 40 + x) * 3);
    await sharp(wide, { raw: { width: 40, height: 20, channels: 3 } })
      .png()
      .toFile(path.join(dir, "w.png"));
    // 20×10: left half red, EXIF orientation 6 (display rotated 90° clockwise): red on top.
    const half = Buffer.alloc(20 * 10 * 3);
    for (let y = 0; y < 10; y++) for (let x = 0; x < 20; x++) half.set(x < 10 ? red : blue, (y * 20 + x) * 3);
    await sharp(half, { raw: { width: 20, height: 10, channels: 3 } })
      .jpeg({ quality: 100, chromaSubsampling: "4:4:4" })
      .withMetadata({ orientation: 6 })
      .toFile(path.join(dir, "o.jpg"));
    for (const s of ["train", "valid", "test"]) {
      fs.mkdirSync(path.join(dir, s, "k"), { recursive: true });
      fs.copyFileSync(path.join(dir, "w.png"), path.join(dir, s, "k", "w.png"));
      fs.copyFileSync(path.join(dir, "o.jpg"), path.join(dir, s, "k", "o.jpg"));
    }
    await secondClass(dir);
    const { ds } = await load(dir, cache, { imageSize: 8 });
    try {
      const at = (px: Uint8Array, x: number, y: number) =>
        Array.from(px.subarray((y * 8 + x) * 3, (y * 8 + x) * 3 + 3));
      const w = pixelsOf(ds, "train", indexOfFile(ds, "train", "w.png"));
      for (let y = 0; y < 8; y++) {
        expect(at(w, 0, y)[0], `squash: (0,${y}) red`).toBeGreaterThan(200);
        expect(at(w, 7, y)[2], `squash: (7,${y}) blue`).toBeGreaterThan(200);
      }
      const o = pixelsOf(ds, "train", indexOfFile(ds, "train", "o.jpg"));
      for (let x = 0; x < 8; x++) {
        expect(at(o, x, 0)[0], `orientation: (${x},0) red`).toBeGreaterThan(200);
        expect(at(o, x, 7)[2], `orientation: (${x},7) blue`).toBeGreaterThan(200);
      }
    } finally {
      ds.close();
    }
  });
});

describe("layout, labels and reads", () => {
  it("labels follow the sorted class names; files within a class in name order; stats of train", async () => {
    const { dir, cache } = fresh();
    // Code-unit order: "C" < "a" < "b" (as Python's sorted()), not locale order.
    const colours = await splitLayout(dir, ["b", "a", "C"], 2);
    const { ds, events } = await load(dir, cache, { imageSize: 5 });
    try {
      expect(ds.classes).toEqual(["C", "a", "b"]);
      expect(ds.channels).toBe(3);
      expect(ds.source).toBe(dir);
      for (const split of ["train", "valid", "test"] as const) {
        const sp = ds[split];
        expect(sp.name).toBe(split);
        expect(sp.count).toBe(6);
        expect(Array.from(sp.labels)).toEqual([0, 0, 1, 1, 2, 2]);
        expect(sp.files.map((f) => path.relative(dir, f))).toEqual(
          ["C", "a", "b"].flatMap((c) => [0, 1].map((k) => path.join(split, c, `img${k}.png`))),
        );
        for (let i = 0; i < sp.count; i++)
          expectSolid(pixelsOf(ds, split, i), colours.get(path.relative(dir, sp.files[i]))!, 0, sp.files[i]);
        const dec = events.filter((e) => e.phase === "decode" && e.split === split);
        expect(dec.at(-1)).toEqual({ phase: "decode", split, done: 6, total: 6 });
      }
      // Channel statistics, computed here from the colours written: every pixel of an image is its colour.
      const train = [...colours].filter(([k]) => k.startsWith("train/")).map(([, c]) => c);
      for (let ch = 0; ch < 3; ch++) {
        const v = train.map((c) => c[ch] / 255);
        const mean = v.reduce((a, b) => a + b, 0) / v.length;
        const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
        expect(ds.channelMean[ch]).toBeCloseTo(mean, 12);
        expect(ds.channelStd[ch]).toBeCloseTo(sd, 12);
      }
    } finally {
      ds.close();
    }
  });

  it("readRange and readIndices copy the right bytes, in the order asked; bad ranges are errors", async () => {
    const { dir, cache } = fresh();
    const colours = await splitLayout(dir, ["p", "q", "r", "s"], 1);
    const { ds } = await load(dir, cache, { imageSize: 3 });
    try {
      const sp = ds.train;
      const B = sp.imageBytes;
      const colourOf = (i: number) => colours.get(path.relative(dir, sp.files[i]))!;
      const expected = (idx: number[]) => {
        const e = new Uint8Array(idx.length * B);
        idx.forEach((i, k) => {
          for (let p = 0; p < B; p++) e[k * B + p] = colourOf(i)[p % 3];
        });
        return e;
      };
      const out = new Uint8Array(3 * B + 5).fill(7);
      sp.readRange(1, 3, out);
      expect(out.subarray(0, 3 * B)).toEqual(expected([1, 2, 3]));
      expect(out[3 * B]).toBe(7); // nothing written past n images
      const idx = [3, 0, 0, 2, 3];
      const g = new Uint8Array(idx.length * B);
      sp.readIndices(idx, g);
      expect(g).toEqual(expected(idx));
      sp.readIndices(Uint32Array.from([1, 2, 3]), g); // a consecutive run: one read
      expect(g.subarray(0, 3 * B)).toEqual(expected([1, 2, 3]));
      const err = (f: () => void) => {
        try {
          f();
        } catch (e) {
          expect(e).toBeInstanceOf(DatasetError);
          expect((e as DatasetError).kind).toBe("out-of-range");
          return;
        }
        throw new Error("no error");
      };
      err(() => sp.readRange(2, 3, out));
      err(() => sp.readRange(-1, 1, out));
      err(() => sp.readRange(0, 4, new Uint8Array(4 * B - 1)));
      err(() => sp.readIndices([0, 4], g));
      err(() => sp.readIndices([0.5], g));
      err(() => sp.readIndices([0, 1], new Uint8Array(B)));
      sp.close();
      err(() => sp.readRange(0, 1, out));
    } finally {
      ds.close();
    }
  });

  it("DIR/<class>/…: a seeded, stratified split; every class in every split; deterministic", async () => {
    const { dir, cache } = fresh();
    const sizes: Record<string, number> = { ant: 10, bee: 7, cat: 3 };
    for (const [c, n] of Object.entries(sizes))
      for (let k = 0; k < n; k++)
        await solid(path.join(dir, c, `${String(k).padStart(2, "0")}.png`), randomColour());
    fs.writeFileSync(path.join(dir, "README.txt"), "not a class");
    const opts = { imageSize: 4, splitSeed: 5, validFraction: 0.2, testFraction: 0.2 };
    const a = await load(dir, cache, opts);
    const b = await load(dir, path.join(cache, "other"), opts);
    const c = await load(dir, cache, { ...opts, splitSeed: 6 });
    try {
      const members = (ds: Dataset) =>
        (["train", "valid", "test"] as const).map((s) =>
          ds[s].files.map((f) => path.relative(dir, f)).sort(),
        );
      expect(a.ds.classes).toEqual(["ant", "bee", "cat"]);
      // Expected counts by the documented rule: max(1, round(n·fraction)) for valid and test.
      const want = { ant: [6, 2, 2], bee: [5, 1, 1], cat: [1, 1, 1] } as Record<string, number[]>;
      (["train", "valid", "test"] as const).forEach((s, si) => {
        const labels = Array.from(a.ds[s].labels);
        a.ds.classes.forEach((name, ci) => {
          expect(labels.filter((l) => l === ci).length, `${s}/${name}`).toBe(want[name][si]);
        });
        a.ds[s].files.forEach((f, i) => {
          expect(path.basename(path.dirname(f))).toBe(a.ds.classes[a.ds[s].labels[i]]);
        });
      });
      const all = members(a.ds).flat().sort();
      expect(all).toEqual(
        Object.entries(sizes)
          .flatMap(([cl, n]) =>
            Array.from({ length: n }, (_, k) => path.join(cl, `${String(k).padStart(2, "0")}.png`)),
          )
          .sort(),
      );
      expect(new Set(all).size).toBe(all.length); // disjoint
      expect(members(b.ds)).toEqual(members(a.ds)); // same seed, fresh cache: same split
      expect(members(c.ds)).not.toEqual(members(a.ds)); // another seed: another split
      expect(a.warnings.map((w) => w.file)).toEqual([path.join(dir, "README.txt")]);
    } finally {
      a.ds.close();
      b.ds.close();
      c.ds.close();
    }
    fs.rmSync(path.join(dir, "cat", "02.png"));
    const e = await rejects(load(dir, cache, opts));
    expect(e.kind).toBe("too-few-images");
    expect(e.path).toBe(path.join(dir, "cat"));
  });
});

describe("bad files: skipped with a warning naming each, or an error with --strict", () => {
  async function withBadFiles(): Promise<{
    dir: string;
    cache: string;
    bad: string[];
    good: Map<string, Rgb>;
  }> {
    const { dir, cache } = fresh();
    const good = await splitLayout(dir, ["x", "y"], 2);
    const t = path.join(dir, "train", "x");
    const bad: string[] = [];
    const add = (name: string) => {
      bad.push(path.join(t, name));
      return path.join(t, name);
    };
    fs.writeFileSync(add("empty.jpg"), "");
    const noisy = Buffer.from(Array.from({ length: 64 * 64 * 3 }, () => Math.floor(rng() * 256)));
    const jpeg = await sharp(noisy, { raw: { width: 64, height: 64, channels: 3 } })
      .jpeg()
      .toBuffer();
    fs.writeFileSync(add("truncated.jpg"), jpeg.subarray(0, jpeg.length >> 1));
    fs.writeFileSync(add("text.jpg"), "this is not a picture\n");
    fs.mkdirSync(add("folder.png"));
    fs.symlinkSync(path.join(root, "does-not-exist.png"), add("dangling.png"));
    fs.writeFileSync(add("notes.txt"), "a note");
    fs.writeFileSync(add(".DS_Store"), "mac");
    // A hidden folder beside the class folders is not a class.
    fs.mkdirSync(path.join(dir, "valid", ".ipynb_checkpoints"));
    bad.push(path.join(dir, "valid", ".ipynb_checkpoints"));
    return { dir, cache, bad: bad.sort(), good };
  }

  it("each bad file is skipped, named and counted; the good images are all kept", async () => {
    const { dir, cache, bad, good } = await withBadFiles();
    const { ds, warnings } = await load(dir, cache, { imageSize: 4 });
    try {
      expect(warnings.map((w) => w.file).sort()).toEqual(bad);
      expect(ds.skipped.map((w) => w.file).sort()).toEqual(bad);
      const reason = (name: string) => ds.skipped.find((w) => w.file.endsWith(name))!.reason;
      expect(reason("empty.jpg")).toMatch(/empty/);
      expect(reason("truncated.jpg")).toMatch(/not a decodable image/);
      expect(reason("text.jpg")).toMatch(/not a decodable image/);
      expect(reason("folder.png")).toMatch(/unreadable.*folder/);
      expect(reason("dangling.png")).toMatch(/unreadable.*broken symbolic link/);
      expect(reason("notes.txt")).toMatch(/not an image file extension/);
      expect(reason(".DS_Store")).toMatch(/hidden/);
      expect(reason(".ipynb_checkpoints")).toMatch(/hidden/);
      expect(ds.classes).toEqual(["x", "y"]);
      expect(ds.train.count).toBe(4);
      expect(ds.train.files.map((f) => path.relative(dir, f))).toEqual([
        "train/x/img0.png",
        "train/x/img1.png",
        "train/y/img0.png",
        "train/y/img1.png",
      ]);
      expect(Array.from(ds.train.labels)).toEqual([0, 0, 1, 1]);
      for (let i = 0; i < 4; i++)
        expectSolid(
          pixelsOf(ds, "train", i),
          good.get(path.relative(dir, ds.train.files[i]))!,
          0,
          ds.train.files[i],
        );
    } finally {
      ds.close();
    }
    // From the cache, the same warnings again: nothing dropped silently on a reuse either.
    const again = await load(dir, cache, { imageSize: 4 });
    expect(again.ds.cache.reused).toBe(true);
    expect(again.warnings.map((w) => w.file).sort()).toEqual(bad);
    again.ds.close();
  });

  it("--strict: an error naming every bad file, and no cache left that looks valid", async () => {
    const { dir, cache, bad } = await withBadFiles();
    const e = await rejects(load(dir, cache, { imageSize: 4, strict: true }));
    expect(e.kind).toBe("bad-files");
    // One pass: the listing's bad names and extensions and the broken images, all in one error;
    // the hidden entries (.DS_Store, .ipynb_checkpoints) are ignored, as the warning says.
    const hidden = bad.filter((f) => /\/\./.test(f));
    const unusable = bad.filter((f) => !hidden.includes(f));
    expect(hidden).toHaveLength(2);
    expect(unusable).toHaveLength(6);
    for (const f of unusable) expect(e.message).toContain(f);
    for (const f of hidden) expect(e.message).not.toContain(f);
    expect(e.message).toContain("6 file(s)");
    const leftovers = fs.readdirSync(cache, { recursive: true }).map(String);
    expect(leftovers.filter((f) => f.endsWith("manifest.json") || /\.u8/.test(f))).toEqual([]);
    // Without the unusable files, --strict builds: the hidden ones alone do not stop it.
    for (const f of unusable) fs.rmSync(f, { recursive: true });
    const clean = await load(dir, cache, { imageSize: 4, strict: true });
    expect(clean.ds.train.count).toBe(4);
    clean.ds.close();
    // Bad files again: without --strict it builds (decodes), with a warning for each.
    fs.writeFileSync(unusable.find((f) => f.endsWith("text.jpg"))!, "still not a picture\n");
    const ok = await load(dir, cache, { imageSize: 4 });
    expect(ok.ds.cache.reused).toBe(false);
    expect(ok.warnings.map((w) => w.file).filter((f) => !hidden.includes(f))).toHaveLength(1);
    ok.ds.close();
    // A cache with skipped files is refused by --strict too.
    const e3 = await rejects(load(dir, cache, { imageSize: 4, strict: true }));
    expect(e3.kind).toBe("bad-files");
  });

  it("a class whose every file is bad is an error naming its folder", async () => {
    const { dir, cache } = fresh();
    await splitLayout(dir, ["x", "y"], 1);
    fs.writeFileSync(path.join(dir, "valid", "y", "img0.png"), "garbage");
    const e = await rejects(load(dir, cache, { imageSize: 4 }));
    expect(e.kind).toBe("empty-class");
    expect(e.path).toBe(path.join(dir, "valid", "y"));
    expect(e.message).toContain(path.join(dir, "valid", "y"));
  });
});

describe("a dataset of one class is refused before any work", () => {
  it("both layouts: an error naming the folder and the class, at the scan", async () => {
    for (const layout of ["splits", "classes"] as const) {
      const { dir, cache } = fresh();
      if (layout === "splits") await splitLayout(dir, ["only"], 1);
      else for (let k = 0; k < 4; k++) await solid(path.join(dir, "only", `img${k}.png`), randomColour());
      const events: string[] = [];
      const e = await rejects(load(dir, cache, { imageSize: 4, onProgress: (p) => events.push(p.phase) }));
      expect(e.code).toBe("E_INPUT");
      expect(e.message).toContain(dir);
      expect(e.message).toMatch(/one class \("only"\).*at least 2 class folders/);
      // Refused at the listing: nothing decoded.
      expect(events).not.toContain("decode");
    }
  });
});

describe("folder errors name the folder", () => {
  it("missing dataset folder, a file instead of a folder", async () => {
    const { dir, cache } = fresh();
    const missing = path.join(dir, "nope");
    const e = await rejects(load(missing, cache));
    expect([e.kind, e.path]).toEqual(["missing-folder", missing]);
    fs.writeFileSync(path.join(dir, "f"), "x");
    expect((await rejects(load(path.join(dir, "f"), cache))).kind).toBe("missing-folder");
  });

  it("no images at all, a split without class folders", async () => {
    const { dir, cache } = fresh();
    const e = await rejects(load(dir, cache));
    expect([e.kind, e.path]).toEqual(["no-images", dir]);
    expect(e.message).toContain(dir);
    for (const s of ["train", "valid", "test"]) fs.mkdirSync(path.join(dir, s));
    const e2 = await rejects(load(dir, cache));
    expect([e2.kind, e2.path]).toEqual(["no-images", path.join(dir, "train")]);
  });

  it("an empty class folder", async () => {
    const { dir, cache } = fresh();
    await splitLayout(dir, ["x", "y"], 1);
    fs.mkdirSync(path.join(dir, "test", "z"));
    await solid(path.join(dir, "train", "z", "a.png"), randomColour());
    await solid(path.join(dir, "valid", "z", "a.png"), randomColour());
    const e = await rejects(load(dir, cache));
    expect([e.kind, e.path]).toEqual(["empty-class", path.join(dir, "test", "z")]);
    expect(e.message).toContain(path.join(dir, "test", "z"));
  });

  it("a missing split; `val` is accepted for valid", async () => {
    const { dir, cache } = fresh();
    await splitLayout(dir, ["x", "y"], 1);
    fs.renameSync(path.join(dir, "valid"), path.join(dir, "val"));
    const { ds } = await load(dir, cache, { imageSize: 2 });
    expect(ds.valid.count).toBe(2);
    ds.close();
    fs.rmSync(path.join(dir, "val"), { recursive: true });
    const e = await rejects(load(dir, cache));
    expect([e.kind, e.path]).toEqual(["missing-split", path.join(dir, "valid")]);
    expect(e.message).toContain(path.join(dir, "valid"));
  });

  it("a class missing from one split, or only in one", async () => {
    const { dir, cache } = fresh();
    await splitLayout(dir, ["x", "y"], 1);
    fs.rmSync(path.join(dir, "test", "y"), { recursive: true });
    const e = await rejects(load(dir, cache));
    expect([e.kind, e.path]).toEqual(["class-mismatch", path.join(dir, "test")]);
    expect(e.message).toContain('"y"');
    await solid(path.join(dir, "test", "y", "a.png"), randomColour());
    await solid(path.join(dir, "valid", "w", "a.png"), randomColour());
    const e2 = await rejects(load(dir, cache));
    expect([e2.kind, e2.path]).toEqual(["class-mismatch", path.join(dir, "valid", "w")]);
  });

  it("bad options", async () => {
    const { dir, cache } = fresh();
    for (const o of [
      { imageSize: 0 },
      { imageSize: 2.5 },
      { validFraction: 0 },
      { validFraction: 0.6, testFraction: 0.4 },
    ]) {
      const e = await rejects(load(dir, cache, o));
      expect(e.kind).toBe("bad-option");
    }
  });
});

describe("the cache", () => {
  it("is reused while the sources are unchanged, rebuilt when one changes, keyed on image size", async () => {
    const { dir, cache } = fresh();
    const colours = await splitLayout(dir, ["x", "y"], 2);
    const first = await load(dir, cache, { imageSize: 6 });
    expect(first.ds.cache.reused).toBe(false);
    expect(first.events.some((e) => e.phase === "decode" && e.done > 0)).toBe(true);
    const hash = first.ds.cache.sourceHash;
    first.ds.close();

    const second = await load(dir, cache, { imageSize: 6 });
    expect(second.ds.cache.reused).toBe(true);
    expect(second.ds.cache.sourceHash).toBe(hash);
    expect(second.events.filter((e) => e.phase === "decode")).toEqual([]); // decoded nothing
    second.ds.close();

    // Rewrite one file with a new colour: rebuilt, and the new pixels are read (no stale decode).
    const rel = "train/y/img1.png";
    const newColour = randomColour().map((v) => 255 - v) as Rgb;
    await solid(path.join(dir, rel), newColour);
    fs.utimesSync(path.join(dir, rel), new Date(), new Date(Date.now() + 5000));
    const third = await load(dir, cache, { imageSize: 6 });
    try {
      expect(third.ds.cache.reused).toBe(false);
      expect(third.ds.cache.sourceHash).not.toBe(hash);
      expectSolid(
        pixelsOf(third.ds, "train", indexOfFile(third.ds, "train", rel)),
        newColour,
        0,
        "rewritten file",
      );
      expectSolid(pixelsOf(third.ds, "train", 0), colours.get("train/x/img0.png")!, 0, "unchanged file");
    } finally {
      third.ds.close();
    }
    // Touch alone (same bytes, new mtime) invalidates too.
    const t = new Date(Date.now() + 60_000);
    fs.utimesSync(path.join(dir, "test/x/img0.png"), t, t);
    const fourth = await load(dir, cache, { imageSize: 6 });
    expect(fourth.ds.cache.reused).toBe(false);
    fourth.ds.close();
    // A new file invalidates.
    await solid(path.join(dir, "valid/x/new.png"), randomColour());
    const fifth = await load(dir, cache, { imageSize: 6 });
    expect([fifth.ds.cache.reused, fifth.ds.valid.count]).toEqual([false, 5]);
    fifth.ds.close();
    // Another image size is another cache; the first one stays valid.
    const other = await load(dir, cache, { imageSize: 7 });
    expect(other.ds.cache.reused).toBe(false);
    expect(other.ds.cache.dir).not.toBe(fifth.ds.cache.dir);
    other.ds.close();
    const back = await load(dir, cache, { imageSize: 6 });
    expect(back.ds.cache.reused).toBe(true);
    // Only the current build's pixel files remain.
    expect(fs.readdirSync(back.ds.cache.dir).sort()).toEqual(
      [
        "manifest.json",
        ...["test", "train", "valid"].map((s) => path.basename(back.ds[s as "train"].pixelFile)),
      ].sort(),
    );
    back.ds.close();
  });

  it("a damaged cache (truncated pixel file, corrupt manifest) is rebuilt, never trusted", async () => {
    const { dir, cache } = fresh();
    await splitLayout(dir, ["x", "y"], 3);
    const a = await load(dir, cache, { imageSize: 5 });
    const pixelFile = a.ds.train.pixelFile;
    const cacheDir = a.ds.cache.dir;
    a.ds.close();
    fs.truncateSync(pixelFile, 5 * 5 * 3 * 2); // as if the process died mid-write of the old layout
    const b = await load(dir, cache, { imageSize: 5 });
    expect(b.ds.cache.reused).toBe(false);
    expect(fs.statSync(b.ds.train.pixelFile).size).toBe(2 * 3 * 75);
    b.ds.close();
    fs.writeFileSync(path.join(cacheDir, "manifest.json"), '{"version": 1, "sourceHa');
    const c = await load(dir, cache, { imageSize: 5 });
    expect(c.ds.cache.reused).toBe(false);
    c.ds.close();
  });
});
