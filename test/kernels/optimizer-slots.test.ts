import { describe, expect, it } from "vitest";
import { adam } from "../../src/kernels/adam.js";
import { sgd } from "../../src/kernels/sgd.js";
import {
  createTensor,
  type Dtype,
  destroyTensor,
  downloadF32,
  encode,
  type Tensor,
  tensorView,
} from "../../src/kernels/tensor.js";
import { expectClose, useGpu } from "../helpers/gpu.js";
import { normal, uniform } from "../helpers/rng.js";
import {
  type AdamHyper,
  adamRef,
  expectBits,
  f16Bits,
  quantize,
  type SgdHyper,
  sgdRef,
  unzip,
} from "./reference.js";

// The slab optimizers' 16-byte slots (shaders/lib/optimizer_step.wgsl: vec4 accesses, 8
// elements a thread) at counts that are not multiples of 4 or 8, over several steps. Every
// operand is a view 256 bytes into a larger buffer whose other words hold a sentinel pattern, so
// a write before the view or past its last element (into the padding lanes of the last slot,
// which the kernel reads whole) shows as a changed sentinel. Expectations: each step of the
// float64 references (reference.ts adamRef / sgdRef, PyTorch's documented rules) from the
// kernel's own previous state, read back; the f16 copy (its buffer NaN-filled first) bit-exactly
// as nearest-even rounding of the kernel's new f32 weights, its padding half (odd n) +0.
const env = useGpu("optimizer-slots");

const LEAD = 256; // bytes before each view: one storage-offset alignment
const TRAIL = 64; // bytes of sentinel after each view's last element

/** A view of n dtype elements LEAD bytes into a buffer of sentinel words (or NaN for the copy). */
async function framed(dtype: Dtype, n: number, label: string, fillWord: number): Promise<Tensor> {
  const { ctx } = env;
  const bytes = LEAD + Math.ceil((n * (dtype === "f16" ? 2 : 4)) / 4) * 4 + TRAIL;
  const owner = await createTensor(ctx, "u32", [bytes / 4], `${label} frame`);
  ctx.device.queue.writeBuffer(owner.buffer, 0, new Uint32Array(owner.buffer.size / 4).fill(fillWord));
  return tensorView(owner.buffer, LEAD, dtype, [n], label);
}

function put(t: Tensor, values: ArrayLike<number>): void {
  const view = encode(t.dtype, values);
  const bytes = new Uint8Array(Math.ceil(view.byteLength / 4) * 4);
  bytes.set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  // Whole words (an odd f16 tensor's padding half written 0, as upload does).
  env.ctx.device.queue.writeBuffer(t.buffer, t.byteOffset ?? 0, bytes, 0, bytes.length);
}

