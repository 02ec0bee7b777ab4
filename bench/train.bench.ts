// Trainer throughput: samples/s, GPU energy per 1,000 samples (NVML counter) and allocated GPU
// memory for the dense classifier at the dissertation's shapes, three ways in one run:
//   runtime: the step runtime as training runs it (recorded dispatches, one submit per step, slabs;
//            GpuMlpOptions.fuseFirstLayerUpdate "auto", the default: the first layer's weight
//            gradient fused with Adam where weight-update.ts's fusedUpdatePays says so, else stored
//            and read back by Adam);
//   unfused: the same with the weight gradient always stored (fuseFirstLayerUpdate false);
//   naive:   the same step composed from the op functions as they stand alone — one encoder and
//            one submit per step, but every op re-looked-up, a bind group and pass per dispatch,
//            Adam and the non-finite check per tensor (the baseline the runtime must beat);
//   fused:   the same with the fused weight gradient + optimizer at every batch
//            (fuseFirstLayerUpdate true; slower for mixed/256 on the H200, docs/performance.md);
//   overlap: unfused, with the first layer's optimizer step overlapped beside its weight gradient
//            (overlapFirstLayerUpdate, weight-grad-overlap.ts), once per --overlap-chunks count
//            (rows named overlap2, overlap4, …, overlap4q8 with 8 slots a worker thread);
// and a per-kernel profile of the runtime step (timestamp queries, one pass per dispatch, the mean
// over up to 16 steps) with
// each kernel's minimum traffic and FLOPs (kernelTable), and, with --ceilings, a 1 GiB
// device-to-device copy and the slab Adam over the first layer's parameters in the same call.
// The PyTorch peer (bench/peers/torch_mlp.py) runs beside it in bench/gpu-run.sh.
//   node dist/bench/train.bench.js --configs f32:32:1024,mixed:256:1024 --seconds 10 --out FILE
//     [--modes runtime,unfused,fused,overlap,naive] [--overlap-chunks 2,4,8,4:8] [--ceilings]
//     [--fused-tile NAME] [--drain-every N]
import { writeFileSync } from "node:fs";
import { DEV_TILES } from "../dev/gemm-tiles.js";
import { type GpuContext, openDevice } from "../src/gpu/device.js";
import { adam } from "../src/kernels/adam.js";
import { biasGrad } from "../src/kernels/bias-grad.js";
import { gemm, TILES } from "../src/kernels/gemm.js";
import { matrixTile, OVERLAP_OP } from "../src/kernels/gemm-subgroup-matrix.js";
import { imageNormalize } from "../src/kernels/image-normalize.js";
import { nonfinite } from "../src/kernels/nonfinite.js";
import { reluBackward } from "../src/kernels/relu-backward.js";
import { softmaxXent } from "../src/kernels/softmax-xent.js";
import { createTensor, reshapeView, type Tensor, upload } from "../src/kernels/tensor.js";
import { GpuMlp, type GpuMlpOptions, type GpuSplit, TRAIN_SLOT } from "../src/model/mlp.js";
import { optimizerConfig } from "../src/model/optimizer.js";
import { precisionPolicy } from "../src/model/policy.js";
import { encodeDispatches, encodeProfiled } from "../src/runtime/replay.js";
import { openNvml } from "../src/telemetry/nvml.js";
import { measureCopyCeiling } from "./copy-ceiling.js";
import { wallPerCall } from "./wall-per-call.js";

interface Cfg {
  precision: "f32" | "mixed";
  batch: number;
  neurons: number;
}

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const configs: Cfg[] = opt(
  "configs",
  "f32:32:1024,mixed:32:1024,mixed:256:1024,mixed:256:2048,f32:256:1024,f32:256:2048",
)
  .split(",")
  .map((c) => {
    const [p, b, n] = c.split(":");
    return { precision: p === "f32" ? "f32" : "mixed", batch: Number(b), neurons: Number(n) };
  });
