// Trainer throughput: samples/s, GPU energy per 1,000 samples (NVML counter) and allocated GPU
// memory for the dense classifier at the dissertation's shapes, three ways in one run:
//   runtime: the step runtime (recorded dispatches, one submit per step, slabs);
//   naive:   the same step composed from the op functions as they stand alone — one encoder and
//            one submit per step, but every op re-looked-up, a bind group and pass per dispatch,
//            Adam and the non-finite check per tensor (the baseline the runtime must beat);
// and a per-kernel profile of one runtime step (timestamp queries, one pass per dispatch).
// The PyTorch peer (bench/peers/torch_mlp.py) runs beside it in bench/gpu-run.sh.
//   node dist/bench/train.bench.js --configs f32:32:1024,mixed:256:1024 --seconds 10 --out FILE
import { writeFileSync } from "node:fs";
import { type GpuContext, openDevice } from "../src/gpu/device.js";
import { adam } from "../src/kernels/adam.js";
import { biasGrad } from "../src/kernels/bias-grad.js";
import { gemm } from "../src/kernels/gemm.js";
import { imageNormalize } from "../src/kernels/image-normalize.js";
import { nonfinite } from "../src/kernels/nonfinite.js";
import { reluBackward } from "../src/kernels/relu-backward.js";
import { softmaxXent } from "../src/kernels/softmax-xent.js";
import { createTensor, reshapeView, type Tensor, upload } from "../src/kernels/tensor.js";
import { GpuMlp, type GpuSplit, TRAIN_SLOT } from "../src/model/mlp.js";
import { optimizerConfig } from "../src/model/optimizer.js";
import { precisionPolicy } from "../src/model/policy.js";
import { encodeDispatches, encodeProfiled } from "../src/runtime/replay.js";
import { openNvml } from "../src/telemetry/nvml.js";

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

/** Runs `step` until `seconds` pass (after warm-up), draining the queue every `drainEvery` steps. */
async function timed(ctx: GpuContext, step: (i: number) => Promise<void> | void, batch: number) {
  for (let i = 0; i < 10; i++) await step(i);
  await ctx.device.queue.onSubmittedWorkDone();
  const e0 = energyJ();
  const t0 = performance.now();
  let steps = 0;
  while (performance.now() - t0 < seconds * 1000) {
    for (let k = 0; k < 20; k++) await step(steps++);
    await ctx.device.queue.onSubmittedWorkDone();
  }
  const s = (performance.now() - t0) / 1000;
  const joules = energyJ() - e0;
  return {
    steps,
    seconds: s,
    samplesPerSecond: (steps * batch) / s,
    joulesPer1000Samples: (joules / (steps * batch)) * 1000,
    avgWatts: joules / s,
  };
}

function allocatedBytes(m: GpuMlp): number {
  const slabs = [m.params, m.grads, m.m, m.v, m.half].reduce((a, s) => a + (s ? s.all.buffer.size : 0), 0);
  return slabs;
}

async function profile(ctx: GpuContext, list: Parameters<typeof encodeProfiled>[1]) {
  const n = list.length;
  const qs = ctx.device.createQuerySet({ type: "timestamp", count: 2 * n });
  const resolve = ctx.device.createBuffer({
    size: 16 * n,
    usage: 0x200 | 0x04 /* QUERY_RESOLVE | COPY_SRC */,
  });
  const read = ctx.device.createBuffer({ size: 16 * n, usage: 0x01 | 0x08 });
  const enc = ctx.device.createCommandEncoder();
  encodeProfiled(enc, list, qs);
  enc.resolveQuerySet(qs, 0, 2 * n, resolve, 0);
  enc.copyBufferToBuffer(resolve, 0, read, 0, 16 * n);
  ctx.device.queue.submit([enc.finish()]);
  await read.mapAsync(1);
  const t = new BigUint64Array(read.getMappedRange().slice(0));
  read.unmap();
  const rows = list.map((d, i) => ({ kernel: d.label, us: Number(t[2 * i + 1] - t[2 * i]) / 1000 }));
  const byKernel = new Map<string, number>();
  for (const r of rows) byKernel.set(r.kernel, (byKernel.get(r.kernel) ?? 0) + r.us);
  return {
    totalUs: rows.reduce((a, r) => a + r.us, 0),
    byKernel: Object.fromEntries([...byKernel].sort((a, b) => b[1] - a[1])),
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
    `adapter ${ctx.adapterName}; NVML ${nvml.available ? "yes" : `no (${nvml.reason})`}; ${seconds} s per row`,
  );
  for (const c of configs) {
    const shape = { inputs: size * size * 3, hidden: [c.neurons], classes };
    const model = await GpuMlp.create(
      ctx,
      shape,
      precisionPolicy(c.precision),
      optimizerConfig({ name: "adam" }),
      c.batch,
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
    if (modes.includes("runtime")) {
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
      const prof = ctx.caps.timestamps ? await profile(ctx, plan) : null;
      rows.push({ mode: "runtime", ...base, ...r, profile: prof });
      console.log(
        `runtime ${c.precision} ${c.batch}/${c.neurons}: ${r.samplesPerSecond.toFixed(0)} samples/s, ${r.joulesPer1000Samples.toFixed(2)} J/1000, step profile ${
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
    if (modes.includes("naive")) {
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
    model.destroy();
  }
  const doc = {
    adapter: ctx.adapterName,
    date: new Date().toISOString(),
    imageSize: size,
    classes,
    count,
    seconds,
    rows,
  };
  if (out) writeFileSync(out, `${JSON.stringify(doc, null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
