// What does the telemetry sampler cost the workload it measures? GEMM throughput with the
// sampler off, at 10 Hz and at 100 Hz, in interleaved blocks (off, 10, off, 100, … rotated each
// round so no condition always follows another), reported as throughput ratios vs off.
// Target: ≥ 0.99 at 10 Hz (≤ 1 % overhead). Writes bench/results/sampler-overhead-<adapter>-<date>.json.
//
//   node dist/bench/sampler-overhead.js [--size 4096] [--dtype f32|f16] [--rounds 6] [--block-seconds 3]
//   node dist/bench/sampler-overhead.js --load 30     # just GEMM for 30 s (a load for `halfwatt measure`)
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type GpuContext, openDevice } from "../src/gpu/device.js";
import { gemm } from "../src/kernels/gemm.js";
import { sync } from "../src/kernels/program.js";
import { fillUniform } from "../src/kernels/random.js";
import { createTensor, type Tensor } from "../src/kernels/tensor.js";
import { Sampler } from "../src/telemetry/sampler.js";
import { planSources, type SourceSpec } from "../src/telemetry/sources.js";

interface Args {
  size: number;
  dtype: "f32" | "f16";
  rounds: number;
  blockSeconds: number;
  load?: number;
  out?: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { size: 4096, dtype: "f32", rounds: 6, blockSeconds: 3 };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    switch (argv[i]) {
      case "--size":
        args.size = Number(v);
        i++;
        break;
      case "--dtype":
        if (v !== "f32" && v !== "f16") throw new Error("--dtype is f32 or f16");
        args.dtype = v;
        i++;
        break;
      case "--rounds":
        args.rounds = Number(v);
        i++;
        break;
      case "--block-seconds":
        args.blockSeconds = Number(v);
        i++;
        break;
      case "--load":
        args.load = Number(v);
        i++;
        break;
      case "--out":
        args.out = v;
        i++;
        break;
      default:
        throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  for (const [k, n] of Object.entries({
    size: args.size,
    rounds: args.rounds,
    blockSeconds: args.blockSeconds,
  }))
    if (!(n > 0)) throw new Error(`--${k} must be positive`);
  return args;
}

interface Workload {
  /** Runs `calls` GEMMs and waits for the GPU; returns wall seconds. */
  run(calls: number): Promise<number>;
  flopsPerCall: number;
  free(): void;
}

async function makeWorkload(ctx: GpuContext, n: number, dtype: "f32" | "f16"): Promise<Workload> {
  if (dtype === "f16" && !ctx.caps.f16) throw new Error(`adapter ${ctx.adapterName} has no shader-f16`);
  const tensors: Tensor[] = [];
  for (const label of ["A", "B", "C"]) tensors.push(await createTensor(ctx, dtype, [n, n], label));
  const [a, b, c] = tensors;
  await fillUniform(ctx, a, 1, -1, 1);
  await fillUniform(ctx, b, 2, -1, 1);
  await gemm(ctx, a, b, c); // compile + warm up
  await sync(ctx, "warm-up");
  return {
    flopsPerCall: 2 * n ** 3,
    async run(calls) {
      const t0 = performance.now();
      for (let i = 0; i < calls; i++) await gemm(ctx, a, b, c);
      await sync(ctx, "sampler-overhead block");
      return (performance.now() - t0) / 1000;
    },
    free() {
      for (const t of tensors) t.buffer.destroy();
    },
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((p, q) => p - q);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

type Condition = "off" | "10 Hz" | "100 Hz";
const HZ: Record<Condition, number> = { off: 0, "10 Hz": 10, "100 Hz": 100 };

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const ctx = await openDevice();
  const work = await makeWorkload(ctx, args.size, args.dtype);

  // Calibrate: GEMM calls per block so a block lasts about --block-seconds.
  const probe = await work.run(3);
  const calls = Math.max(3, Math.round((3 * args.blockSeconds) / probe));

  if (args.load !== undefined) {
    const until = performance.now() + args.load * 1000;
    // Chunks of about a quarter second, so the load ends close to the requested time.
    while (performance.now() < until) await work.run(Math.max(1, Math.round(calls / args.blockSeconds / 4)));
    process.stderr.write(
      `sampler-overhead --load: ${args.load} s of ${args.size}² ${args.dtype} GEMM on ${ctx.adapterName}\n`,
    );
    work.free();
    ctx.destroy();
    return;
  }

  const plan = planSources();
  const specs: SourceSpec[] = plan.specs;
  const schedule: Condition[] = ["off", "10 Hz", "off", "100 Hz"];
  const blocks: { round: number; condition: Condition; seconds: number; gflops: number }[] = [];
  for (let round = 0; round < args.rounds; round++) {
    const order = schedule.map((_, i) => schedule[(i + round) % schedule.length]);
    for (const condition of order) {
      const hz = HZ[condition];
      // The sampler starts and stops outside the timed block; only its running costs are measured.
      const sampler = hz ? await Sampler.start({ sources: specs, hz }) : null;
      if (sampler) await sampler.mark("block");
      const seconds = await work.run(calls);
      if (sampler) await sampler.stop();
      blocks.push({ round, condition, seconds, gflops: (calls * work.flopsPerCall) / seconds / 1e9 });
      process.stderr.write(`round ${round} ${condition.padEnd(6)} ${(calls / seconds).toFixed(2)} GEMM/s\n`);
    }
  }

  // Each sampled block is paired with the off blocks of its round: ratio = throughput / off.
  const summary: Record<
    string,
    { medianRatio: number; minRatio: number; maxRatio: number; overheadPercent: number }
  > = {};
  for (const condition of ["10 Hz", "100 Hz"] as Condition[]) {
    const ratios: number[] = [];
    for (let round = 0; round < args.rounds; round++) {
      const off = median(
        blocks.filter((b) => b.round === round && b.condition === "off").map((b) => b.gflops),
      );
      for (const b of blocks.filter((x) => x.round === round && x.condition === condition))
        ratios.push(b.gflops / off);
    }
    const m = median(ratios);
    summary[condition] = {
      medianRatio: m,
      minRatio: Math.min(...ratios),
      maxRatio: Math.max(...ratios),
      overheadPercent: 100 * (1 - m),
    };
  }

  const result = {
    bench: "sampler-overhead",
    date: new Date().toISOString(),
    adapter: ctx.adapterName,
    workload: { op: "gemm", size: args.size, dtype: args.dtype, callsPerBlock: calls },
    sources: specs.map((s) => s.kind),
    unavailable: plan.unavailable,
    rounds: args.rounds,
    blocks,
    summary,
    target: "medianRatio ≥ 0.99 at 10 Hz",
  };
  const root = resolve(
    dirname(fileURLToPath(import.meta.url)),
    import.meta.url.includes("/dist/") ? "../.." : "..",
  );
  const slug = ctx.adapterName.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "");
  const out =
    args.out ?? join(root, "bench/results", `sampler-overhead-${slug}-${result.date.slice(0, 10)}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  for (const [c, s] of Object.entries(summary))
    process.stdout.write(
      `${c}: throughput ratio ${s.medianRatio.toFixed(4)} (range ${s.minRatio.toFixed(4)}–${s.maxRatio.toFixed(4)}), overhead ${s.overheadPercent.toFixed(2)} %\n`,
    );
  process.stdout.write(`wrote ${out}\n`);
  work.free();
  ctx.destroy();
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`sampler-overhead: ${(e as Error)?.stack ?? e}\n`);
    process.exit(1);
  },
);
