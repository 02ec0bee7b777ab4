// The synthetic set: the spec string, determinism, the same bytes as the PNG folder it used to be
// (and on worker threads as on one), and that it is
// learnable — checked with float64 CPU classifiers written here (nearest centroid, softmax
// regression), not with the trainer.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  className,
  type Dataset,
  DatasetError,
  drawImage,
  loadDataset,
  type ProgressEvent,
  parseDataSpec,
  type SplitData,
} from "../../src/data/index.js";
import { imageSeed } from "../../src/data/synthetic.js";
import { loadSynthetic } from "../../src/data/synthetic-cache.js";
import { seededRandom } from "../../src/util/rng.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "halfwatt-synth-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const cacheDir = path.join(root, "cache");

function allBytes(sp: SplitData): Uint8Array {
  const b = new Uint8Array(sp.count * sp.imageBytes);
  sp.readRange(0, sp.count, b);
  return b;
}

describe("parseDataSpec", () => {
  it("folders, defaults, every key", () => {
    expect(parseDataSpec("/data/birds")).toEqual({ kind: "folder", dir: "/data/birds" });
    expect(parseDataSpec("./synthetic-looking-folder")).toEqual({
      kind: "folder",
      dir: "./synthetic-looking-folder",
    });
    expect(parseDataSpec("synthetic")).toEqual({
      kind: "synthetic",
      classes: 10,
      size: 32,
      train: 2000,
      valid: 400,
      test: 400,
      seed: 1,
    });
    expect(parseDataSpec("synthetic:classes=525,size=224,train=2100,valid=525,test=525,seed=7")).toEqual({
      kind: "synthetic",
      classes: 525,
      size: 224,
      train: 2100,
      valid: 525,
      test: 525,
      seed: 7,
    });
    expect(parseDataSpec("synthetic:seed=3")).toMatchObject({ kind: "synthetic", seed: 3, classes: 10 });
  });

  it("bad specs are errors that say what is wrong", () => {
    const bad: [string, RegExp][] = [
      ["", /empty/],
      ["synthetic:colour=3", /unknown key "colour"/],
      ["synthetic:classes=ten", /classes must be a whole number/],
      ["synthetic:classes=2.5", /classes must be a whole number/],
      ["synthetic:classes=-1", /classes must be a whole number/],
      ["synthetic:classes=1", /classes must be at least 2/],
      ["synthetic:size=4", /size must be between/],
      ["synthetic:classes=10,valid=9", /valid=9 is fewer than classes=10/],
      ["synthetic:seed=1,seed=2", /given twice/],
      ["synthetic:seed=4294967296", /32 bits/],
    ];
    for (const [spec, msg] of bad) {
      try {
        parseDataSpec(spec);
        throw new Error(`no error for ${spec}`);
      } catch (e) {
        expect(e, spec).toBeInstanceOf(DatasetError);
        expect((e as DatasetError).kind).toBe("bad-spec");
        expect((e as Error).message, spec).toMatch(msg);
      }
    }
  });
});

