// The GEMM tuner: times every candidate kernel (variant × tile × split-K) for the products a
// model will run, on this adapter, checks each against the heuristic kernel's result, and records
// the fastest in the tune cache (src/kernels/gemm-tune-cache.ts) that gemm()'s automatic choice
// reads. \`halfwatt tune\` drives it; the bench shares its candidates.
import type { GpuContext } from "../gpu/device.js";
import { GpuTimer } from "../gpu/timer.js";
import { median } from "../stats/descriptive.js";
import { fromF16Array } from "./f16.js";
import {
  choiceOptions,
  chooseTile,
  type GemmOptions,
  gemm,
  planSplitK,
  resolveVariant,
  SKINNY_MAX_M,
  skinnyOk,
  TILES,
} from "./gemm.js";
import type { GemmShape } from "./gemm-common.js";
import { isCpuAdapter, LANES_TILES, LANES_TUNED, lanesTileDims } from "./gemm-lanes.js";
import { SKINNY_ROWS } from "./gemm-skinny.js";
import type { SplitTile } from "./gemm-split-k.js";
import {
  chooseMatrixTile,
  MATRIX_TILES,
  matrixTileDims,
  matrixUnsupportedReason,
  tileShapeReason,
  tileUnsupportedReason,
} from "./gemm-subgroup-matrix.js";
import {
  type AdapterSection,
  adapterKey,
  describeChoice,
  type GemmCall,
  type GemmChoice,
  gemmCallKey,
  gemmKernelsHash,
  type TuneCacheFile,
} from "./gemm-tune-cache.js";
import { fillUniform } from "./random.js";
import { createTensor, destroyTensor, readBytes, type Tensor } from "./tensor.js";

export { describeChoice, type GemmCall, type GemmChoice, gemmCallKey } from "./gemm-tune-cache.js";

/** Split-K counts to try around the heuristic's: none, half, the heuristic's, double, quadruple. */
function splitOptions(s: GemmShape, tile: SplitTile): number[] {
  const { bm, bn, bk } = tile;
  const auto = planSplitK(s, tile);
  const maxSplits = Math.max(1, Math.floor(s.k / bk));
  const tiles = Math.ceil(s.m / bm) * Math.ceil(s.n / bn);
  // The workspace holds splits × M × N floats: keep it under 1 GiB.
  const byMemory = Math.max(1, Math.floor(2 ** 28 / (s.m * s.n)));
  const want = [1, Math.floor(auto / 2), auto, auto * 2, auto * 4];
  if (tiles < 132) want.push(Math.ceil(528 / tiles));
  return [...new Set(want.map((x) => Math.max(1, Math.min(x, maxSplits, byMemory, 256))))].sort(
    (a, b) => a - b,
  );
}

/** Every kernel that can compute this call here, with the split-K counts worth trying. */
export function gemmCandidates(ctx: GpuContext, call: GemmCall): GemmChoice[] {
  const out: GemmChoice[] = [];
  const opts = { transA: call.transA, transB: call.transB };
  if (call.inType === "f16" && matrixUnsupportedReason(ctx) === null) {
    for (const t of Object.values(MATRIX_TILES)) {
      if (tileUnsupportedReason(ctx, t) || tileShapeReason(t, call)) continue;
      for (const splitK of splitOptions(call, matrixTileDims(t)))
        out.push({ variant: "subgroup-matrix", matrixTile: t.name, splitK });
    }
  }
  // The portable kernel too (f32 accumulation for f16): it wins some small products.
  if (call.inType === "f32" || ctx.caps.f16) {
    for (const t of Object.values(TILES))
      for (const splitK of splitOptions(call, { bm: t.BM, bn: t.BN, bk: t.BK }))
        out.push({ variant: "tiled", tile: t.name, splitK });
  }
  // The barrier-free lanes kernel suits CPU adapters only (on a GPU its per-lane B loads and
  // 4-column tiles lose to the tiled kernel): tuned there, not on GPUs, to keep tuning short.
  if (isCpuAdapter(ctx) && (call.inType === "f32" || ctx.caps.f16))
    for (const name of LANES_TUNED) {
      const t = LANES_TILES[name];
      const { bm, bn, bk } = lanesTileDims(t);
      // No split and the heuristic's: a CPU adapter has few cores to fill.
      for (const splitK of new Set([1, planSplitK(call, { bm, bn, bk })]))
        out.push({ variant: "lanes", lanesTile: t.name, splitK });
    }
  if (skinnyOk(call, opts) && call.m <= SKINNY_MAX_M)
    for (const skinnyRows of SKINNY_ROWS)
      for (const splitK of [undefined, 64, 128, 256, 512])
        out.push({ variant: "skinny", splitK, ...(skinnyRows === 32 ? {} : { skinnyRows }) });
  return out;
}

