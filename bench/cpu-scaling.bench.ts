// Does this host give its cores' worth of CPU to the dataset's work? The same fixed work on 1, 2,
// 4, … all cores at once, images/s in all and CPU ms per image:
//   draw — the synthetic generator's drawImage at 224×224 on T worker threads (pure JavaScript,
//          nothing shared: if the per-image cost grows with T, the cores are not independent —
//          SMT siblings, or a busy or throttled host);
//   jpeg — sharp decoding one 224×224 q90 JPEG held in memory, T decodes in flight on libuv's
//          pool (UV_THREADPOOL_SIZE = the core count, as the CLI sets it).
// decode.bench measures the loaders; this says what the host can give them (issue 18: the H200's
// host decoded at 8 ms of CPU an image under load against 2 ms one at a time).
// --parts and --counts pick what runs (several processes started at once, each with its own
// libvips, tell a process's contention from the host's).
//   node dist/bench/cpu-scaling.bench.js [--seconds 1.5] [--parts draw,jpeg] [--counts 1,2,4,…]
//     [--out FILE.json]
import fs from "node:fs";
import os from "node:os";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { drawImage } from "../src/data/synthetic.js";
import { seededRandom } from "../src/util/rng.js";

process.env.UV_THREADPOOL_SIZE ??= String(os.availableParallelism());

interface WorkerResult {
  images: number;
  cpuMs: number;
}

/** One worker: draws images for `seconds`, then reports how many and the thread's CPU. */
function drawFor(seconds: number): WorkerResult {
  for (let i = 0; i < 5; i++) drawImage(i, 525, 224, seededRandom(i + 1));
  const c0 = process.threadCpuUsage();
  const end = performance.now() + seconds * 1000;
  let images = 0;
  while (performance.now() < end) drawImage(images % 525, 525, 224, seededRandom(++images));
  const c = process.threadCpuUsage(c0);
  return { images, cpuMs: (c.user + c.system) / 1000 };
}

if (!isMainThread) {
  parentPort?.postMessage(drawFor(workerData.seconds as number));
} else {
  const arg = (name: string, fallback: string) => {
    const i = process.argv.indexOf(name);
    return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
  };
  const seconds = Number(arg("--seconds", "1.5"));
  const out = arg("--out", "");
  const cores = os.availableParallelism();
  const parts = arg("--parts", "draw,jpeg").split(",");
  const counts = process.argv.includes("--counts")
    ? arg("--counts", "").split(",").map(Number)
    : [...new Set([1, 2, 4, 8, 16, 32, cores].filter((t) => t <= cores))].sort((a, b) => a - b);

  const draw = async (threads: number) => {
    const t0 = performance.now();
    const results = await Promise.all(
      Array.from(
        { length: threads },
        () =>
          new Promise<WorkerResult>((resolve, reject) => {
            const w = new Worker(new URL(import.meta.url), { workerData: { seconds } });
            w.once("message", resolve);
            w.once("error", reject);
          }),
      ),
    );
    const wall = (performance.now() - t0) / 1000;
    const images = results.reduce((a, r) => a + r.images, 0);
    const cpuMs = results.reduce((a, r) => a + r.cpuMs, 0);
    return {
      threads,
      images,
      imagesPerSecond: images / seconds,
      cpuMsPerImage: cpuMs / images,
      wallSeconds: wall,
    };
  };

  const sharp = (await import("sharp")).default;
  sharp.cache(false);
  sharp.concurrency(1);
  const jpegBytes = await sharp(Buffer.from(drawImage(3, 10, 224, seededRandom(9))), {
    raw: { width: 224, height: 224, channels: 3 },
  })
    .jpeg({ quality: 90 })
    .toBuffer();
  const decodeOne = () => sharp(jpegBytes).raw().toBuffer();
  const jpeg = async (inFlight: number) => {
    for (let i = 0; i < 20; i++) await decodeOne();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const end = t0 + seconds * 1000;
    let images = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (performance.now() < end) {
          await decodeOne();
          images++;
        }
      }),
    );
    const wall = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    return {
      inFlight,
      images,
      imagesPerSecond: images / wall,
      cpuMsPerImage: (c.user + c.system) / 1000 / images,
    };
  };

  const rows = {
    draw: [] as Awaited<ReturnType<typeof draw>>[],
    jpeg: [] as Awaited<ReturnType<typeof jpeg>>[],
  };
  if (parts.includes("draw")) for (const t of counts) rows.draw.push(await draw(t));
  if (parts.includes("jpeg")) for (const t of counts) rows.jpeg.push(await jpeg(t));
  const one = (r: { imagesPerSecond: number }[]) => r[0].imagesPerSecond;
  console.log(
    `${os.cpus()[0]?.model ?? "cpu"}, ${cores} cores (os.availableParallelism), load ${os.loadavg()[0].toFixed(1)}`,
  );
  for (const r of rows.draw)
    console.log(
      `draw 224×224, ${String(r.threads).padStart(2)} threads: ${r.imagesPerSecond.toFixed(0).padStart(6)} images/s (${(r.imagesPerSecond / one(rows.draw)).toFixed(1)}× one), ${r.cpuMsPerImage.toFixed(2)} ms CPU an image`,
    );
  for (const r of rows.jpeg)
    console.log(
      `JPEG decode, ${String(r.inFlight).padStart(2)} in flight: ${r.imagesPerSecond.toFixed(0).padStart(6)} images/s (${(r.imagesPerSecond / one(rows.jpeg)).toFixed(1)}× one), ${r.cpuMsPerImage.toFixed(2)} ms CPU an image`,
    );
  if (out)
    fs.writeFileSync(
      out,
      `${JSON.stringify({ bench: "cpu-scaling", date: new Date().toISOString(), cpu: os.cpus()[0]?.model, cores, seconds, ...rows }, null, 2)}\n`,
    );
}
