// Fashion-MNIST: the idx parser on hand-made files (good, gzip'd, and each way a file can be bad),
// the loader on a small hand-made set (the grey bytes replicated to RGB, the stratified seeded
// hold-out, the cache), and Debian's real files where installed (counts, per-class split, the
// published channel statistics). Expectations come from the bytes the test writes, not the code.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import {
  DatasetError,
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_DIR,
  loadDataset,
  parseDataSpec,
  parseIdx,
  readIdxFile,
  type SplitData,
} from "../../src/data/index.js";
import { makeRng, runSeed } from "../helpers/rng.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "halfwatt-fashion-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const seed = runSeed();
const rng = makeRng(seed);
console.log(`fashion-mnist.test.ts: seed ${seed} (replay: HALFWATT_SEED=${seed})`);

/** An idx file of unsigned bytes: magic 00 00 08 rank, big-endian dims, data. */
function idx(dims: number[], data: Uint8Array, typeCode = 0x08): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = typeCode;
  head[3] = dims.length;
  dims.forEach((d, i) => {
    head.writeUInt32BE(d, 4 + 4 * i);
  });
  return Buffer.concat([head, Buffer.from(data)]);
}

function expectIdxError(f: () => unknown, kind: string, file: string, msg: RegExp): void {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DatasetError);
    expect((e as DatasetError).kind).toBe(kind);
    expect((e as DatasetError).path).toBe(file);
    expect((e as Error).message).toContain(file);
    expect((e as Error).message).toMatch(msg);
    return;
  }
  throw new Error(`no error (expected ${msg})`);
}

const randomBytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rng() * 256));

describe("parseIdx / readIdxFile", () => {
  it("reads dims and data, plain or gzip'd (recognised by content, not name)", () => {
    const data = randomBytes(3 * 5 * 5);
    const plain = path.join(root, "ok-idx3");
    const gz = path.join(root, "ok-idx3-named-plain");
    fs.writeFileSync(plain, idx([3, 5, 5], data));
    fs.writeFileSync(gz, zlib.gzipSync(idx([3, 5, 5], data)));
    for (const f of [plain, gz]) {
      const a = readIdxFile(f, 3);
      expect(a.dims).toEqual([3, 5, 5]);
      expect(Array.from(a.data)).toEqual(Array.from(data));
    }
    expect(parseIdx(idx([2], Uint8Array.of(7, 9)), "x", 1).dims).toEqual([2]);
  });

  it("each malformed file is an error naming the file and what is wrong", () => {
    const f = "/data/train-images-idx3-ubyte";
    const good = idx([4, 3, 3], randomBytes(36));
    const cases: Array<[Uint8Array, RegExp]> = [
      [good.subarray(0, 3), /truncated: 3 bytes, shorter than the 4-byte idx magic/],
      [
        Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 3]), good.subarray(4)]),
        /bad magic number 0x1F 0x8B 0x08 0x03/,
      ],
      [idx([4, 3, 3], randomBytes(36 * 4), 0x0d), /type code 0x0D \(float\): only unsigned byte \(0x08\)/],
      [idx([4, 9], randomBytes(36)), /magic number says 2 dimension\(s\), expected 3/],
      [good.subarray(0, 10), /truncated: 10 bytes, shorter than the 16-byte header/],
      [
        good.subarray(0, good.length - 5),
        /truncated: the header says 4×3×3 = 36 bytes of data, the file holds 31/,
      ],
      [Buffer.concat([good, Buffer.from([1, 2])]), /2 bytes after the 4×3×3 = 36 bytes/],
      [idx([0, 3, 3], new Uint8Array(0)), /dimension 0 is 0/],
    ];
    for (const [bytes, msg] of cases) expectIdxError(() => parseIdx(bytes, f, 3), "bad-idx", f, msg);
    const broken = path.join(root, "broken.gz");
    fs.writeFileSync(broken, zlib.gzipSync(good).subarray(0, 20));
    expectIdxError(() => readIdxFile(broken, 3), "bad-idx", broken, /not a valid gzip file/);
    const none = path.join(root, "nope");
    expectIdxError(() => readIdxFile(none, 3), "missing-file", none, /Cannot read/);
  });
});

describe("parseDataSpec: fashion-mnist[:DIR]", () => {
  it("the default folder, a given folder, a folder that is only named so", () => {
    expect(parseDataSpec("fashion-mnist")).toEqual({ kind: "fashion-mnist", dir: FASHION_MNIST_DIR });
    expect(parseDataSpec("fashion-mnist:/x/y")).toEqual({ kind: "fashion-mnist", dir: "/x/y" });
    expect(parseDataSpec("./fashion-mnist")).toEqual({ kind: "folder", dir: "./fashion-mnist" });
    expect(() => parseDataSpec("fashion-mnist:")).toThrow(/no folder after "fashion-mnist:"/);
  });
});