const seconds = Number(opt("seconds", "10"));
const size = Number(opt("image-size", "224"));
const classes = Number(opt("classes", "525"));
const count = Number(opt("count", "1024"));
const modes = opt("modes", "runtime,naive").split(",");
const tableFor = opt("table-configs", "mixed:256:1024,f32:32:1024").split(",");
// --fused-tile NAME: the fused (or overlapped) first-layer kernel's tile wherever it runs so (a portable tile
// of TILES or dev/gemm-tiles.ts, or a subgroup-matrix tile name such as p2x2a2x2); default its
// own choice.
const fusedTileName = opt("fused-tile", "");
const fusedPortable = TILES[fusedTileName] ?? DEV_TILES[fusedTileName];
const fusedKernel: GpuMlpOptions["firstLayerUpdateKernel"] = !fusedTileName
  ? undefined
  : fusedPortable
    ? { variant: "tiled", tile: fusedPortable }
    : { variant: "subgroup-matrix", matrixTile: matrixTile(fusedTileName) };
// --overlap-chunks C[:S],…: one overlap row per entry, C chunks, S slots a worker thread in flight.
const overlapRuns = opt("overlap-chunks", "4")
  .split(",")
  .map((e) => {
    const [chunks, slots] = e.split(":").map(Number);
    return { chunks, slots };
  });
const ceilings = args.includes("--ceilings");
// --drain-every N: wait for the queue to empty every N steps of a timed row (default 0: never;
// at most QUEUE_STEPS steps in flight instead, see timed()).
const drainEvery = Number(opt("drain-every", "0"));
/** Steps submitted and unfinished at most while a row is timed (the host stays this far ahead). */
const QUEUE_STEPS = 8;
const out = opt("out", "");
const MEAN = [0.5, 0.5, 0.5] as const;
const STD = [0.25, 0.25, 0.25] as const;

const nvml = openNvml();
const energyJ = () => (nvml.available ? nvml.binding.energyMillijoules(0) / 1000 : Number.NaN);

async function residentSplit(ctx: GpuContext): Promise<GpuSplit> {
  const bytes = size * size * 3;
  const host = new Uint8Array(count * bytes);
  let x = 12345;
  for (let i = 0; i < host.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    host[i] = x >>> 24;
  }
  const pixels = await createTensor(ctx, "u8", [count, bytes], "pixels");
  upload(ctx, pixels, host);
  const labels = await createTensor(ctx, "u32", [count], "labels");
  upload(
    ctx,
    labels,
    Uint32Array.from({ length: count }, (_, i) => i % classes),
  );
  const order = await createTensor(ctx, "u32", [count], "order");
  upload(
    ctx,
    order,
    Uint32Array.from({ length: count }, (_, i) => i),
  );
  return { name: "bench", count, pixels, labels, order };
}

/**
 * Runs `step` until `seconds` pass (after warm-up) and returns steps, wall seconds, samples/s and
 * GPU joules per 1,000 samples. The queue is kept fed the way the trainer feeds it (it never
 * waits within an epoch) and PyTorch's peer is timed (one synchronize after the timed loop): at
 * most QUEUE_STEPS steps are submitted and unfinished, so the GPU never waits on the host. The
 * wall clock runs until the last step has finished. `--drain-every N` waits for the queue to
 * empty every N steps instead (how this bench timed until 2026-12-08: every 20), so the cost of a
 * drain can be read as the difference between two rows.
 */
async function timed(ctx: GpuContext, step: (i: number) => Promise<void> | void, batch: number) {
  for (let i = 0; i < 10; i++) await step(i);
  await ctx.device.queue.onSubmittedWorkDone();
  const e0 = energyJ();
  const t0 = performance.now();
  let steps = 0;
  const unfinished: Promise<undefined>[] = [];
  while (performance.now() - t0 < seconds * 1000) {
    await step(steps++);
    if (drainEvery > 0) {
      if (steps % drainEvery === 0) await ctx.device.queue.onSubmittedWorkDone();
      continue;
    }
    unfinished.push(ctx.device.queue.onSubmittedWorkDone());
    if (unfinished.length >= QUEUE_STEPS) await unfinished.shift();
  }
  await ctx.device.queue.onSubmittedWorkDone();
  const s = (performance.now() - t0) / 1000;
  const joules = energyJ() - e0;
  return {
    steps,
    seconds: s,
    drainEvery,
    samplesPerSecond: (steps * batch) / s,
    joulesPer1000Samples: (joules / (steps * batch)) * 1000,
    avgWatts: joules / s,
  };
}

