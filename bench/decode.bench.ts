// How fast does a dataset reach the decoded-pixel cache? Two timings, each into an empty cache:
//   synthetic — a 224×224, 525-class synthetic set drawn straight into the cache (worker threads);
//   jpeg      — a folder of 224×224 JPEGs (written first, untimed, with sharp at quality 90) decoded
//               by the folder loader (sharp on libuv's pool, UV_THREADPOOL_SIZE = the core count as
//               the CLI sets it, os.availableParallelism() decodes in flight).
// Prints images/s, images/s per core (cores = os.availableParallelism()) and images per CPU
// second of the process (all threads: on a shared machine the honest per-core figure), and the
// main thread's CPU per image, whose inverse caps the load on any number of cores (the folder
// loader's main thread only writes; before the decode workers it also started every sharp
// pipeline and took the histograms, ~0.8 ms an image); target ≥ 2,000 images/s on 16 cores
// (125 per core). Then the CPU of one JPEG decode at a time on the calling thread and the CPU's
// SIMD flags: the decoder's cost on this CPU, apart from how the load scales (the H200's host
// spent 8 ms an image under load where this 2-core machine spends 2.2).
//
//   node dist/bench/decode.bench.js [--images 2000] [--out FILE.json]
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { decodeImage } from "../src/data/decode.js";
import { loadDataset } from "../src/data/index.js";
import { drawImage } from "../src/data/synthetic.js";
import { seededRandom } from "../src/util/rng.js";

// Before anything uses libuv's pool (sharp's work runs there), as src/cli/main.ts does.
process.env.UV_THREADPOOL_SIZE ??= String(os.availableParallelism());