/** A hand-made set: `labels` per split, 6×6 grey images of random bytes. */
function writeSet(
  dir: string,
  train: number[],
  test: number[],
  opts: { gzip?: boolean; side?: number } = {},
): { trainImages: Uint8Array; testImages: Uint8Array } {
  const side = opts.side ?? 6;
  fs.mkdirSync(dir, { recursive: true });
  const trainImages = randomBytes(train.length * side * side);
  const testImages = randomBytes(test.length * side * side);
  const put = (name: string, b: Buffer) =>
    opts.gzip
      ? fs.writeFileSync(path.join(dir, `${name}.gz`), zlib.gzipSync(b))
      : fs.writeFileSync(path.join(dir, name), b);
  put("train-images-idx3-ubyte", idx([train.length, side, side], trainImages));
  put("train-labels-idx1-ubyte", idx([train.length], Uint8Array.from(train)));
  put("t10k-images-idx3-ubyte", idx([test.length, side, side], testImages));
  put("t10k-labels-idx1-ubyte", idx([test.length], Uint8Array.from(test)));
  return { trainImages, testImages };
}

function image(sp: SplitData, i: number): Uint8Array {
  const out = new Uint8Array(sp.imageBytes);
  sp.readRange(i, 1, out);
  return out;
}

describe("loadDataset('fashion-mnist:DIR') on a hand-made set", () => {
  // 240 train images in shuffled order; 1/12 held out = 20 valid. Class shares n_c·20/240 are
  // 2.5, 2.5, 1.5, 1.5, 2.5, 2.5, 1.5, 1.5, 2, 2: floors sum to 16, the 4 left go to the largest
  // fractions (all 0.5: ties to the lower class, 0–3).
  const counts = [30, 30, 18, 18, 30, 30, 18, 18, 24, 24];
  const trainLabels = counts.flatMap((n, c) => new Array<number>(n).fill(c));
  for (let i = trainLabels.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [trainLabels[i], trainLabels[j]] = [trainLabels[j], trainLabels[i]];
  }
  const testLabels = Array.from({ length: 23 }, (_, i) => i % 10);
  const dir = path.join(root, "set");
  const { trainImages, testImages } = writeSet(dir, trainLabels, testLabels, { gzip: true });
  const cacheDir = path.join(root, "cache");

  it("grey bytes become R = G = B, file order kept, t10k is test, 20 valid images stratified", async () => {
    const ds = await loadDataset(`fashion-mnist:${dir}`, { cacheDir });
    try {
      expect(ds.classes).toEqual(FASHION_MNIST_CLASSES);
      expect([ds.imageSize, ds.train.imageBytes]).toEqual([6, 108]);
      expect([ds.train.count, ds.valid.count, ds.test.count]).toEqual([220, 20, 23]);
      const perClass = new Array(10).fill(0);
      for (const l of ds.valid.labels) perClass[l]++;
      expect(perClass).toEqual([3, 3, 2, 2, 2, 2, 1, 1, 2, 2]);
      // Every source index appears once in train ∪ valid, each split in file order, bytes replicated.
      const idxOf = (f: string) => Number(f.split("#")[1]);
      const all: number[] = [];
      for (const [sp, src] of [
        [ds.train, trainImages],
        [ds.valid, trainImages],
        [ds.test, testImages],
      ] as const) {
        const ix = sp.files.map(idxOf);
        expect([...ix].sort((a, b) => a - b)).toEqual(ix);
        if (sp !== ds.test) all.push(...ix);
        ix.forEach((i, k) => {
          expect(sp.labels[k]).toBe(sp === ds.test ? testLabels[i] : trainLabels[i]);
          const got = image(sp, k);
          for (let p = 0; p < 36; p++)
            for (let ch = 0; ch < 3; ch++)
              if (got[3 * p + ch] !== src[i * 36 + p]) expect.fail(`${sp.name}[${k}] pixel ${p}`);
        });
      }
      expect(all.sort((a, b) => a - b)).toEqual(Array.from({ length: 240 }, (_, i) => i));
      expect(ds.test.files[0]).toBe(path.join(dir, "t10k-images-idx3-ubyte.gz#0"));
      // Train statistics against a float64 pass over the train images' grey bytes.
      const trainIx = ds.train.files.map(idxOf);
      let s = 0;
      for (const i of trainIx) for (let p = 0; p < 36; p++) s += trainImages[i * 36 + p] / 255;
      const mean = s / (trainIx.length * 36);
      let q = 0;
      for (const i of trainIx) for (let p = 0; p < 36; p++) q += (trainImages[i * 36 + p] / 255 - mean) ** 2;
      for (let c = 0; c < 3; c++) {
        expect(ds.channelMean[c]).toBeCloseTo(mean, 12);
        expect(ds.channelStd[c]).toBeCloseTo(Math.sqrt(q / (trainIx.length * 36)), 12);
      }
    } finally {
      ds.close();
    }
  });

  it("the cache is reused; another split seed holds out other images of the same classes", async () => {
    const a = await loadDataset(`fashion-mnist:${dir}`, { cacheDir });
    const b = await loadDataset(`fashion-mnist:${dir}`, { cacheDir, splitSeed: 2 });
    try {
      expect(a.cache.reused).toBe(true);
      expect(b.cache.reused).toBe(false);
      expect(b.valid.files).not.toEqual(a.valid.files);
      expect([...b.valid.labels].sort()).toEqual([...a.valid.labels].sort());
    } finally {
      a.close();
      b.close();
    }
  });

  it("bad sets: count mismatch, label out of range, missing file or folder, unsquare, another image size", async () => {
    const load = (d: string, o = {}) => loadDataset(`fashion-mnist:${d}`, { cacheDir, ...o });
    const expectReject = async (p: Promise<unknown>, kind: string, file: string, msg: RegExp) => {
      const e = await p.then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(e, String(msg)).toBeInstanceOf(DatasetError);
      expect((e as DatasetError).kind, (e as Error).message).toBe(kind);
      expect((e as DatasetError).path).toBe(file);
      expect((e as Error).message).toMatch(msg);
    };
    const labels20 = Array.from({ length: 24 }, (_, i) => i % 10);
    const mismatch = path.join(root, "mismatch");
    writeSet(mismatch, labels20, labels20);
    fs.writeFileSync(
      path.join(mismatch, "t10k-labels-idx1-ubyte"),
      idx([23], Uint8Array.from(labels20.slice(1))),
    );
    await expectReject(
      load(mismatch),
      "bad-idx",
      path.join(mismatch, "t10k-labels-idx1-ubyte"),
      /23 labels for the 24 images of .*t10k-images-idx3-ubyte \(count mismatch\)/,
    );
    const range = path.join(root, "range");
    writeSet(range, [...labels20.slice(0, 17), 10, ...labels20.slice(18)], labels20);
    await expectReject(
      load(range),
      "bad-idx",
      path.join(range, "train-labels-idx1-ubyte"),
      /label 10 at index 17 is outside 0…9/,
    );
    const missing = path.join(root, "missing");
    writeSet(missing, labels20, labels20);
    fs.rmSync(path.join(missing, "t10k-images-idx3-ubyte"));
    await expectReject(
      load(missing),
      "missing-file",
      path.join(missing, "t10k-images-idx3-ubyte"),
      /holds no t10k-images-idx3-ubyte \(nor t10k-images-idx3-ubyte.gz\)/,
    );
    await expectReject(
      load(path.join(root, "absent")),
      "missing-folder",
      path.join(root, "absent"),
      /does not exist/,
    );
    const unsquare = path.join(root, "unsquare");
    writeSet(unsquare, labels20, labels20);
    fs.writeFileSync(path.join(unsquare, "train-images-idx3-ubyte"), idx([24, 6, 4], randomBytes(24 * 24)));
    await expectReject(
      load(unsquare),
      "bad-idx",
      path.join(unsquare, "train-images-idx3-ubyte"),
      /6×4; only square/,
    );
    await expectReject(
      load(dir, { imageSize: 224 }),
      "bad-option",
      path.join(dir, "train-images-idx3-ubyte.gz"),
      /are 6×6; image size 224/,
    );
    // A class missing from the test file: every class must be in every split.
    const noClass = path.join(root, "no-class");
    writeSet(
      noClass,
      trainLabels,
      labels20.map((l) => (l === 9 ? 8 : l)),
    );
    await expectReject(
      load(noClass),
      "too-few-images",
      path.join(noClass, "t10k-images-idx3-ubyte"),
      /no image of class 9 \(Ankle boot\) in the test split/,
    );
  });
});

