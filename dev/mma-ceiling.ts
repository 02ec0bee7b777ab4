// The ceiling of the WGSL tensor-core path itself (issue 16): how many TFLOP/s
// subgroupMatrixMultiplyAccumulate reaches on this device when nothing else is in the way, and
// what each way of feeding it costs. Every tile of gemm_subgroup_matrix.wgsl sits at 80–120
// TFLOP/s on an H100 whatever its shape (docs/performance.md); this says whether that is the
// instruction path Dawn's SPIR-V becomes, or the staging around it.
//   node dist/dev/mma-ceiling.js [--iters 1024] [--wgs 1056] [--samples 5] [--only PREFIX,…] [--out FILE]
//   node dist/dev/mma-ceiling.js --print KIND   (the WGSL of that kind's default variant; no GPU)
// Kinds (each subgroup owns AM×AN accumulators of 16×FN, FN = 16 or 8):
//   regs   fragments loaded once, then only multiply-adds: the instruction path's ceiling
//   wg     fragments loaded from workgroup memory every 16-deep step (no barriers): staged reads
//   wgbar  as wg with a workgroupBarrier every step (or every 2 or 4): what the staged tiles'
//          two barriers per 32-deep tile cost on top, and one (kind w), and with fewer subgroups
//   wgpf   as wgbar, each step's fragments loaded one step ahead (into registers while the
//          previous step's multiply-adds run)
//   glob   fragments loaded from a small storage buffer (cache-resident) every step: the direct
//          tiles' reads without DRAM
// A and B are all ones, so each f32 accumulator element must end at 16 · iters (checked: a
// compiler that drops or shortens the loop fails it). FLOPs: 2·16·FN·16 per multiply-add.
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { openDevice, withErrorScopes } from "../src/gpu/device.js";
import { GpuTimer } from "../src/gpu/timer.js";

const { values } = parseArgs({
  options: {
    iters: { type: "string", default: "1024" },
    wgs: { type: "string", default: "1056" },
    samples: { type: "string", default: "5" },
    only: { type: "string" },
    print: { type: "string" },
    out: { type: "string" },
  },
});
const iters = Number(values.iters);
const samples = Number(values.samples);

type Kind = "regs" | "wg" | "wgbar" | "wgpf" | "glob";
interface Variant {
  kind: Kind;
  am: number;
  an: number;
  numSg: number;
  fn: 16 | 8;
  acc: "f32" | "f16";
  pad: number;
  wgs: number;
  /** wgbar: a barrier every this many steps. */
  barEvery: number;
}

function name(v: Variant): string {
  return `${v.kind} sg${v.numSg} a${v.am}x${v.an}${v.fn === 8 ? " 16x8" : ""} ${v.acc}${v.kind.startsWith("wg") ? ` pad${v.pad}` : ""}${v.kind === "wgbar" || v.kind === "wgpf" ? ` every${v.barEvery}` : ""} wgs${v.wgs}`;
}