/** The SIMD extensions libjpeg-turbo and libvips can use, as /proc/cpuinfo lists them (x86). */
function simdFlags(): string[] {
  try {
    const line = fs.readFileSync("/proc/cpuinfo", "utf8").match(/^flags\s*:(.*)$/m)?.[1] ?? "";
    const have = new Set(line.trim().split(/\s+/));
    return ["sse2", "ssse3", "sse4_2", "avx", "avx2", "avx512f", "avx512bw"].filter((f) => have.has(f));
  } catch {
    return [];
  }
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

const images = Number(arg("--images", "2000"));
const out = arg("--out", "");
if (!(Number.isInteger(images) && images >= 30)) throw new Error("--images must be a whole number ≥ 30");
const cores = os.availableParallelism();
const root = fs.mkdtempSync(path.join(os.tmpdir(), "halfwatt-decode-bench-"));

interface Timing {
  images: number;
  seconds: number;
  imagesPerSecond: number;
  imagesPerSecondPerCore: number;
  /**
   * CPU seconds of the whole process (every thread: workers, libuv's pool) and of its ended
   * children (the folder loader's decoding processes) during the load.
   */
  cpuSeconds: number;
  /** images / cpuSeconds: what one core does when it has the core to itself (a shared machine's wall clock is not). */
  imagesPerCpuSecond: number;
  /** CPU ms of the main thread per image; 1000 / this is the most images/s any core count gives. */
  mainThreadMsPerImage: number;
}

/**
 * CPU seconds of this process's children that have ended and been waited for (Linux
 * /proc/self/stat: cutime + cstime, in clock ticks of 1/100 s); 0 where there is no /proc.
 */
function childrenCpuSeconds(): number {
  try {
    // Fields after the command name's closing parenthesis; cutime and cstime are fields 16 and 17.
    const stat = fs.readFileSync("/proc/self/stat", "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[13]) + Number(f[14])) / 100;
  } catch {
    return 0;
  }
}

async function timeLoad(spec: string, cacheDir: string, n: number): Promise<Timing> {
  const t0 = performance.now();
  const k0 = childrenCpuSeconds();
  const c0 = process.cpuUsage();
  const m0 = process.threadCpuUsage();
  const ds = await loadDataset(spec, { cacheDir, imageSize: 224 });
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const m = process.threadCpuUsage(m0);
  // The decoding processes have ended by now (the loader closes its decoder before it returns).
  const cpuSeconds = (c.user + c.system) / 1e6 + (childrenCpuSeconds() - k0);
  const got = ds.train.count + ds.valid.count + ds.test.count;
  ds.close();
  if (got !== n) throw new Error(`${spec}: ${got} images cached, expected ${n}`);
  return {
    images: n,
    seconds,
    imagesPerSecond: n / seconds,
    imagesPerSecondPerCore: n / seconds / cores,
    cpuSeconds,
    imagesPerCpuSecond: n / cpuSeconds,
    mainThreadMsPerImage: (m.user + m.system) / 1e3 / n,
  };
}

try {
  // Synthetic: 525 classes; valid and test one image per class, train the rest.
  const train = Math.max(525, images - 1050);
  const synthetic = await timeLoad(
    `synthetic:classes=525,size=224,train=${train},valid=525,test=525,seed=3`,
    path.join(root, "cache-synthetic"),
    train + 1050,
  );
  // JPEG folder: DIR/<class>/i.jpg, 10 classes, drawn by the synthetic generator (photo-like
  // noise and edges, so the JPEGs are not trivially compressible).
  const dir = path.join(root, "jpeg");
  const sharp = (await import("sharp")).default;
  for (let i = 0; i < images; i++) {
    const c = i % 10;
    fs.mkdirSync(path.join(dir, `c${c}`), { recursive: true });
    const px = drawImage(c, 10, 224, seededRandom(i + 1));
    await sharp(px, { raw: { width: 224, height: 224, channels: 3 } })
      .jpeg({ quality: 90 })
      .toFile(path.join(dir, `c${c}`, `${String(i).padStart(6, "0")}.jpg`));
  }
  const jpeg = await timeLoad(dir, path.join(root, "cache-jpeg"), images);
  // One decode at a time on this thread: the decoder's own CPU per image on this CPU, apart
  // from how the load scales over the cores.
  const files = fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .slice(0, 100)
    .map((e) => path.join(e.parentPath, e.name));
  for (const f of files.slice(0, 10)) await decodeImage(f, 224);
  const c0 = process.cpuUsage();
  for (const f of files) await decodeImage(f, 224);
  const c1 = process.cpuUsage(c0);
  const singleDecodeCpuMs = (c1.user + c1.system) / 1000 / files.length;
  const result = {
    bench: "decode",
    date: new Date().toISOString(),
    host: os.hostname(),
    cpu: os.cpus()[0]?.model ?? "unknown",
    cores,
    loadAverage: os.loadavg()[0],
    uvThreadpoolSize: Number(process.env.UV_THREADPOOL_SIZE),
    simdFlags: simdFlags(),
    synthetic,
    jpeg,
    singleDecodeCpuMs,
  };
  const fmt = (name: string, t: Timing) =>
    `${name}: ${t.images} images in ${t.seconds.toFixed(2)} s = ${t.imagesPerSecond.toFixed(0)} images/s, ${t.imagesPerSecondPerCore.toFixed(0)} per core (${cores} cores, load ${result.loadAverage.toFixed(1)}); ${t.cpuSeconds.toFixed(1)} CPU s = ${t.imagesPerCpuSecond.toFixed(0)} images per CPU second; main thread ${t.mainThreadMsPerImage.toFixed(2)} ms CPU an image (≤ ${(1000 / t.mainThreadMsPerImage).toFixed(0)} images/s)`;
  console.log(fmt("synthetic 224×224 → cache", synthetic));
  console.log(fmt("JPEG 224×224 → cache", jpeg));
  console.log(
    `one JPEG decode at a time: ${singleDecodeCpuMs.toFixed(2)} ms CPU an image; CPU SIMD flags: ${result.simdFlags.join(" ") || "none listed"}`,
  );
  if (out) fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