/** What gemm() picks for this call without a cache (the heuristics), as a choice. */
export function heuristicChoice(ctx: GpuContext, call: GemmCall): GemmChoice {
  const fake = { dtype: call.inType } as Tensor;
  const variant = resolveVariant(ctx, fake, { transA: call.transA, transB: call.transB }, call);
  if (variant === "subgroup-matrix") return { variant, matrixTile: chooseMatrixTile(call).name };
  if (variant === "tiled") return { variant, tile: chooseTile(call.m, call.n).name };
  return { variant };
}

// ---- timing ---------------------------------------------------------------------------------

export interface CandidateResult {
  choice: GemmChoice;
  /** Median seconds per call; null when it failed or disagreed with the reference. */
  seconds: number | null;
  error?: string;
}

export interface TuneResult {
  call: GemmCall;
  key: string;
  flops: number;
  heuristic: CandidateResult;
  best: CandidateResult;
  candidates: CandidateResult[];
}

/** Floats of C read back to check each candidate against the heuristic kernel's result. */
const CHECK_FLOATS = 1 << 16;

async function sampleOf(ctx: GpuContext, c: Tensor): Promise<Float64Array> {
  const bytesPer = c.dtype === "f16" ? 2 : 4;
  const total = c.size;
  // Three windows (start, middle, end): every tile row pattern and both edges of C.
  const win = Math.min(total, Math.floor(CHECK_FLOATS / 3));
  const starts = [...new Set([0, Math.floor((total - win) / 2), total - win])];
  const out: number[] = [];
  for (const s of starts) {
    const offset = s * bytesPer;
    // copyBufferToBuffer needs 4-byte aligned offsets and sizes.
    const alignedOff = offset - (offset % 4);
    const bytes = Math.ceil((win * bytesPer + (offset - alignedOff)) / 4) * 4;
    const raw = await readBytes(ctx, c.buffer, bytes, (c.byteOffset ?? 0) + alignedOff);
    const skip = (offset - alignedOff) / bytesPer;
    const vals =
      c.dtype === "f16"
        ? fromF16Array(new Uint16Array(raw)).subarray(skip, skip + win)
        : new Float32Array(raw, skip * 4, win);
    for (const v of vals) out.push(v);
  }
  return Float64Array.from(out);
}

/**
 * Whether a candidate's sample of C agrees with the reference kernel's: the inputs are uniform in
 * [-1, 1), so |C| grows like √K, and two f32-accumulating kernels differ by rounding of the order of
 * K·eps·√K in the worst case; 2⁻⁷·√K (f16 outputs round at 2⁻¹¹ relative) is far above that and
 * far below the O(√K) error of a kernel that drops or misplaces a tile.
 */
export function samplesAgree(ref: Float64Array, got: Float64Array, k: number): string | null {
  if (ref.length !== got.length) return `sample sizes differ (${ref.length} vs ${got.length})`;
  const tol = 2 ** -7 * Math.sqrt(k) + 1e-3;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(ref[i] - got[i]);
    if (!(d <= tol))
      return `element ${i} of the sample: ${got[i]} vs ${ref[i]} (tolerance ${tol.toExponential(2)})`;
  }
  return null;
}

export interface TuneOptions {
  /** GPU seconds per timed sample (repetitions are chosen to fill it); default 0.02. */
  sampleSeconds?: number;
  /** Timed samples per candidate (median); default 3. */
  samples?: number;
  /** Restrict the candidates (the bench and the tests). */
  candidates?: GemmChoice[];
  onCandidate?(r: CandidateResult): void;
}

