// `halfwatt tune`: times every GEMM kernel candidate (variant × tile × split-K) for the products
// the classifier's training step makes — by default the dissertation's four configurations at
// 224×224×3 inputs and 525 classes — on this adapter, and writes the fastest per call to the tune
// cache that training then reads (src/kernels/gemm-tune-cache.ts). Each candidate's result is
// checked against the heuristic kernel's before it is timed.
import { statSync } from "node:fs";
import type { Command } from "commander";
import { HalfwattError } from "../../errors.js";
import { openDevice } from "../../gpu/device.js";
import {
  describeChoice,
  type GemmCall,
  gemmCallKey,
  recordTuning,
  type TuneResult,
  tuneGemm,
} from "../../kernels/gemm-tune.js";
import {
  readTuneCache,
  type TuneCacheFile,
  tuneCachePath,
  useTuneCache,
  writeTuneCache,
} from "../../kernels/gemm-tune-cache.js";
import { storageLimit } from "../../kernels/tensor.js";
import { mlpGemmCalls } from "../../model/gemm-calls.js";
import { formatTable } from "../../report/format.js";
import { choiceOption, integerOption, listOption, OptionError } from "../options.js";

interface TuneOpts {
  batch?: number[];
  neurons?: number[][] | number[];
  precision?: ("f32" | "mixed")[];
  inputs: number;
  classes: number;
  shape?: string[];
  cache?: string;
  samples: number;
  dryRun?: boolean;
  replaceCache?: boolean;
  json?: boolean;
}

/** "256x1024x150528:tA:f16>f32:bias:relu" → a call (defaults: f16 in and out, no epilogue). */
export function parseShape(spec: string): GemmCall {
  const [dims, ...flags] = spec.split(":");
  const m = /^(\d+)x(\d+)x(\d+)$/.exec(dims);
  if (!m) throw new OptionError("--shape", spec, "MxNxK[:tA][:tB][:f16>f32][:bias][:relu]");
  const call: GemmCall = {
    m: Number(m[1]),
    n: Number(m[2]),
    k: Number(m[3]),
    transA: false,
    transB: false,
    inType: "f16",
    outType: "f16",
    bias: false,
    relu: false,
    beta: false,
    label: spec,
  };
  if (call.m < 1 || call.n < 1 || call.k < 1) throw new OptionError("--shape", spec, "dimensions ≥ 1");
  for (const f of flags) {
    const types = /^(f16|f32)>(f16|f32)$/.exec(f);
    if (f === "tA") call.transA = true;
    else if (f === "tB") call.transB = true;
    else if (f === "bias") call.bias = true;
    else if (f === "relu") call.relu = true;
    else if (types) {
      call.inType = types[1] as "f16" | "f32";
      call.outType = types[2] as "f16" | "f32";
    } else throw new OptionError("--shape", spec, `known flags (tA, tB, f16>f32, bias, relu), not "${f}"`);
  }
  return call;
}

/** The calls to tune: the shapes given, else every configuration's training-step products (deduplicated). */
export function callsToTune(o: TuneOpts): GemmCall[] {
  if (o.shape?.length) return o.shape.map(parseShape);
  const seen = new Map<string, GemmCall>();
  const neurons = o.neurons ?? [[1024], [2048]];
  const widths = (neurons.length && Array.isArray(neurons[0]) ? neurons : [neurons]) as number[][];
  for (const precision of o.precision ?? ["f32", "mixed"])
    for (const batch of o.batch ?? [32, 256])
      for (const hidden of widths)
        for (const call of mlpGemmCalls({ batch, inputs: o.inputs, hidden, classes: o.classes, precision }))
          if (!seen.has(gemmCallKey(call))) seen.set(gemmCallKey(call), call);
  return [...seen.values()];
}

const tflops = (flops: number, s: number | null) => (s === null ? "failed" : (flops / s / 1e12).toFixed(1));
const micro = (s: number | null) => (s === null ? "—" : (s * 1e6).toFixed(0));

export function formatTune(results: TuneResult[], cachePath: string, written: boolean): string {
  const rows = results.map((r) => [
    r.call.label ?? "",
    r.key,
    micro(r.heuristic.seconds),
    tflops(r.flops, r.heuristic.seconds),
    describeChoice(r.best.choice),
    micro(r.best.seconds),
    tflops(r.flops, r.best.seconds),
    r.heuristic.seconds && r.best.seconds ? `${(r.heuristic.seconds / r.best.seconds).toFixed(2)}×` : "",
  ]);
  const failed = results.flatMap((r) =>
    r.candidates.filter((c) => c.error).map((c) => `  ${r.key}: ${describeChoice(c.choice)}: ${c.error}`),
  );
  return [
    formatTable(["call", "key", "heuristic µs", "TFLOP/s", "best", "µs", "TFLOP/s", "speed-up"], rows),
    ...(failed.length ? ["candidates that failed or disagreed (not used):", ...failed] : []),
    written ? `written to ${cachePath}` : `not written (--dry-run); cache: ${cachePath}`,
  ].join("\n");
}

