// The GPU runtime: adapter listing and choice, the device's features and limits, typed errors,
// and the timer (timestamp queries where present, else queue completion).
import { describe, expect, it } from "vitest";
import { collectDevices } from "../../src/cli/commands/devices.js";
import { describeAdapter, listAdapterNames, listAdapters, openAdapter } from "../../src/gpu/adapter.js";
import { LIMITS_TO_RAISE, openDevice, withErrorScopes } from "../../src/gpu/device.js";
import { AdapterNotFoundError, GpuOperationError, NoAdapterError } from "../../src/gpu/errors.js";
import { GpuTimer } from "../../src/gpu/timer.js";
import { gemm } from "../../src/kernels/gemm.js";
import { fillUniform } from "../../src/kernels/random.js";
import { createTensor, destroyTensor } from "../../src/kernels/tensor.js";

describe("adapters", () => {
  it("lists at least one adapter and opens each by a substring of its name", async () => {
    const names = await listAdapterNames();
    expect(names.length).toBeGreaterThan(0);
    for (const n of names) {
      const { adapter, name } = await openAdapter(n.name.slice(0, 8));
      expect(name.length).toBeGreaterThan(0);
      const d = describeAdapter(adapter);
      expect(d.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
      expect(Array.isArray(d.subgroupMatrixConfigs)).toBe(true);
    }
  });

  it("--adapter matches the name `devices` prints (any case) or its index", async () => {
    const entries = await listAdapters();
    expect(entries.length).toBeGreaterThan(0);
    for (const e of entries) {
      // The printed label (e.g. "llvmpipe: Mesa 25…"), not Dawn's internal device string.
      const tail = e.label.slice(Math.max(0, e.label.length - 12)).toUpperCase();
      expect((await openAdapter(tail)).name).toBe(e.label);
      expect((await openAdapter(String(e.index))).name).toBe(e.label);
    }
    const r = await collectDevices(String(entries.at(-1)?.index));
    expect(r.adapters.map((a) => a.name)).toEqual([entries.at(-1)?.label]);
  });

  it("names the available adapters when asked for one that does not exist", async () => {
    await expect(openAdapter("no-such-gpu-xyz")).rejects.toThrow(AdapterNotFoundError);
    await expect(openAdapter("no-such-gpu-xyz")).rejects.toThrow(
      /No adapter matches "no-such-gpu-xyz".*Available: \[0\] "/,
    );
    await expect(openAdapter("99")).rejects.toMatchObject({ code: "E_INPUT" });
  });

  it("explains how to install a Vulkan driver when there is no adapter", () => {
    expect(new NoAdapterError("test").message).toMatch(
      /mesa-vulkan-drivers.*bookworm-backports|bookworm-backports[\s\S]*mesa-vulkan-drivers/,
    );
  });

  it("`devices` reports features, limits and subgroup sizes of every adapter", async () => {
    const r = await collectDevices();
    expect(r.errors).toEqual([]);
    expect(r.adapters.length).toBeGreaterThan(0);
    const a = r.adapters[0];
    expect(a.features).toContain("timestamp-query");
    expect(a.subgroupMinSize).toBeGreaterThan(0);
    expect(Object.keys(a.limits)).toContain("maxComputeWorkgroupStorageSize");
  });
});

describe("device", () => {
  it("requests shader-f16, subgroups and timestamps where offered, and raises limits to the adapter's", async () => {
    const ctx = await openDevice();
    try {
      for (const f of ["shader-f16", "subgroups", "timestamp-query"])
        expect(ctx.device.features.has(f)).toBe(ctx.adapter.features.has(f));
      expect(ctx.device.limits.maxStorageBufferBindingSize).toBe(
        ctx.adapter.limits.maxStorageBufferBindingSize,
      );
      // Every limit the kernels need is at the adapter's value; the dynamic-buffer limits are not.
      for (const k of LIMITS_TO_RAISE) expect(ctx.device.limits[k], k).toBe(ctx.adapter.limits[k]);
      expect(ctx.device.limits.maxStorageBuffersPerShaderStage).toBeGreaterThanOrEqual(8);
      expect(ctx.device.limits.maxDynamicStorageBuffersPerPipelineLayout).toBeLessThanOrEqual(
        ctx.adapter.limits.maxDynamicStorageBuffersPerPipelineLayout,
      );
    } finally {
      ctx.destroy();
    }
  });

  it("turns a WebGPU validation error into a typed error naming the adapter and the operation", async () => {
    const ctx = await openDevice();
    try {
      const op = withErrorScopes(ctx, "making a bad buffer", () =>
        ctx.device.createBuffer({
          size: 16,
          usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.MAP_WRITE /* invalid together */,
        }),
      );
      await expect(op).rejects.toThrow(GpuOperationError);
      await expect(
        withErrorScopes(ctx, "making a bad buffer", () =>
          ctx.device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.MAP_WRITE }),
        ),
      ).rejects.toThrow(
        new RegExp(
          `validation error in making a bad buffer on adapter "${ctx.adapterName.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}"`,
        ),
      );
    } finally {
      ctx.destroy();
    }
  });
});

describe("GpuTimer", () => {
  for (const disable of [[], ["timestamp-query"]])
    it(`times GPU work ${disable.length ? "from queue completion without timestamps" : "with timestamp queries"}, longer work taking longer`, async () => {
      const ctx = await openDevice({ disable });
      const timer = new GpuTimer(ctx);
      try {
        expect(timer.method).toBe(ctx.caps.timestamps ? "timestamp-query" : "queue-completion");
        if (!disable.length)
          expect(timer.method).toBe(
            ctx.adapter.features.has("timestamp-query") ? "timestamp-query" : "queue-completion",
          );
        const n = 256;
        const a = await createTensor(ctx, "f32", [n, n], "A");
        const b = await createTensor(ctx, "f32", [n, n], "B");
        const c = await createTensor(ctx, "f32", [n, n], "C");
        await fillUniform(ctx, a, 1);
        await fillUniform(ctx, b, 2);
        const run = (reps: number) =>
          timer.time(async (encoder) => {
            for (let r = 0; r < reps; r++)
              await gemm(ctx, a, b, c, {
                encoder,
                timestampWrites: timer.writesFor(r, reps),
              });
          });
        await run(1); // compile
        // The fastest of three each: noise (other processes on a busy CI machine, which
        // queue-completion timing also measures) only ever adds time.
        const fastest = async (reps: number) => {
          let best = Number.POSITIVE_INFINITY;
          for (let i = 0; i < 3; i++) best = Math.min(best, (await run(reps)).seconds);
          return best;
        };
        const one = await fastest(1);
        const many = await fastest(12);
        expect(one).toBeGreaterThan(0);
        expect(many).toBeGreaterThan(one * 2);
        destroyTensor(a, b, c);
      } finally {
        timer.destroy();
        ctx.destroy();
      }
    });
});
