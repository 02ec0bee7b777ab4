// The folder loader on its decoding processes against the calling thread and against bytes known by
// construction: noisy lossless PNGs at the cache's size decode to exactly the bytes written, so the
// train pixels, their order across batches and workers, and the train statistics have a reference
// that is not the loader. JPEGs to resize, EXIF rotation and bad files in the middle of a batch
// must come out the same on both paths (the calling thread's is the loader's decode as it was).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, expect, it } from "vitest";
import { openDecoder } from "../../src/data/decode-pool.js";
import { DatasetError } from "../../src/data/errors.js";
import { type FolderLoadSettings, loadFolder } from "../../src/data/folder.js";
import type { Dataset, SplitName } from "../../src/data/index.js";
import { makeRng, runSeed } from "../helpers/rng.js";

const seed = runSeed();
console.log(`decode-pool seed ${seed} (HALFWATT_SEED=${seed} replays)`);
const rng = makeRng(seed);
const root = fs.mkdtempSync(path.join(os.tmpdir(), "halfwatt-decode-pool-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const SIZE = 12;
const BYTES = SIZE * SIZE * 3;

function noise(n: number): Buffer {
  return Buffer.from(Array.from({ length: n }, () => Math.floor(rng() * 256)));
}

/** train: 3 classes × 30 noisy PNGs (+ 2 bad files); valid and test: JPEGs to resize, one rotated. */
async function makeFolder(dir: string): Promise<Map<string, Buffer>> {
  const raw = new Map<string, Buffer>();
  for (const c of ["a", "b", "c"]) {
    const t = path.join(dir, "train", c);
    fs.mkdirSync(t, { recursive: true });
    for (let k = 0; k < 30; k++) {
      const px = noise(BYTES);
      const rel = `train/${c}/${String(k).padStart(2, "0")}.png`;
      raw.set(rel, px);
      await sharp(px, { raw: { width: SIZE, height: SIZE, channels: 3 } })
        .png()
        .toFile(path.join(dir, rel));
    }
    for (const s of ["valid", "test"]) {
      fs.mkdirSync(path.join(dir, s, c), { recursive: true });
      for (let k = 0; k < 3; k++) {
        const img = sharp(noise(20 * 9 * 3), { raw: { width: 20, height: 9, channels: 3 } }).jpeg();
        await (k === 1 ? img.withMetadata({ orientation: 6 }) : img).toFile(path.join(dir, s, c, `${k}.jpg`));
      }
    }
  }
  // Bad files that sort between good ones, so a batch holds failures in its middle.
  fs.writeFileSync(path.join(dir, "train", "b", "10x.png"), "not a picture\n");
  fs.writeFileSync(path.join(dir, "train", "b", "20x.png"), "");
  return raw;
}

async function load(dir: string, cache: string, threads: number): Promise<Dataset> {
  const s: FolderLoadSettings = {
    imageSize: SIZE,
    strict: false,
    cacheDir: cache,
    concurrency: 3,
    threads,
    splitSeed: 1,
    validFraction: 0.1,
    testFraction: 0.1,
  };
  return loadFolder(dir, s);
}

function all(ds: Dataset, split: SplitName): Uint8Array {
  const out = new Uint8Array(ds[split].count * BYTES);
  ds[split].readRange(0, ds[split].count, out);
  return out;
}

it("decoding processes give the calling thread's bytes, order, skips and statistics; train as written", async () => {
  const dir = path.join(root, "data");
  const raw = await makeFolder(dir);
  const onWorkers = await load(dir, path.join(root, "cache-workers"), 3);
  const inThread = await load(dir, path.join(root, "cache-thread"), 1);
  try {
    // The reference by construction: every train PNG, in name order, exactly as written.
    const names = [...raw.keys()].sort();
    expect(onWorkers.train.files.map((f) => path.relative(dir, f).split(path.sep).join("/"))).toEqual(names);
    const train = all(onWorkers, "train");
    names.forEach((n, i) => {
      expect(Buffer.from(train.subarray(i * BYTES, (i + 1) * BYTES)).equals(raw.get(n)!), n).toBe(true);
    });
    expect(Array.from(onWorkers.train.labels)).toEqual(
      names.map((n) => ["a", "b", "c"].indexOf(n.split("/")[1])),
    );
    // Statistics of the written bytes: sums of integers are exact, so the mean is too.
    const pixels = train.length / 3;
    for (let ch = 0; ch < 3; ch++) {
      let sum = 0;
      for (let p = ch; p < train.length; p += 3) sum += train[p];
      const m = sum / pixels;
      let q = 0;
      for (let p = ch; p < train.length; p += 3) q += (train[p] - m) ** 2;
      expect(onWorkers.channelMean[ch]).toBe(m / 255);
      expect(onWorkers.channelStd[ch]).toBeCloseTo(Math.sqrt(q / pixels) / 255, 12);
    }
    expect(onWorkers.skipped.map((w) => path.basename(w.file)).sort()).toEqual(["10x.png", "20x.png"]);
    // The calling thread: the same bytes everywhere, the same skips and reasons, the same statistics.
    for (const split of ["train", "valid", "test"] as const) {
      expect(onWorkers[split].files).toEqual(inThread[split].files);
      expect(Array.from(onWorkers[split].labels)).toEqual(Array.from(inThread[split].labels));
      expect(Buffer.from(all(onWorkers, split)).equals(Buffer.from(all(inThread, split))), split).toBe(true);
    }
    expect(onWorkers.valid.count).toBe(9);
    expect(onWorkers.skipped).toEqual(inThread.skipped);
    expect(onWorkers.channelMean).toEqual(inThread.channelMean);
    expect(onWorkers.channelStd).toEqual(inThread.channelStd);
  } finally {
    onWorkers.close();
    inThread.close();
  }
});

/** This process's live decoding children (Linux /proc): pid and the scratch folder of their argv. */
function decodingChildren(): { pid: number; scratch: string }[] {
  const out: { pid: number; scratch: string }[] = [];
  for (const e of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const argv = fs.readFileSync(`/proc/${e}/cmdline`, "utf8").split("\0");
      if (ppid !== process.pid || !argv.some((a) => a.includes("decode-worker"))) continue;
      const json = argv.find((a) => a.startsWith("{"));
      out.push({ pid: Number(e), scratch: json ? (JSON.parse(json).scratch as string) : "" });
    } catch {} // a process that ended while being read
  }
  return out;
}

it.skipIf(process.platform !== "linux")(
  "a decoding process killed mid-load fails the load with a DatasetError naming a file; close() removes the scratch folder",
  async () => {
    const dir = path.join(root, "many");
    fs.mkdirSync(dir, { recursive: true });
    const files: string[] = [];
    for (let k = 0; k < 240; k++) {
      const f = path.join(dir, `${String(k).padStart(3, "0")}.png`);
      await sharp(noise(BYTES), { raw: { width: SIZE, height: SIZE, channels: 3 } })
        .png()
        .toFile(f);
      files.push(f);
    }
    const decoder = openDecoder({ size: SIZE, concurrency: 2, threads: 2, files: files.length });
    let batches = 0;
    let killed: { pid: number; scratch: string }[] = [];
    const loading = decoder.decode(files, true, () => {
      // After the first batch: kill every decoding child while later batches are outstanding.
      if (batches++ > 0) return;
      killed = decodingChildren();
      for (const c of killed) process.kill(c.pid, "SIGKILL");
    });
    const err = await loading.then(
      () => null,
      (e: unknown) => e,
    );
    expect(killed.length).toBe(2);
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as DatasetError).kind).toBe("cache");
    expect((err as Error).message).toMatch(
      /Cannot decode .*\.png: a decoding worker (exited with SIGKILL|failed)/,
    );
    expect(batches).toBeLessThan(Math.ceil(files.length / 16));
    const scratch = killed[0].scratch;
    expect(scratch).not.toBe("");
    expect(fs.existsSync(scratch)).toBe(true);
    await decoder.close();
    expect(fs.existsSync(scratch)).toBe(false);
  },
);