async function frameWords(t: Tensor): Promise<Uint32Array> {
  const { ctx } = env;
  const staging = ctx.device.createBuffer({
    size: t.buffer.size,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const enc = ctx.device.createCommandEncoder();
  enc.copyBufferToBuffer(t.buffer, 0, staging, 0, t.buffer.size);
  ctx.device.queue.submit([enc.finish()]);
  await staging.mapAsync(0x0001);
  const words = new Uint32Array(staging.getMappedRange().slice(0));
  staging.unmap();
  staging.destroy();
  return words;
}

/** Every word of t's buffer outside t's own elements still holds `word`. */
async function expectFrameIntact(t: Tensor, word: number, what: string): Promise<void> {
  const words = await frameWords(t);
  const first = (t.byteOffset ?? 0) / 4;
  const elems = t.dtype === "f16" ? t.size / 2 : t.size;
  const last = first + Math.ceil(elems); // first word past the data (an odd f16's last word is shared)
  const bad: string[] = [];
  for (let i = 0; i < words.length; i++) {
    if (i >= first && i < last) continue;
    if (words[i] !== word) bad.push(`word ${i}: 0x${words[i].toString(16)}`);
  }
  expect(bad, `${what}: words outside the tensor changed`).toEqual([]);
}

const SENTINEL = 0x7fa5a5a5; // a NaN pattern: a kernel that read it into a stored lane would show
const NAN_WORDS = 0x7e007e00; // two f16 quiet NaNs

async function halfBits(t: Tensor): Promise<number[]> {
  const words = await frameWords(t);
  const halves = new Uint16Array(words.buffer, t.byteOffset ?? 0, t.size + (t.size % 2));
  return Array.from(halves);
}

const COUNTS = [7, 1023, 4097, 100_003];

describe("adam over 16-byte slots", () => {
  const hyper = (step: number): AdamHyper => ({
    step,
    lr: 3e-3,
    beta1: 0.85,
    beta2: 0.995,
    eps: 1e-7,
    weightDecay: 0.02,
    decoupled: true,
    lossScale: 64,
  });
  for (const dtype of ["f32", "f16"] as const)
    for (const n of COUNTS)
      it(`${dtype} grad, n=${n}: 3 steps, the tail exact, nothing outside written`, async () => {
        const { ctx, rng, seed } = env;
        const [w, m, v] = await Promise.all(["w", "m", "v"].map((k) => framed("f32", n, k, SENTINEL)));
        const g = await framed(dtype, n, "g", SENTINEL);
        const wHalf = await framed("f16", n, "wHalf", NAN_WORDS);
        let w0 = quantize(normal(rng, n), "f32");
        let m0 = quantize(normal(rng, n, 0, 0.01), "f32");
        let v0 = quantize(uniform(rng, n, 1e-6, 1e-3), "f32");
        put(w, w0);
        put(m, m0);
        put(v, v0);
        for (let step = 1; step <= 3; step++) {
          const h = hyper(step);
          const g0 = quantize(normal(rng, n, 0, 0.01 * (h.lossScale ?? 1)), dtype);
          put(g, g0);
          await adam(ctx, { w, m, v, g, wHalf, ...h });
          const ref = adamRef(w0, m0, v0, g0, h);
          const what = `adam ${dtype} n=${n} step ${step}`;
          const got = {
            w: await downloadF32(ctx, w),
            m: await downloadF32(ctx, m),
            v: await downloadF32(ctx, v),
          };
          for (const key of ["w", "m", "v"] as const) {
            const r = unzip(ref[key]);
            expectClose(got[key], r.want, r.bound, `${what} ${key}`, seed);
          }
          const wantHalves = Array.from(got.w, f16Bits);
          if (n % 2) wantHalves.push(0);
          expectBits(await halfBits(wHalf), wantHalves, `${what} f16 copy`, seed);
          [w0, m0, v0] = [got.w, got.m, got.v].map((a) => Float64Array.from(a));
        }
        for (const t of [w, m, v, g]) await expectFrameIntact(t, SENTINEL, `adam n=${n} ${t.label}`);
        await expectFrameIntact(wHalf, NAN_WORDS, `adam n=${n} wHalf`);
        for (const t of [w, m, v, g, wHalf]) t.buffer.destroy();
      });

  it("skips the step at an odd count when the flag is set: every word of every buffer kept", async () => {
    const { ctx, rng } = env;
    const n = 1023;
    const [w, m, v] = await Promise.all(["w", "m", "v"].map((k) => framed("f32", n, k, SENTINEL)));
    const g = await framed("f32", n, "g", SENTINEL);
    const wHalf = await framed("f16", n, "wHalf", NAN_WORDS);
    for (const t of [w, m, v, g]) put(t, normal(rng, n));
    const flag = await createTensor(ctx, "u32", [1], "flag");
    ctx.device.queue.writeBuffer(flag.buffer, 0, Uint32Array.of(1));
    const before = await Promise.all([w, m, v, wHalf].map(frameWords));
    await adam(ctx, { w, m, v, g, wHalf, flag, ...hyper(2) });
    const after = await Promise.all([w, m, v, wHalf].map(frameWords));
    for (const [i, k] of ["w", "m", "v", "wHalf"].entries())
      expectBits(after[i], before[i], `skipped adam step: ${k}`, env.seed);
    for (const t of [w, m, v, g, wHalf]) t.buffer.destroy();
    destroyTensor(flag);
  });

  it("rejects a view whose binding stops short of its last 16-byte slot", async () => {
    const { ctx } = env;
    const n = 257; // 1028 bytes: the last slot would need 1040
    const raw = ctx.device.createBuffer({
      size: 1028,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    const w = tensorView(raw, 0, "f32", [n], "w-short");
    const [m, v, g] = await Promise.all(["m", "v", "g"].map((k) => createTensor(ctx, "f32", [n], k)));
    await expect(adam(ctx, { w, m, v, g, step: 1, lr: 1e-3 })).rejects.toThrow(
      /adam: w w-short f32\[257\] is bound as 1028 bytes.*needs 1040/,
    );
    raw.destroy();
    destroyTensor(m, v, g);
  });
});

describe("sgd over 16-byte slots", () => {
  const h: SgdHyper = { lr: 0.05, momentum: 0.9, weightDecay: 1e-3, lossScale: 8, nesterov: true };
  for (const dtype of ["f32", "f16"] as const)
    for (const n of COUNTS)
      it(`${dtype} grad, n=${n}: 3 steps, the tail exact, nothing outside written`, async () => {
        const { ctx, rng, seed } = env;
        const w = await framed("f32", n, "w", SENTINEL);
        const vel = await framed("f32", n, "vel", SENTINEL);
        const g = await framed(dtype, n, "g", SENTINEL);
        const wHalf = await framed("f16", n, "wHalf", NAN_WORDS);
        let w0 = quantize(normal(rng, n), "f32");
        let v0 = quantize(normal(rng, n, 0, 0.1), "f32");
        put(w, w0);
        put(vel, v0);
        for (let step = 1; step <= 3; step++) {
          const g0 = quantize(normal(rng, n, 0, 0.01 * h.lossScale), dtype);
          put(g, g0);
          await sgd(ctx, { w, v: vel, g, wHalf, ...h });
          const ref = sgdRef(w0, v0, g0, h);
          const what = `sgd ${dtype} n=${n} step ${step}`;
          const gw = await downloadF32(ctx, w);
          const gv = await downloadF32(ctx, vel);
          const rw = unzip(ref.w);
          const rv = unzip(ref.v);
          expectClose(gw, rw.want, rw.bound, `${what} w`, seed);
          expectClose(gv, rv.want, rv.bound, `${what} v`, seed);
          const wantHalves = Array.from(gw, f16Bits);
          if (n % 2) wantHalves.push(0);
          expectBits(await halfBits(wHalf), wantHalves, `${what} f16 copy`, seed);
          w0 = Float64Array.from(gw);
          v0 = Float64Array.from(gv);
        }
        for (const t of [w, vel, g]) await expectFrameIntact(t, SENTINEL, `sgd n=${n} ${t.label}`);
        await expectFrameIntact(wHalf, NAN_WORDS, `sgd n=${n} wHalf`);
        for (const t of [w, vel, g, wHalf]) t.buffer.destroy();
      });

  it("skips the step at an odd count when the flag is set: every word of every buffer kept", async () => {
    const { ctx, rng } = env;
    const n = 4097;
    const w = await framed("f32", n, "w", SENTINEL);
    const vel = await framed("f32", n, "vel", SENTINEL);
    const g = await framed("f16", n, "g", SENTINEL);
    const wHalf = await framed("f16", n, "wHalf", NAN_WORDS);
    for (const t of [w, vel, g]) put(t, normal(rng, n));
    const flag = await createTensor(ctx, "u32", [1], "flag");
    ctx.device.queue.writeBuffer(flag.buffer, 0, Uint32Array.of(1));
    const before = await Promise.all([w, vel, wHalf].map(frameWords));
    await sgd(ctx, { w, v: vel, g, wHalf, flag, ...h });
    const after = await Promise.all([w, vel, wHalf].map(frameWords));
    for (const [i, k] of ["w", "vel", "wHalf"].entries())
      expectBits(after[i], before[i], `skipped sgd step: ${k}`, env.seed);
    for (const t of [w, vel, g, wHalf]) t.buffer.destroy();
    destroyTensor(flag);
  });
});