/** The WGSL of one variant. Workgroup arrays: A as [NUM_SG·AM·16 rows][32 + PAD], B as [32][NUM_SG·AN·FN + PAD]. */
function source(v: Variant, sgSize: number): string {
  const L = "subgroup_matrix_left<f16, 16, 16>";
  const R = `subgroup_matrix_right<f16, ${v.fn}, 16>`;
  const C = `subgroup_matrix_result<${v.acc}, ${v.fn}, 16>`;
  const I = [...Array(v.am).keys()];
  const J = [...Array(v.an).keys()];
  const pairs = J.flatMap((j) => I.map((i) => [i, j]));
  const lda = 32 + v.pad;
  const ldb = v.numSg * v.an * v.fn + v.pad;
  const rowsA = v.numSg * v.am * 16;
  /** Fragments of the 16-deep step at `k` from workgroup memory, declared `decl`, named with `prefix`. */
  const wgLoads = (k: string, decl = "let ", prefix = "") => [
    ...I.map(
      (i) =>
        `${decl}${prefix}l${i} = subgroupMatrixLoad<${L}, row_major>(&wa, (sg * ${v.am * 16}u + ${i * 16}u) * LDA + ${k}, LDA);`,
    ),
    ...J.map(
      (j) =>
        `${decl}${prefix}r${j} = subgroupMatrixLoad<${R}, row_major>(&wb, ${k} * LDB + sg * ${v.an * v.fn}u + ${j * v.fn}u, LDB);`,
    ),
  ];
  // glob: A rows of 32 halves (k alternates between the two 16-wide halves), B rows of 64·FN.
  const loadsGlob = [
    ...I.map(
      (i) =>
        `let l${i} = subgroupMatrixLoad<${L}, row_major>(&a, ((sg * ${v.am}u + ${i}u) % 64u) * 512u + kk, 32u);`,
    ),
    ...J.map(
      (j) =>
        `let r${j} = subgroupMatrixLoad<${R}, row_major>(&a, 32768u + kk * ${64 * v.fn}u + ((sg * ${v.an}u + ${j}u) % 64u) * ${v.fn}u, ${64 * v.fn}u);`,
    ),
  ];
  const mma = pairs.map(
    ([i, j]) => `c${i}_${j} = subgroupMatrixMultiplyAccumulate(l${i}, r${j}, c${i}_${j});`,
  );
  let body: string[];
  if (v.kind === "regs") {
    body = [
      ...I.map((i) => `let l${i} = subgroupMatrixLoad<${L}, row_major>(&a, ${i * 256}u, 16u);`),
      ...J.map((j) => `let r${j} = subgroupMatrixLoad<${R}, row_major>(&a, ${j * 256}u, ${v.fn}u);`),
      "for (var it = 0u; it < params.iters; it++) {",
      ...mma.map((x) => `  ${x}`),
      "}",
    ];
  } else if (v.kind === "wgpf") {
    body = [
      ...wgLoads("0u", "var "),
      "for (var it = 0u; it < params.iters; it++) {",
      "  let kn = ((it + 1u) & 1u) * 16u;",
      ...wgLoads("kn", "let ", "n").map((x) => `  ${x}`),
      ...mma.map((x) => `  ${x}`),
      ...I.map((i) => `  l${i} = nl${i};`),
      ...J.map((j) => `  r${j} = nr${j};`),
      `  if (it % ${v.barEvery}u == ${v.barEvery - 1}u) { workgroupBarrier(); }`,
      "}",
    ];
  } else {
    body = [
      "for (var it = 0u; it < params.iters; it++) {",
      "  let kk = (it & 1u) * 16u;",
      ...(v.kind === "glob" ? loadsGlob : wgLoads("kk")).map((x) => `  ${x}`),
      ...mma.map((x) => `  ${x}`),
      ...(v.kind === "wgbar"
        ? [`  if (it % ${v.barEvery}u == ${v.barEvery - 1}u) { workgroupBarrier(); }`]
        : []),
      "}",
    ];
  }
  const per = v.am * v.an * 16 * v.fn;
  const at = (i: number, j: number) => `base + ${(i * v.an + j) * 16 * v.fn}u`;
  return `enable f16;
enable subgroups;
enable chromium_experimental_subgroup_matrix;
const WG: u32 = ${v.numSg * sgSize}u;
const LDA: u32 = ${lda}u;
const LDB: u32 = ${ldb}u;
@group(0) @binding(0) var<storage, read> a: array<f16>;
@group(0) @binding(1) var<storage, read_write> out: array<${v.acc}>;
struct Params { iters: u32, }
@group(0) @binding(2) var<uniform> params: Params;
var<workgroup> wa: array<f16, ${rowsA * lda}>;
var<workgroup> wb: array<f16, ${32 * ldb}>;

@compute @workgroup_size(${v.numSg * sgSize}, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32,
        @builtin(subgroup_id) sg: u32) {
  for (var i = tid; i < ${rowsA * lda}u; i += WG) { wa[i] = a[i % 4096u]; }
  for (var i = tid; i < ${32 * ldb}u; i += WG) { wb[i] = a[i % 4096u]; }
  workgroupBarrier();
  ${pairs.map(([i, j]) => `var c${i}_${j}: ${C};`).join("\n  ")}
  ${body.join("\n  ")}
  let base = ((wid.y * 65535u + wid.x) * ${v.numSg}u + sg) * ${per}u;
  ${pairs.map(([i, j]) => `subgroupMatrixStore<row_major>(&out, ${at(i, j)}, c${i}_${j}, ${v.fn}u);`).join("\n  ")}
}
`;
}

if (values.print) {
  const kind = values.print as Kind;
  const v: Variant = { kind, am: 4, an: 4, numSg: 4, fn: 16, acc: "f32", pad: 8, wgs: 1, barEvery: 2 };
  console.log(source(v, 32));
  process.exit(0);
}
const ctx = await openDevice();
if (!ctx.caps.subgroupMatrix) throw new Error(`mma-ceiling: ${ctx.adapterName} has no subgroup matrices`);
const configs = (ctx.adapter.info as unknown as { subgroupMatrixConfigs?: Record<string, unknown>[] })
  .subgroupMatrixConfigs;
console.log(
  `${ctx.adapterName}; subgroup size ${ctx.caps.subgroupMaxSize}; configs ${JSON.stringify(configs)}`,
);
const has = (fn: number, acc: string) =>
  (configs ?? []).some((c) => c.M === 16 && c.N === fn && c.K === 16 && c.resultComponentType === acc);
const sgSize = ctx.caps.subgroupMaxSize;
const wgsList = values.wgs.split(",").map(Number);