/** Times every candidate for one call; each is checked against the heuristic kernel's output first. */
export async function tuneGemm(ctx: GpuContext, call: GemmCall, opts: TuneOptions = {}): Promise<TuneResult> {
  const sampleSeconds = opts.sampleSeconds ?? 0.02;
  const samples = opts.samples ?? 3;
  const tensors: Tensor[] = [];
  const mk = async (dtype: "f32" | "f16", shape: number[], label: string) => {
    const t = await createTensor(ctx, dtype, shape, label);
    tensors.push(t);
    return t;
  };
  const timer = new GpuTimer(ctx);
  try {
    const a = await mk(call.inType, call.transA ? [call.k, call.m] : [call.m, call.k], "tune A");
    const b = await mk(call.inType, call.transB ? [call.n, call.k] : [call.k, call.n], "tune B");
    const c = await mk(call.outType, [call.m, call.n], "tune C");
    const c0 = call.beta ? await mk(call.outType, [call.m, call.n], "tune C0") : null;
    const bias = call.bias ? await mk(call.outType, [call.n], "tune bias") : undefined;
    await fillUniform(ctx, a, 11, -1, 1);
    await fillUniform(ctx, b, 12, -1, 1);
    if (c0) await fillUniform(ctx, c0, 13, -1, 1);
    if (bias) await fillUniform(ctx, bias, 14, -1, 1);
    const base: GemmOptions = {
      transA: call.transA,
      transB: call.transB,
      bias,
      relu: call.relu,
      beta: call.beta ? 0.5 : 0,
    };
    // Before each call that is checked: with beta, C is an input and is restored; without, it is
    // poisoned (values in [1000, 2000), far from any product of these inputs), so a kernel that
    // leaves part of C unwritten cannot pass on the previous candidate's result.
    const resetC = async () => {
      if (!c0) return fillUniform(ctx, c, 15, 1000, 2000);
      const enc = ctx.device.createCommandEncoder();
      enc.copyBufferToBuffer(c0.buffer, 0, c.buffer, 0, c.buffer.size);
      ctx.device.queue.submit([enc.finish()]);
    };
    const heuristic = heuristicChoice(ctx, call);
    await resetC();
    await gemm(ctx, a, b, c, { ...base, ...choiceOptions(heuristic) });
    const reference = await sampleOf(ctx, c);

    const run = async (choice: GemmChoice): Promise<CandidateResult> => {
      try {
        const o = { ...base, ...choiceOptions(choice) };
        await resetC();
        await gemm(ctx, a, b, c, o);
        const why = samplesAgree(reference, await sampleOf(ctx, c), call.k);
        if (why)
          return { choice, seconds: null, error: `disagrees with ${describeChoice(heuristic)}: ${why}` };
        const once = await timer.time((encoder) =>
          gemm(ctx, a, b, c, { ...o, encoder, timestampWrites: timer.writesFor(0, 1) }),
        );
        const reps = Math.max(1, Math.min(200, Math.ceil(sampleSeconds / Math.max(once.seconds, 1e-7))));
        const times: number[] = [];
        for (let s = 0; s < samples; s++) {
          const t = await timer.time(async (encoder) => {
            for (let r = 0; r < reps; r++)
              await gemm(ctx, a, b, c, { ...o, encoder, timestampWrites: timer.writesFor(r, reps) });
          });
          times.push(t.seconds / reps);
        }
        return { choice, seconds: median(times) };
      } catch (e) {
        return { choice, seconds: null, error: e instanceof Error ? e.message : String(e) };
      }
    };

    const heuristicResult = await run(heuristic);
    const candidates: CandidateResult[] = [];
    for (const choice of opts.candidates ?? gemmCandidates(ctx, call)) {
      const r = await run(choice);
      candidates.push(r);
      opts.onCandidate?.(r);
    }
    const timed = [heuristicResult, ...candidates].filter((r) => r.seconds !== null);
    const best = timed.reduce(
      (x, y) => ((y.seconds as number) < (x.seconds as number) ? y : x),
      heuristicResult,
    );
    return {
      call,
      key: gemmCallKey(call),
      flops: 2 * call.m * call.n * call.k,
      heuristic: heuristicResult,
      best,
      candidates,
    };
  } finally {
    timer.destroy();
    destroyTensor(...tensors);
  }
}

/** Merges tune results into the cache file for this adapter (entries for other shapes stay). */
export function recordTuning(ctx: GpuContext, file: TuneCacheFile, results: TuneResult[]): TuneCacheFile {
  const key = adapterKey(ctx);
  const kernels = gemmKernelsHash();
  const prev = file.adapters[key];
  const section: AdapterSection = {
    adapter: key,
    kernels,
    // Timings of other kernels are stale: start over when the shaders changed.
    entries: prev && prev.kernels === kernels ? { ...prev.entries } : {},
  };
  const now = new Date().toISOString();
  for (const r of results) {
    if (r.best.seconds === null) continue;
    section.entries[r.key] = {
      choice: r.best.choice,
      seconds: r.best.seconds,
      heuristicSeconds: r.heuristic.seconds,
      tunedAt: now,
    };
  }
  return { ...file, adapters: { ...file.adapters, [key]: section } };
}
