// `npm run bench`: GEMM f32 vs f16 vs subgroup-matrix (tensor cores), GFLOP/s from GPU timestamp
// queries, at square sizes and at the shapes of the dissertation's classifier. benny drives the
// repetitions (and reports wall-clock rates); the GFLOP/s come from the GPU's own clock.
// Writes bench/results/<adapter>-<date>.json and prints a table.
//
//   node dist/bench/gemm.bench.js [--sizes 256,512,...] [--no-classifier] [--no-square]
//                                 [--variants tiled-f32,tiled-f16,matrix-f16] [--out FILE]
//                                 [--tiles [--tiled-tiles t128,..] [--matrix-tiles u2x2a4x4,..] [--no-tiled-tiles]]
//                                 [--dev-tiles]   (with --tiles: the experimental tiles of dev/ too)
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { add, complete, cycle, suite } from "benny";
import { enableDevTiles } from "../dev/gemm-tiles.js";
import { type GpuContext, openDevice } from "../src/gpu/device.js";
import { KernelInputError } from "../src/gpu/errors.js";
import { GpuTimer } from "../src/gpu/timer.js";
import { type GemmOptions, type GemmVariant, gemm, TILES } from "../src/kernels/gemm.js";
import { MATRIX_TILES, matrixTile, matrixUnsupportedReason } from "../src/kernels/gemm-subgroup-matrix.js";
import { fillUniform } from "../src/kernels/random.js";
import { createTensor, destroyTensor, type Tensor } from "../src/kernels/tensor.js";

interface Variant {
  name: string;
  inType: "f32" | "f16";
  outType: "f32" | "f16";
  variant: GemmVariant;
  extra?: Partial<GemmOptions>;
}

const VARIANTS: Record<string, Variant> = {
  "tiled-f32": { name: "tiled-f32", inType: "f32", outType: "f32", variant: "tiled" },
  "tiled-f16": { name: "tiled-f16", inType: "f16", outType: "f16", variant: "tiled" },
  "matrix-f16": { name: "matrix-f16", inType: "f16", outType: "f16", variant: "subgroup-matrix" },
};

export interface BenchCase {
  group: "square" | "classifier";
  label: string;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
}