function allocatedBytes(m: GpuMlp): number {
  const slabs = [m.params, m.grads, m.m, m.v, m.half].reduce((a, s) => a + (s ? s.all.buffer.size : 0), 0);
  return slabs;
}

/** Steps a profile averages at most (WebGPU allows 4,096 queries a set: fewer for long plans). */
const PROFILE_STEPS = 16;

/**
 * Per-dispatch GPU times of the plan (µs), each the mean over `steps` training steps, one pass a
 * dispatch with timestamps at its ends. Some drivers count time in coarse ticks (65.5 µs on the
 * H100 measured, docs/performance.md), so one step gives a small kernel 0 or one tick; the start
 * of a kernel falls at a different phase of the tick each step, so the mean over steps converges
 * on its real length. `beforeStep(s)` runs before step s is encoded (the bench resets the cursor
 * at each epoch's start there).
 */
async function profile(
  ctx: GpuContext,
  list: Parameters<typeof encodeProfiled>[1],
  beforeStep: (s: number) => void,
) {
  const n = list.length;
  const steps = Math.max(1, Math.min(PROFILE_STEPS, Math.floor(4096 / (2 * n))));
  const qs = ctx.device.createQuerySet({ type: "timestamp", count: 2 * n * steps });
  const resolve = ctx.device.createBuffer({
    size: 16 * n * steps,
    usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
  });
  const read = ctx.device.createBuffer({
    size: 16 * n * steps,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  for (let s = 0; s < steps; s++) {
    beforeStep(s);
    const enc = ctx.device.createCommandEncoder();
    encodeProfiled(enc, list, qs, 2 * n * s);
    ctx.device.queue.submit([enc.finish()]);
  }
  const enc = ctx.device.createCommandEncoder();
  enc.resolveQuerySet(qs, 0, 2 * n * steps, resolve, 0);
  enc.copyBufferToBuffer(resolve, 0, read, 0, 16 * n * steps);
  ctx.device.queue.submit([enc.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const t = new BigUint64Array(read.getMappedRange().slice(0));
  read.unmap();
  const rows = list.map((d, i) => {
    let ns = 0;
    for (let s = 0; s < steps; s++) ns += Number(t[2 * n * s + 2 * i + 1] - t[2 * n * s + 2 * i]);
    return { kernel: d.label, us: ns / steps / 1000 };
  });
  qs.destroy();
  resolve.destroy();
  read.destroy();
  const byKernel = new Map<string, number>();
  for (const r of rows) byKernel.set(r.kernel, (byKernel.get(r.kernel) ?? 0) + r.us);
  return {
    steps,
    totalUs: rows.reduce((a, r) => a + r.us, 0),
    byKernel: Object.fromEntries([...byKernel].sort((a, b) => b[1] - a[1])),
    rows,
  };
}

interface KernelRow {
  kernel: string;
  role: string;
  us: number;
  bytes: number;
  flops: number;
  gbPerS: number;
  tflopPerS: number;
}

/**
 * The per-kernel table of one step: each dispatch of the plan (a GEMM's split-K reduction joined
 * to its GEMM) with the least traffic its role needs — every input read once, every output
 * written once — and its FLOPs (2·M·N·K per product), from the model's shapes. Roles follow the
 * plan's order (mlp.ts trainPlan, one hidden layer): the GEMMs are the forward products of layers
 * 0 and 1, then layer 1's weight and input gradients, then (unfused) layer 0's weight gradient.
 */
function kernelTable(
  rows: { kernel: string; us: number }[],
  c: Cfg,
  inputs: number,
  /** Layer 0's weights where its update is fused or overlapped (not in the slab Adam), else 0. */
  firstParams: number,
  restParams: number,
): KernelRow[] {
  const e = c.precision === "mixed" ? 2 : 4;
  const copy = c.precision === "mixed" ? 2 : 0;
  const [B, I, N, C] = [c.batch, inputs, c.neurons, classes];
  const gemms: [string, number, number][] = [
    ["forward layer 0", (B * I + I * N + B * N) * e, 2 * B * I * N],
    ["forward layer 1", (B * N + N * C + B * C) * e, 2 * B * N * C],
    ["weight gradient layer 1", (B * N + B * C) * e + N * C * 4, 2 * B * N * C],
    ["input gradient layer 1", (B * C + N * C + B * N) * e, 2 * B * N * C],
    ["weight gradient layer 0", (B * I + B * N) * e + I * N * 4, 2 * B * I * N],
  ];
  let g = 0;
  let biasGrads = 0;
  let nonfinites = 0;
  const out: KernelRow[] = [];
  for (const r of rows) {
    const k = r.kernel;
    let role = k;
    let bytes = 0;
    let flops = 0;
    // A split-K reduction joins its GEMM; the overlapped update's dispatches join each other.
    const last = out[out.length - 1];
    if (last && (k.startsWith("gemm_splitk_reduce") || (k.startsWith(OVERLAP_OP) && last.kernel === k))) {
      last.us += r.us;
      continue;
    }
    if (k.startsWith("gemm_")) {
      [role, bytes, flops] = gemms[g++] ?? [k, 0, 0];
    } else if (k.startsWith("weight_grad_update")) {
      role = "weight gradient layer 0 + optimizer";
      bytes = (B * I + B * N) * e + firstParams * (24 + copy);
      flops = 2 * B * I * N;
    } else if (k.startsWith(OVERLAP_OP)) {
      // dW written and read back once, beside the optimizer's own traffic.
      role = "weight gradient layer 0 ‖ optimizer";
      bytes = (B * I + B * N) * e + firstParams * (4 + 4 + 24 + copy);
      flops = 2 * B * I * N;
    } else if (k.startsWith("batch_input")) {
      role = "batch input (u8 → normalised)";
      bytes = B * I * (1 + e);
    } else if (k.startsWith("softmax")) {
      bytes = 2 * B * C * e;
    } else if (k.startsWith("metrics_rows")) {
      role = "metrics: classify rows";
      bytes = B * C * e + 2 * B * 4; // logits, labels, one code a row
    } else if (k.startsWith("metrics")) {
      role = "metrics: sums";
      bytes = 2 * B * 4; // codes and row losses
    } else if (k.startsWith("bias_grad")) {
      const n = biasGrads++ === 0 ? C : N;
      role = `bias gradient (${n})`;
      bytes = B * n * e + n * 4;
    } else if (k.startsWith("relu")) {
      bytes = 3 * B * N * e;
    } else if (k.startsWith("nonfinite_x")) {
      role = "nonfinite (dLogits, H, dH)";
      bytes = (B * C + 2 * B * N) * e; // one dispatch over the three (mlp.ts recordOverflowCheck)
    } else if (k.startsWith("nonfinite")) {
      bytes = (nonfinites++ === 0 ? B * C : B * N) * e; // dLogits, then H and dH
    } else if (k.startsWith("adam")) {
      role = "adam (slab)";
      bytes = restParams * (24 + 4 + copy);
    }
    out.push({ kernel: k, role, us: r.us, bytes, flops, gbPerS: 0, tflopPerS: 0 });
  }
  for (const r of out) {
    r.gbPerS = r.us > 0 ? r.bytes / (r.us * 1e3) : 0;
    r.tflopPerS = r.us > 0 ? r.flops / (r.us * 1e6) : 0;
  }
  return out;
}

function printTable(title: string, t: KernelRow[]): void {
  console.log(`per-kernel ${title} (GPU µs, the mean of each dispatch over the profiled steps)`);
  console.log("  role                                    µs     MB      GFLOP   GB/s   TFLOP/s  kernel");
  for (const r of t)
    console.log(
      `  ${r.role.slice(0, 38).padEnd(38)} ${r.us.toFixed(0).padStart(5)} ${(r.bytes / 1e6).toFixed(1).padStart(7)} ${(r.flops / 1e9).toFixed(1).padStart(8)} ${r.gbPerS.toFixed(0).padStart(6)} ${r.tflopPerS.toFixed(1).padStart(8)}  ${r.kernel.slice(0, 48)}`,
    );
}

/**
 * The memory ceilings in this call: a 1 GiB device-to-device copy, or less where one binding
 * holds less (bench/copy-ceiling.ts: the shader copy in 16-byte words is the ceiling,
 * copyBufferToBuffer shown beside it; read + write counted) and the slab Adam over `n` parameters (f16 gradient, f16 copy: 28 bytes a parameter
 * — w, m, v read and written, the gradient read, the copy written), both by wall clock over 10
 * back-to-back calls.
 */
async function measureCeilings(ctx: GpuContext, n: number) {
  // 1 GiB, or the largest copy one binding holds where that is less (lavapipe: 128 MiB).
  const limits = ctx.device.limits;
  const copyBytes = Math.min(1 << 30, limits.maxStorageBufferBindingSize, limits.maxBufferSize) & ~15;
  const copy = await measureCopyCeiling(ctx, copyBytes, 10);
  const w = await createTensor(ctx, "f32", [n], "ceil.w");
  const m = await createTensor(ctx, "f32", [n], "ceil.m");
  const v = await createTensor(ctx, "f32", [n], "ceil.v");
  const g = await createTensor(ctx, "f16", [n], "ceil.g");
  const half = await createTensor(ctx, "f16", [n], "ceil.half");
  const rec: Parameters<typeof encodeDispatches>[1] = [];
  await adam(ctx, { w, m, v, g, step: 1, lr: 1e-3, wHalf: half }, { record: rec as never });
  const adamS = await wallPerCall(ctx, (e) => encodeDispatches(e, rec), 10);
  for (const t of [w, m, v, g, half]) t.buffer.destroy();
  const copyGBs = copy.shaderCopyGBs;
  const adamGBs = (28 * n) / adamS / 1e9;
  console.log(
    `ceilings: ${(copyBytes / 2 ** 20).toFixed(0)} MiB copy ${copyGBs.toFixed(0)} GB/s (shader, read + write; copyBufferToBuffer ${copy.bufferCopyGBs.toFixed(0)}); adam over ${(n / 1e6).toFixed(1)} M params ${(adamS * 1e3).toFixed(3)} ms, ${adamGBs.toFixed(0)} GB/s = ${((100 * adamGBs) / copyGBs).toFixed(1)} % of the copy`,
  );
  return {
    copyBytes: copy.bytes,
    copySeconds: copy.shaderCopySeconds,
    copyGBs,
    bufferCopyGBs: copy.bufferCopyGBs,
    adamParams: n,
    adamSeconds: adamS,
    adamGBs,
  };
}

/** The naive step: the op functions one after another into one encoder, per-tensor optimizer. */
async function naiveStep(
  ctx: GpuContext,
  m: GpuMlp,
  split: GpuSplit,
  b: number,
  x: Tensor,
  labels: Tensor,
  h: Tensor,
  logits: Tensor,
  dl: Tensor,
  dh: Tensor,
  dz: Tensor,
  rl: Tensor,
  step: number,
) {
  const enc = ctx.device.createCommandEncoder();
  const o = { encoder: enc };
  const half = m.half;
  const W = (l: number, k: string) => (half ?? m.params).views.get(`layers.${l}.${k}`) as Tensor;
  await imageNormalize(
    ctx,
    {
      images: reshapeView(split.pixels, [b * split.pixels.shape[1]]) as Tensor,
      out: x,
      mean: MEAN,
      std: STD,
    },
    o,
  );
  await gemm(ctx, x, W(0, "weight"), h, { ...o, bias: W(0, "bias"), relu: true });
  await gemm(ctx, h, W(1, "weight"), logits, { ...o, bias: W(1, "bias") });
  await softmaxXent(ctx, { logits, labels, dLogits: dl, rowLoss: rl, lossScale: half ? 1024 : 1 }, o);
  const g = (l: number, k: string) => m.grads.views.get(`layers.${l}.${k}`) as Tensor;
  await gemm(ctx, h, dl, g(1, "weight"), { ...o, transA: true });
  await biasGrad(ctx, { dY: dl, db: g(1, "bias") }, o);
  await gemm(ctx, dl, W(1, "weight"), dh, { ...o, transB: true });
  await reluBackward(ctx, { dY: dh, y: h, dX: dz }, o);
  await gemm(ctx, x, dz, g(0, "weight"), { ...o, transA: true });
  await biasGrad(ctx, { dY: dz, db: g(0, "bias") }, o);
  const names = m.params.layout.entries.map((e) => e.name);
  if (half)
    for (const [i, n] of names.entries())
      await nonfinite(ctx, { x: m.grads.views.get(n) as Tensor, flag: m.flag, reset: i === 0 }, o);
  for (const n of names)
    await adam(
      ctx,
      {
        w: m.params.views.get(n) as Tensor,
        m: m.m.views.get(n) as Tensor,
        v: (m.v as NonNullable<typeof m.v>).views.get(n) as Tensor,
        g: m.grads.views.get(n) as Tensor,
        step: step + 1,
        lr: 1e-3,
        lossScale: half ? 1024 : 1,
        flag: half ? m.flag : undefined,
        wHalf: half?.views.get(n),
      },
      o,
    );
  ctx.device.queue.submit([enc.finish()]);
}

async function main() {
  const ctx = await openDevice();
  const split = await residentSplit(ctx);
  const rows: Record<string, unknown>[] = [];
  console.log(
    `adapter ${ctx.adapterName}; NVML ${nvml.available ? "yes" : `no (${nvml.reason})`}; ${seconds} s per row, ${drainEvery > 0 ? `queue drained every ${drainEvery} steps` : `at most ${QUEUE_STEPS} steps in flight`}`,
  );
  const ceilingRow = ceilings
    ? await measureCeilings(ctx, size * size * 3 * 1024 + 1024 * (1 + classes) + classes)
    : null;
  // Each step kind asked for (naive is composed beside the unfused model's tensors), the
  // overlapped one once per chunk count.
  const FUSE = { runtime: "auto", unfused: false, fused: true } as const;
  const builds: { kind: string; mode: string; options: GpuMlpOptions }[] = [
    ...(["runtime", "unfused", "fused"] as const)
      .filter((k) => modes.includes(k) || (k === "unfused" && modes.includes("naive")))
      .map((k) => ({
        kind: k,
        mode: k,
        options: { fuseFirstLayerUpdate: FUSE[k], firstLayerUpdateKernel: fusedKernel },
      })),
    ...(modes.includes("overlap") ? overlapRuns : []).map(({ chunks, slots }) => ({
      kind: "overlap",
      mode: `overlap${chunks}${slots ? `q${slots}` : ""}`,
      options: {
        fuseFirstLayerUpdate: false,
        overlapFirstLayerUpdate: true,
        overlapChunks: chunks,
        overlapSlots: slots,
        firstLayerUpdateKernel: fusedKernel,
      },
    })),
  ];
  const doc = {
    adapter: ctx.adapterName,
    date: new Date().toISOString(),
    imageSize: size,
    classes,
    count,
    seconds,
    ceilings: ceilingRow,
    rows,
  };
  // Written after every row, so a call cut off by its time limit keeps the rows it finished.
  const save = () => {
    if (out) writeFileSync(out, `${JSON.stringify(doc, null, 2)}\n`);
  };
  for (const c of configs)
    for (const { kind, mode, options } of builds) {
      // A step that fails (a kernel that does not compile on this device, say) becomes an error
      // row and the next one runs: one bad experiment must not cost the call its other rows.
      let model: GpuMlp | null = null;
      try {
        model = await trainRows(c, kind, mode, options);
      } catch (e) {
        const error = String((e as Error)?.message ?? e).slice(0, 500);
        rows.push({ mode, precision: c.precision, batch: c.batch, neurons: c.neurons, error });
        console.log(`${mode} ${c.precision} ${c.batch}/${c.neurons}: failed: ${error}`);
      }
      model?.destroy();
      save();
    }

  /** The rows of one configuration and step kind (and naive beside unfused); returns the model to destroy. */
  async function trainRows(c: Cfg, kind: string, mode: string, options: GpuMlpOptions): Promise<GpuMlp> {
    const shape = { inputs: size * size * 3, hidden: [c.neurons], classes };
    const model = await GpuMlp.create(
      ctx,
      shape,
      precisionPolicy(c.precision),
      optimizerConfig({ name: "adam" }),
      c.batch,
      options,
    );
    await model.initWeights(1);
    const plan = await model.trainPlan(split, c.batch, MEAN, STD);
    const base = {
      precision: c.precision,
      batch: c.batch,
      neurons: c.neurons,
      dispatches: plan.length,
      allocatedBytes: allocatedBytes(model),
    };
    const apart = model.firstLayerUpdatedApart;
    if (modes.includes(kind)) {
      const perEpoch = Math.floor(count / c.batch);
      const r = await timed(
        ctx,
        (i) => {
          if (i % perEpoch === 0) model.setCursor(TRAIN_SLOT, 0);
          const enc = ctx.device.createCommandEncoder();
          encodeDispatches(enc, plan);
          if (i % 50 === 49) enc.clearBuffer(model.trainSums.buffer);
          ctx.device.queue.submit([enc.finish()]);
        },
        c.batch,
      );
      const prof = ctx.caps.timestamps
        ? await profile(ctx, plan, (st) => {
            if (st % perEpoch === 0) model.setCursor(TRAIN_SLOT, 0);
          })
        : null;
      const first = shape.inputs * c.neurons;
      const table =
        prof && tableFor.includes(`${c.precision}:${c.batch}:${c.neurons}`)
          ? kernelTable(
              prof.rows,
              c,
              shape.inputs,
              apart ? first : 0,
              model.parameterCount - (apart ? first : 0),
            )
          : null;
      rows.push({
        mode,
        fused: model.fusedFirstLayer,
        overlapChunks: model.overlapChunks,
        ...base,
        ...r,
        profile: prof,
        kernelTable: table,
      });
      if (table) printTable(`${mode} ${c.precision} ${c.batch}/${c.neurons}`, table);
      console.log(
        `${mode} ${c.precision} ${c.batch}/${c.neurons}: ${r.samplesPerSecond.toFixed(0)} samples/s, ${r.joulesPer1000Samples.toFixed(2)} J/1000, step profile ${
          prof
            ? `${(prof.totalUs / 1000).toFixed(2)} ms ${JSON.stringify(
                Object.fromEntries(
                  Object.entries(prof.byKernel)
                    .slice(0, 5)
                    .map(([k, v]) => [k, Math.round(v)]),
                ),
              )}`
            : "n/a"
        }`,
      );
    }
    if (modes.includes("naive") && kind === "unfused") {
      const t = c.precision === "mixed" ? "f16" : "f32";
      const b = c.batch;
      const x = await createTensor(ctx, t, [b, shape.inputs], "nx");
      const labels = split.labels.size >= b ? reshapeView(split.labels, [b]) : split.labels;
      const h = await createTensor(ctx, t, [b, c.neurons], "nh");
      const logits = await createTensor(ctx, t, [b, classes], "nl");
      const dl = await createTensor(ctx, t, [b, classes], "ndl");
      const dh = await createTensor(ctx, t, [b, c.neurons], "ndh");
      const dz = await createTensor(ctx, t, [b, c.neurons], "ndz");
      const rl = await createTensor(ctx, "f32", [b], "nrl");
      const r = await timed(
        ctx,
        (i) => naiveStep(ctx, model, split, b, x, labels, h, logits, dl, dh, dz, rl, i),
        b,
      );
      rows.push({ mode: "naive", ...base, ...r });
      console.log(
        `naive   ${c.precision} ${c.batch}/${c.neurons}: ${r.samplesPerSecond.toFixed(0)} samples/s, ${r.joulesPer1000Samples.toFixed(2)} J/1000`,
      );
      for (const tt of [x, h, logits, dl, dh, dz, rl]) tt.buffer.destroy();
    }
    return model;
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