const debian = fs.existsSync(FASHION_MNIST_DIR);
if (!debian && !process.env.CI)
  console.log(`fashion-mnist.test.ts: ${FASHION_MNIST_DIR} absent, the real-file test skipped`);
describe.runIf(debian || !!process.env.CI)("Debian's dataset-fashion-mnist", () => {
  it("55,000 / 5,000 (500 per class) / 10,000 at 28×28; the published train mean and std", async () => {
    const ds = await loadDataset("fashion-mnist", { cacheDir: path.join(root, "real") });
    try {
      expect([ds.train.count, ds.valid.count, ds.test.count, ds.imageSize]).toEqual([55000, 5000, 10000, 28]);
      for (const sp of [ds.valid, ds.test]) {
        const perClass = new Array(10).fill(0);
        for (const l of sp.labels) perClass[l]++;
        expect(perClass).toEqual(new Array(10).fill(sp.count / 10));
      }
      // Zalando's figures over all 60,000 train images: mean 0.2860, std 0.3530; 55,000 of them
      // stratified agree to within a few thousandths.
      expect(Math.abs(ds.channelMean[0] - 0.286)).toBeLessThan(0.003);
      expect(Math.abs(ds.channelStd[1] - 0.353)).toBeLessThan(0.003);
    } finally {
      ds.close();
    }
  });
});