/**
 * The cache this run adds to: a broken one fails here, before any timing, unless --replace-cache
 * says to start afresh (the file is overwritten when the results are written).
 */
function readCacheToExtend(path: string, replace: boolean): TuneCacheFile {
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory())
    throw new HalfwattError(
      "E_INPUT",
      `--cache ${path}: is a folder; give a file name (e.g. ${path}/gemm-tune.json)`,
    );
  try {
    return readTuneCache(path);
  } catch (e) {
    if (!replace) throw e;
    process.stderr.write(`halfwatt: ${path} is not a readable tune cache: replacing it with a new one\n`);
    return { format: "halfwatt-gemm-tune", version: 1, adapters: {} };
  }
}

/** The hidden widths to tune: those given, else the dissertation's 1024 and 2048. */
export function widthsToTune(given: number[] | undefined): number[][] {
  return (given ?? [1024, 2048]).map((w) => [w]);
}

export function register(program: Command): void {
  const ints = (name: string) => listOption(name, integerOption(name, { min: 1 }));
  program
    .command("tune")
    .description("time the GEMM kernels for the classifier's shapes on this GPU and cache the fastest")
    // No commander defaults for the lists: listOption appends to the previous value, which would
    // be the default (defaults are filled in below).
    .option("--batch <n,…>", "batch sizes (default 32,256)", ints("--batch"))
    .option(
      "--neurons <n,…>",
      "hidden widths, one configuration each (the default: 1024 and 2048)",
      // (no default here: listOption would append the given widths to it)
      ints("--neurons"),
    )
    .option(
      "--precision <p,…>",
      "f32, mixed or both (default both)",
      listOption("--precision", choiceOption("--precision", ["f32", "mixed"] as const)),
    )
    .option(
      "--inputs <n>",
      "input features (224×224×3 = 150528)",
      integerOption("--inputs", { min: 1 }),
      150528,
    )
    .option("--classes <n>", "classes", integerOption("--classes", { min: 2 }), 525)
    .option(
      "--shape <MxNxK[:flags]>",
      "tune this product instead (repeatable): flags tA, tB, f16>f32, bias, relu",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option(
      "--cache <file>",
      "the tune cache (default: $HALFWATT_TUNE_CACHE or ~/.cache/halfwatt/gemm-tune.json)",
    )
    .option(
      "--samples <n>",
      "timed samples per candidate (median)",
      integerOption("--samples", { min: 1 }),
      3,
    )
    .option("--dry-run", "time and print, write nothing")
    .option("--replace-cache", "start a new cache where --cache is not a readable tune cache (overwrites it)")
    .option("--json", "print one JSON document")
    .action(async (o: TuneOpts) => {
      // Each hidden width is one single-layer configuration (the dissertation's), not one deep net.
      const opts = {
        ...o,
        batch: o.batch ?? [32, 256],
        precision: o.precision ?? (["f32", "mixed"] as const).slice(),
        neurons: widthsToTune(o.neurons as number[] | undefined),
      };
      const calls = callsToTune(opts);
      const cachePath = o.cache ?? tuneCachePath();
      const file = readCacheToExtend(cachePath, o.replaceCache === true); // before any timing
      const ctx = await openDevice();
      // Time every candidate against the heuristics, not against an earlier tuning.
      useTuneCache(ctx, "off");
      const say = (s: string) => process.stderr.write(`${s}\n`);
      const results: TuneResult[] = [];
      // Products whose tensors this adapter cannot hold (lavapipe's 128 MiB bindings and the
      // 150528-wide first layer) are skipped with the reason, not fatal: the others still tune.
      const limit = storageLimit(ctx);
      const skipped: { key: string; reason: string }[] = [];
      for (const [i, call] of calls.entries()) {
        const key = gemmCallKey(call);
        const bytes = Math.max(
          call.m * call.k * (call.inType === "f16" ? 2 : 4),
          call.k * call.n * (call.inType === "f16" ? 2 : 4),
          call.m * call.n * (call.outType === "f16" ? 2 : 4),
        );
        if (bytes > limit) {
          skipped.push({
            key,
            reason: `a tensor of ${bytes} bytes exceeds this adapter's ${limit}-byte binding limit`,
          });
          continue;
        }
        if (!o.json) say(`[${i + 1}/${calls.length}] ${call.label ?? ""} ${key}`);
        results.push(await tuneGemm(ctx, call, { samples: o.samples }));
      }
      const written = !o.dryRun;
      if (written) writeTuneCache(recordTuning(ctx, file, results), cachePath);
      if (o.json)
        process.stdout.write(
          `${JSON.stringify({ adapter: ctx.adapterName, cache: cachePath, written, results, skipped }, null, 2)}\n`,
        );
      else {
        process.stdout.write(`${formatTune(results, cachePath, written)}\n`);
        for (const x of skipped) process.stdout.write(`skipped ${x.key}: ${x.reason}\n`);
      }
      ctx.destroy();
    });
}