const variants: Variant[] = [];
const add = (p: Partial<Variant>) => {
  for (const wgs of wgsList)
    variants.push({
      kind: "regs",
      am: 4,
      an: 4,
      numSg: 4,
      fn: 16,
      acc: "f32",
      pad: 8,
      wgs,
      barEvery: 1,
      ...p,
    });
};
add({});
add({ am: 2, an: 2 });
add({ am: 2, an: 4 });
add({ numSg: 1 });
add({ numSg: 8 });
if (has(16, "f16")) add({ acc: "f16" });
if (has(8, "f32")) add({ fn: 8 });
add({ kind: "wg" });
add({ kind: "wg", pad: 0 });
add({ kind: "wg", am: 2, an: 2 });
add({ kind: "wgbar" });
add({ kind: "wgbar", barEvery: 2 });
add({ kind: "wgbar", barEvery: 4 });
add({ kind: "wgbar", numSg: 2 });
add({ kind: "wgbar", numSg: 1 });
add({ kind: "wgbar", numSg: 2, barEvery: 2 });
add({ kind: "wg", numSg: 1 });
add({ kind: "wgpf" });
add({ kind: "wgpf", barEvery: 2 });
add({ kind: "glob" });
add({ kind: "glob", am: 2, an: 2 });
const only = values.only?.split(",");

const d = ctx.device;
const ones = new Uint16Array(65536).fill(0x3c00); // f16 1.0
const a = d.createBuffer({ size: ones.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
d.queue.writeBuffer(a, 0, ones);
const uni = d.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
d.queue.writeBuffer(uni, 0, new Uint32Array([iters, 0, 0, 0]));
const timer = new GpuTimer(ctx);
const rows: Record<string, unknown>[] = [];
for (const v of variants) {
  const label = name(v);
  if (only && !only.some((o) => label.startsWith(o))) continue;
  const row: Record<string, unknown> = { variant: label, ...v, iters };
  rows.push(row);
  let out: GPUBuffer | null = null;
  try {
    const module = d.createShaderModule({ code: source(v, sgSize), label });
    const info = await module.getCompilationInfo();
    const errs = info.messages.filter((m) => m.type === "error");
    if (errs.length) throw new Error(errs.map((m) => `line ${m.lineNum}: ${m.message}`).join("; "));
    const pipeline = await withErrorScopes(ctx, label, () =>
      d.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" } }),
    );
    const elems = v.wgs * v.numSg * v.am * v.an * 16 * v.fn;
    const bytes = elems * (v.acc === "f32" ? 4 : 2);
    out = d.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    const bind = d.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: a } },
        { binding: 1, resource: { buffer: out } },
        { binding: 2, resource: { buffer: uni } },
      ],
    });
    const grid: [number, number] = [Math.min(v.wgs, 65535), Math.ceil(v.wgs / 65535)];
    const times: number[] = [];
    for (let s = 0; s < samples + 1; s++) {
      const t = await timer.time((enc) => {
        const pass = enc.beginComputePass({ timestampWrites: timer.writesFor(0, 1) });
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, bind);
        pass.dispatchWorkgroups(...grid);
        pass.end();
      });
      if (s > 0) times.push(t.seconds); // the first is a warm-up
    }
    times.sort((x, y) => x - y);
    const sec = times[times.length >> 1];
    const flops = v.wgs * v.numSg * iters * v.am * v.an * 2 * 16 * v.fn * 16;
    row.us = sec * 1e6;
    row.tflops = flops / sec / 1e12;
    // Check the last sample's first and last accumulator elements (f32 only: f16 sums of ones saturate).
    if (v.acc === "f32") {
      const rb = d.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      const enc = d.createCommandEncoder();
      enc.copyBufferToBuffer(out, 0, rb, 0, bytes);
      d.queue.submit([enc.finish()]);
      await rb.mapAsync(GPUMapMode.READ);
      const f = new Float32Array(rb.getMappedRange());
      const want = 16 * iters;
      const bad = [0, f.length - 1].filter((i) => f[i] !== want);
      row.check = bad.length ? `WRONG: ${bad.map((i) => f[i]).join(", ")} where ${want}` : "ok";
      rb.unmap();
      rb.destroy();
    }
    console.log(
      `${label.padEnd(40)} ${(row.us as number).toFixed(0).padStart(8)} µs ${(row.tflops as number).toFixed(1).padStart(7)} TFLOP/s ${row.check ?? ""}`,
    );
  } catch (e) {
    row.error = (e as Error).message.slice(0, 400);
    console.log(`${label.padEnd(40)} error: ${row.error}`);
  } finally {
    out?.destroy();
  }
}
if (values.out) writeFileSync(values.out, JSON.stringify({ adapter: ctx.adapterName, iters, rows }, null, 2));