describe("the default synthetic set (10 classes, 32×32)", () => {
  let ds: Dataset;
  const events: ProgressEvent[] = [];
  afterAll(() => ds?.close());

  it("has the spec's counts, balanced classes, sorted names = label order", async () => {
    ds = await loadDataset("synthetic", { cacheDir, onProgress: (e) => events.push(e) });
    expect(ds.source).toBe("synthetic");
    expect(ds.imageSize).toBe(32);
    expect(ds.classes).toHaveLength(10);
    expect([...ds.classes].sort()).toEqual(ds.classes);
    expect(ds.skipped).toEqual([]);
    const last = events.filter((e) => e.phase === "synthesize").at(-1);
    expect(last).toEqual({ phase: "synthesize", done: 2800, total: 2800 });
    for (const [split, n] of [
      ["train", 2000],
      ["valid", 400],
      ["test", 400],
    ] as const) {
      expect(ds[split].count).toBe(n);
      const perClass = new Array(10).fill(0);
      for (const l of ds[split].labels) perClass[l]++;
      expect(perClass).toEqual(new Array(10).fill(n / 10));
    }
  });

  it("channel mean and std match a float64 pass over the train bytes", () => {
    const b = allBytes(ds.train);
    for (let c = 0; c < 3; c++) {
      let s = 0;
      let n = 0;
      for (let i = c; i < b.length; i += 3, n++) s += b[i] / 255;
      const mean = s / n;
      let q = 0;
      for (let i = c; i < b.length; i += 3) q += (b[i] / 255 - mean) ** 2;
      expect(ds.channelMean[c]).toBeCloseTo(mean, 10);
      expect(ds.channelStd[c]).toBeCloseTo(Math.sqrt(q / n), 10);
    }
  });

  it("is learnable: nearest centroid and softmax regression on normalised pixels, ≥ 0.9 test accuracy", () => {
    const D = ds.train.imageBytes;
    const K = ds.classes.length;
    const feats = (sp: SplitData) => {
      const b = allBytes(sp);
      const x = new Float64Array(b.length);
      for (let i = 0; i < b.length; i++) x[i] = (b[i] / 255 - ds.channelMean[i % 3]) / ds.channelStd[i % 3];
      return x;
    };
    const xtr = feats(ds.train);
    const xte = feats(ds.test);
    const ytr = ds.train.labels;
    const yte = ds.test.labels;
    // Nearest centroid.
    const cent = new Float64Array(K * D);
    const cnt = new Float64Array(K);
    for (let i = 0; i < ds.train.count; i++) {
      cnt[ytr[i]]++;
      for (let j = 0; j < D; j++) cent[ytr[i] * D + j] += xtr[i * D + j];
    }
    for (let c = 0; c < K; c++) for (let j = 0; j < D; j++) cent[c * D + j] /= cnt[c];
    let ok = 0;
    for (let i = 0; i < ds.test.count; i++) {
      let best = -1;
      let bd = Number.POSITIVE_INFINITY;
      for (let c = 0; c < K; c++) {
        let d = 0;
        for (let j = 0; j < D; j++) d += (xte[i * D + j] - cent[c * D + j]) ** 2;
        if (d < bd) [bd, best] = [d, c];
      }
      if (best === yte[i]) ok++;
    }
    const centroidAcc = ok / ds.test.count;
    // Softmax regression, plain per-sample SGD, 4 epochs (the trainer's MLP has more capacity).
    const W = new Float64Array(D * K);
    const bias = new Float64Array(K);
    const z = new Float64Array(K);
    const forward = (x: Float64Array, o: number) => {
      let m = Number.NEGATIVE_INFINITY;
      for (let c = 0; c < K; c++) {
        let s = bias[c];
        for (let j = 0; j < D; j++) s += x[o + j] * W[j * K + c];
        z[c] = s;
        m = Math.max(m, s);
      }
      let t = 0;
      for (let c = 0; c < K; c++) t += z[c] = Math.exp(z[c] - m);
      for (let c = 0; c < K; c++) z[c] /= t;
    };
    const lr = 0.001;
    for (let epoch = 0; epoch < 4; epoch++)
      for (let i = 0; i < ds.train.count; i++) {
        forward(xtr, i * D);
        z[ytr[i]] -= 1;
        for (let j = 0; j < D; j++) {
          const g = lr * xtr[i * D + j];
          for (let c = 0; c < K; c++) W[j * K + c] -= g * z[c];
        }
        for (let c = 0; c < K; c++) bias[c] -= lr * z[c];
      }
    ok = 0;
    for (let i = 0; i < ds.test.count; i++) {
      forward(xte, i * D);
      let best = 0;
      for (let c = 1; c < K; c++) if (z[c] > z[best]) best = c;
      if (best === yte[i]) ok++;
    }
    const softmaxAcc = ok / ds.test.count;
    console.log(`synthetic 10×32²: nearest centroid ${centroidAcc}, softmax regression ${softmaxAcc}`);
    expect(centroidAcc).toBeGreaterThanOrEqual(0.85);
    expect(softmaxAcc).toBeGreaterThanOrEqual(0.9);
  });

  it("is not trivial: images of a class all differ, and noise is present", () => {
    const D = ds.train.imageBytes;
    const b = allBytes(ds.train);
    const seen = new Set<string>();
    for (let i = 0; i < ds.train.count; i++)
      seen.add(Buffer.from(b.subarray(i * D, (i + 1) * D)).toString("base64"));
    expect(seen.size).toBe(ds.train.count);
    // Neighbouring pixels of a flat background differ: the noise is there.
    let diff = 0;
    for (let p = 0; p < D - 3; p += 3) if (b[p] !== b[p + 3]) diff++;
    expect(diff / (D / 3)).toBeGreaterThan(0.5);
  });

  it("the pixel noise is uniform with sd 0.06 of full scale, independent across channels", () => {
    // Horizontal neighbours on the background differ by the difference of their noises: for
    // noise uniform in ±a, a = 0.06·255·√3 (sd 0.06 of full scale), that difference is triangular
    // on ±2a, whose median |d| is 2a(1 − 1/√2) = 15.5. Within 12 %: the stripes inside the shape
    // add to some differences; a wrong √3 or 255 would be 40 % off or more. Independent channels:
    // the red and green differences uncorrelated.
    const a = 0.06 * 255 * Math.sqrt(3);
    const medianAbs = 2 * a * (1 - 1 / Math.sqrt(2));
    for (const c of [0, 1, 2, 3]) {
      const s = 64;
      const px = drawImage(c, 4, s, seededRandom(c + 11));
      const d = [0, 1, 2].map((k) => {
        const v: number[] = [];
        for (let y = 0; y < s; y++)
          for (let x = 0; x + 1 < s; x++) v.push(px[(y * s + x + 1) * 3 + k] - px[(y * s + x) * 3 + k]);
        return v;
      });
      // The pairs inside the noise's range only: a shape's edge moves every channel at once.
      const flat = d[0].map((_, i) => Math.max(...d.map((v) => Math.abs(v[i]))) <= 2 * a + 1);
      expect(flat.filter(Boolean).length).toBeGreaterThan(0.8 * flat.length);
      for (const v of d) {
        const abs = v
          .filter((_, i) => flat[i])
          .map(Math.abs)
          .sort((p, q) => p - q);
        expect(abs[abs.length >> 1]).toBeGreaterThan(medianAbs * 0.88);
        expect(abs[abs.length >> 1]).toBeLessThan(medianAbs * 1.12);
      }
      const [r, g] = d;
      let sxy = 0;
      let sxx = 0;
      let syy = 0;
      for (let i = 0; i < r.length; i++) {
        if (!flat[i]) continue;
        sxy += r[i] * g[i];
        sxx += r[i] ** 2;
        syy += g[i] ** 2;
      }
      expect(Math.abs(sxy / Math.sqrt(sxx * syy))).toBeLessThan(0.1);
    }
  });

  it("a second load reuses the pixel cache: nothing drawn, nothing decoded", async () => {
    const ev: ProgressEvent[] = [];
    const again = await loadDataset("synthetic:seed=1", { cacheDir, onProgress: (e) => ev.push(e) });
    try {
      expect(again.cache.reused).toBe(true);
      expect(ev.filter((e) => e.phase === "synthesize" || e.phase === "decode")).toEqual([]);
      expect(allBytes(again.test)).toEqual(allBytes(ds.test));
    } finally {
      again.close();
    }
  });
});