/** The six products of one training step of the dissertation's classifier: 150528 → H → 525. */
export function classifierCases(batch: number, hidden: number): BenchCase[] {
  const D = 224 * 224 * 3;
  const C = 525;
  const tag = `B${batch} H${hidden}`;
  const mk = (
    label: string,
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
  ): BenchCase => ({
    group: "classifier",
    label: `${tag} ${label}`,
    m,
    n,
    k,
    transA,
    transB,
  });
  return [
    mk("L1 fwd X·W1", batch, hidden, D, false, false),
    mk("L1 dW1=Xᵀ·dH", D, hidden, batch, true, false),
    mk("L1 dX=dH·W1ᵀ", batch, D, hidden, false, true),
    mk("L2 fwd H·W2", batch, C, hidden, false, false),
    mk("L2 dW2=Hᵀ·dY", hidden, C, batch, true, false),
    mk("L2 dH=dY·W2ᵀ", batch, hidden, C, false, true),
  ];
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

export interface BenchRow {
  group: string;
  case: string;
  variant: string;
  m: number;
  n: number;
  k: number;
  seconds: number | null;
  gflops: number | null;
  timing: string;
  wallOpsPerSecond: number | null;
  note?: string;
}

async function measure(
  ctx: GpuContext,
  timer: GpuTimer,
  c: BenchCase,
  v: Variant,
  samples: number[],
): Promise<{ run: () => Promise<void>; settle: () => Promise<void>; free: () => void }> {
  const tensors: Tensor[] = [];
  const mk = async (dtype: "f32" | "f16", shape: number[], label: string) => {
    const t = await createTensor(ctx, dtype, shape, label);
    tensors.push(t);
    return t;
  };
  try {
    const a = await mk(v.inType, c.transA ? [c.k, c.m] : [c.m, c.k], "A");
    const b = await mk(v.inType, c.transB ? [c.n, c.k] : [c.k, c.n], "B");
    const out = await mk(v.outType, [c.m, c.n], "C");
    await fillUniform(ctx, a, 1, -1, 1);
    await fillUniform(ctx, b, 2, -1, 1);
    const opts: GemmOptions = { transA: c.transA, transB: c.transB, variant: v.variant, ...v.extra };
    await gemm(ctx, a, b, out, opts); // compile + warm up
    const once = await timer.time((encoder) =>
      gemm(ctx, a, b, out, {
        ...opts,
        encoder,
        timestampWrites: timer.writesFor(0, 1),
      }),
    );
    // Enough repetitions per sample for ~100 ms of GPU work (timestamps then dwarf launch gaps).
    const reps = Math.max(1, Math.min(50, Math.ceil(0.1 / Math.max(once.seconds, 1e-6))));
    // benny calls the case function once more to sniff its return type, without awaiting it:
    // chain the calls so two timed submissions never overlap on the one timer.
    let chain: Promise<void> = Promise.resolve();
    const run = () => (chain = chain.then(runOnce));
    const runOnce = async () => {
      const t = await timer.time(async (encoder) => {
        for (let r = 0; r < reps; r++)
          await gemm(ctx, a, b, out, {
            ...opts,
            encoder,
            timestampWrites: timer.writesFor(r, reps),
          });
      });
      samples.push(t.seconds / reps);
    };
    return { run, settle: () => chain, free: () => destroyTensor(...tensors) };
  } catch (e) {
    for (const t of tensors) t.buffer.destroy();
    throw e;
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length
    ? s.length % 2
      ? s[(s.length - 1) / 2]
      : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
    : Number.NaN;
};

async function main() {
  const ctx = await openDevice();
  const timer = new GpuTimer(ctx);
  const software = /llvmpipe|lavapipe|swiftshader/i.test(ctx.adapterName);
  const sizes = (arg("sizes") ?? (software ? "256,512" : "256,512,1024,2048,4096,8192"))
    .split(",")
    .map(Number);
  const cases: BenchCase[] = [];
  if (!flag("no-square"))
    for (const s of sizes)
      cases.push({ group: "square", label: `${s}³`, m: s, n: s, k: s, transA: false, transB: false });
  if (!flag("no-classifier"))
    for (const [batch, hidden] of [
      [32, 1024],
      [256, 1024],
      [256, 2048],
    ])
      cases.push(...classifierCases(batch, hidden));
  const variants: Variant[] = (arg("variants") ?? Object.keys(VARIANTS).join(","))
    .split(",")
    .map((v) => VARIANTS[v]);
  if (flag("tiles")) {
    if (flag("dev-tiles")) enableDevTiles();
    // Every numbered tile variant at the square sizes (for tuning).
    if (!flag("no-tiled-tiles"))
      for (const t of Object.values(TILES).filter(
        (x) => !arg("tiled-tiles") || arg("tiled-tiles")!.split(",").includes(x.name),
      ))
        variants.push({
          name: `tiled-f32-${t.name}`,
          inType: "f32",
          outType: "f32",
          variant: "tiled",
          extra: { tile: t },
        });
    // Any tile name the generator parses (experimental ones too), else the production registry.
    const names = arg("matrix-tiles");
    for (const t of names ? names.split(",").map(matrixTile) : Object.values(MATRIX_TILES))
      variants.push({
        name: `matrix-f16-${t.name}`,
        inType: "f16",
        outType: "f16",
        variant: "subgroup-matrix",
        extra: { matrixTile: t },
      });
  }
  const rows: BenchRow[] = [];
  console.log(`GEMM benchmark on "${ctx.adapterName}" (timing: ${timer.method})`);
  for (const v of variants) {
    const why =
      v.variant === "subgroup-matrix"
        ? matrixUnsupportedReason(ctx)
        : v.inType === "f16" && !ctx.caps.f16
          ? "no shader-f16"
          : null;
    const usable = cases.filter((c) => !(flag("tiles") && v.extra && c.group !== "square"));
    const emptyRow = (c: BenchCase): BenchRow => ({
      group: c.group,
      case: c.label,
      variant: v.name,
      m: c.m,
      n: c.n,
      k: c.k,
      seconds: null,
      gflops: null,
      timing: timer.method,
      wallOpsPerSecond: null,
    });
    if (why) {
      for (const c of usable) rows.push({ ...emptyRow(c), note: why });
      continue;
    }
    for (const c of usable) {
      const samples: number[] = [];
      let prepared: Awaited<ReturnType<typeof measure>>;
      const row = emptyRow(c);
      try {
        prepared = await measure(ctx, timer, c, v, samples);
      } catch (e) {
        row.note = e instanceof KernelInputError ? e.message : `error: ${(e as Error).message}`;
        rows.push(row);
        console.log(`  ${v.name.padEnd(22)} ${c.label.padEnd(28)} skipped: ${row.note}`);
        continue;
      }
      await suite(
        `${v.name} ${c.label}`,
        add(`${v.name} ${c.label}`, prepared.run, { minSamples: 5, maxTime: software ? 0.5 : 1 }),
        cycle(),
        complete((summary) => {
          row.wallOpsPerSecond = summary.results[0]?.ops ?? null;
        }),
      ).catch(() => undefined);
      await prepared.settle();
      prepared.free();
      const sec = median(samples);
      row.seconds = sec;
      row.gflops = (2 * c.m * c.n * c.k) / sec / 1e9;
      rows.push(row);
    }
  }
  printTable(rows);
  const outFile =
    arg("out") ??
    join(
      resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "bench", "results"),
      `${ctx.adapterName
        .replace(/[^A-Za-z0-9]+/g, "-")
        .replace(/^-|-$/g, "")
        .slice(0, 60)}-${new Date().toISOString().slice(0, 10)}.json`,
    );
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(
    outFile,
    `${JSON.stringify({ adapter: ctx.adapterName, date: new Date().toISOString(), timing: timer.method, rows }, null, 2)}\n`,
  );
  console.log(`wrote ${outFile}`);
  timer.destroy();
  ctx.destroy();
}

function printTable(rows: BenchRow[]) {
  const variants = [...new Set(rows.map((r) => r.variant))];
  const cases = [...new Set(rows.map((r) => `${r.group}|${r.case}`))];
  const cell = (r?: BenchRow) =>
    r?.gflops ? (r.gflops >= 1000 ? `${(r.gflops / 1000).toFixed(1)} T` : `${r.gflops.toFixed(1)} G`) : "-";
  console.log(
    `\n${"case".padEnd(30)}${"M×N×K".padEnd(22)}${variants.map((v) => v.padStart(16)).join("")}   (FLOP/s)`,
  );
  for (const key of cases) {
    const [group, label] = key.split("|");
    const any = rows.find((r) => r.group === group && r.case === label)!;
    console.log(
      `${label.padEnd(30)}${`${any.m}×${any.n}×${any.k}`.padEnd(22)}${variants.map((v) => cell(rows.find((r) => r.variant === v && r.group === group && r.case === label)).padStart(16)).join("")}`,
    );
  }
}

main().catch((e) => {
  console.error(`bench: ${(e as Error).message}`);
  process.exit(1);
});
