// One DeviceResources per device: the caches of different kernels (pipelines, uniforms, GEMM
// scratch, tune choices, spare buffers, constant states) sit in one object for a device, and a
// second device gets its own.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GpuContext, openDevice } from "../../src/gpu/device.js";
import { resourcesOf } from "../../src/gpu/resources.js";
import { cast } from "../../src/kernels/cast.js";
import { gemm } from "../../src/kernels/gemm.js";
import type { Program } from "../../src/kernels/program.js";
import { softmaxXent } from "../../src/kernels/softmax-xent.js";
import { createTensor, destroyTensor, downloadF32, fill, upload } from "../../src/kernels/tensor.js";

/** The ops of the programs compiled on a device so far. */
function compiledOps(ctx: GpuContext): string[] {
  const pipelines = resourcesOf(ctx.device).find("pipelines") as Map<string, Program> | undefined;
  return [...(pipelines?.values() ?? [])].map((p) => p.spec.op).sort();
}

/** Runs cast (f32 → f16 → f32 of 5 values) and checks the values came back. */
async function runCast(ctx: GpuContext): Promise<void> {
  const values = [1, -2.5, 0.125, 3, 1024];
  const a = await createTensor(ctx, "f32", [5], "a");
  const h = await createTensor(ctx, "f16", [5], "h");
  const b = await createTensor(ctx, "f32", [5], "b");
  upload(ctx, a, values);
  fill(ctx, b, Number.NaN);
  await cast(ctx, { src: a, dst: h });
  await cast(ctx, { src: h, dst: b });
  expect([...(await downloadF32(ctx, b))]).toEqual(values);
  destroyTensor(a, h, b);
}

describe("DeviceResources", () => {
  let first: GpuContext;
  let second: GpuContext;
  const savedCache = process.env.HALFWATT_TUNE_CACHE;
  beforeAll(async () => {
    process.env.HALFWATT_TUNE_CACHE = "off";
    first = await openDevice();
    second = await openDevice();
  });
  afterAll(() => {
    first?.destroy();
    second?.destroy();
    if (savedCache === undefined) delete process.env.HALFWATT_TUNE_CACHE;
    else process.env.HALFWATT_TUNE_CACHE = savedCache;
  });

  it("two kernels on one device fill one DeviceResources", async () => {
    const resources = resourcesOf(first.device);
    expect(resources.names()).toEqual([]);
    // 3×40 · 40×7 with K split in two: compiles the tiled kernel and the split-K reduction and uses
    // the workspace (gemm scratch); C poisoned first.
    const a = await createTensor(first, "f32", [3, 40], "A");
    const b = await createTensor(first, "f32", [40, 7], "B");
    const c = await createTensor(first, "f32", [3, 7], "C");
    upload(
      first,
      a,
      Array.from({ length: 120 }, (_, i) => (i % 9) - 4),
    );
    upload(
      first,
      b,
      Array.from({ length: 280 }, (_, i) => (i % 5) - 2),
    );
    fill(first, c, Number.NaN);
    await gemm(first, a, b, c);
    await gemm(first, a, b, c, { variant: "tiled", splitK: 2 });
    const got = await downloadF32(first, c);
    // Independent reference: the product by loops.
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 7; j++) {
        let s = 0;
        for (let k = 0; k < 40; k++) s += (((i * 40 + k) % 9) - 4) * (((k * 7 + j) % 5) - 2);
        expect(got[i * 7 + j]).toBe(s);
      }
    destroyTensor(a, b, c);
    await runCast(first);
    // The loss alone: dLogits and rowLoss bound to spare buffers, the loss scale from a constant
    // state. Reference: −log softmax(logits)[label], averaged, in float64.
    const logits = await createTensor(first, "f32", [2, 3], "logits");
    const labels = await createTensor(first, "u32", [2], "labels");
    const loss = await createTensor(first, "f32", [1], "loss");
    upload(first, logits, [1, 2, 3, 0, 0, 0]);
    upload(first, labels, [2, 1]);
    fill(first, loss, Number.NaN);
    await softmaxXent(first, { logits, labels, loss });
    const want = (-Math.log(Math.exp(3) / (Math.exp(1) + Math.exp(2) + Math.exp(3))) + Math.log(3)) / 2;
    expect((await downloadF32(first, loss))[0]).toBeCloseTo(want, 5);
    destroyTensor(logits, labels, loss);

    expect(resourcesOf(first.device)).toBe(resources);
    expect(resources.names()).toEqual([
      "constant states",
      "gemm scratch",
      "pipelines",
      "spare buffers",
      "tune choices",
      "uniforms",
    ]);
    const ops = compiledOps(first);
    expect(ops).toContain("cast");
    expect(ops.some((op) => op.startsWith("gemm"))).toBe(true);
    expect(ops).toContain("gemm_splitk_reduce_f32");
    expect(ops).toContain("softmax_xent");
  });

  it("a second device gets its own, holding only what ran on it", async () => {
    const mine = resourcesOf(second.device);
    expect(mine).not.toBe(resourcesOf(first.device));
    expect(mine.names()).toEqual([]);
    const before = compiledOps(first);
    await runCast(second);
    expect(compiledOps(second)).toEqual(["cast", "cast"]); // f32 → f16 and f16 → f32
    expect(mine.names()).toEqual(["pipelines", "uniforms"]);
    expect(compiledOps(first)).toEqual(before);
  });
});