describe("determinism", () => {
  it("the same spec in another cache gives the same bytes; another seed other bytes", async () => {
    const spec = "synthetic:classes=3,size=11,train=7,valid=3,test=4,seed=";
    const a = await loadDataset(`${spec}9`, { cacheDir: path.join(root, "a") });
    const b = await loadDataset(`${spec}9`, { cacheDir: path.join(root, "b"), concurrency: 1 });
    const c = await loadDataset(`${spec}10`, { cacheDir: path.join(root, "a") });
    try {
      for (const s of ["train", "valid", "test"] as const) {
        expect(allBytes(a[s])).toEqual(allBytes(b[s]));
        expect(Array.from(a[s].labels)).toEqual(Array.from(b[s].labels));
        expect(allBytes(a[s])).not.toEqual(allBytes(c[s]));
      }
      expect(a.train.count).toBe(7);
      expect(Array.from(a.train.labels)).toEqual([0, 0, 0, 1, 1, 2, 2]); // round robin: 3, 2, 2
      expect(a.imageSize).toBe(11);
    } finally {
      a.close();
      b.close();
      c.close();
    }
  });

  it("worker threads and the calling thread write the same cache, equal to the PNG folder the generator used to write", async () => {
    const spec = parseDataSpec("synthetic:classes=3,size=24,train=13,valid=6,test=7,seed=4");
    if (spec.kind !== "synthetic") throw new Error("not synthetic");
    const opts = { imageSize: 24, concurrency: 2 };
    const one = await loadSynthetic(spec, { ...opts, cacheDir: path.join(root, "t1"), threads: 1 }, "s");
    const two = await loadSynthetic(spec, { ...opts, cacheDir: path.join(root, "t2"), threads: 2 }, "s");
    // The old route: each image drawn, written as a lossless PNG under split/class/, loaded as a folder.
    const png = path.join(root, "png");
    const sharp = (await import("sharp")).default;
    for (const [si, split] of (["train", "valid", "test"] as const).entries())
      for (let i = 0; i < spec[split]; i++) {
        const c = i % spec.classes;
        const d = path.join(png, split, className(c, spec.classes));
        fs.mkdirSync(d, { recursive: true });
        const px = drawImage(c, spec.classes, spec.size, seededRandom(imageSeed(spec.seed, si, i)));
        await sharp(px, { raw: { width: 24, height: 24, channels: 3 } })
          .png()
          .toFile(path.join(d, `${String(i).padStart(6, "0")}.png`));
      }
    const folder = await loadDataset(png, { cacheDir: path.join(root, "t3"), imageSize: 24 });
    try {
      expect(two.classes).toEqual(folder.classes);
      expect(two.channelMean).toEqual(one.channelMean);
      for (let c = 0; c < 3; c++) expect(two.channelMean[c]).toBeCloseTo(folder.channelMean[c], 12);
      for (const s of ["train", "valid", "test"] as const) {
        expect(allBytes(two[s])).toEqual(allBytes(one[s]));
        expect(allBytes(two[s])).toEqual(allBytes(folder[s]));
        expect(Array.from(two[s].labels)).toEqual(Array.from(folder[s].labels));
        expect(two[s].files).toEqual(folder[s].files.map((f) => path.relative(png, f).replace(/\.png$/, "")));
      }
    } finally {
      for (const d of [one, two, folder]) d.close();
    }
  });

  it("options.imageSize resizes the generated images like any folder's", async () => {
    const ds = await loadDataset("synthetic:classes=2,size=8,train=2,valid=2,test=2", {
      cacheDir: path.join(root, "a"),
      imageSize: 5,
    });
    expect([ds.imageSize, ds.train.imageBytes]).toEqual([5, 75]);
    ds.close();
  });
});
