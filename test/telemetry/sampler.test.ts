// The sampler in a real worker thread, with deterministic sources (fixtures/linear-source.ts):
// known power curves give known joules per phase.
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { monotonicMs } from "../../src/telemetry/clock.js";
import { Sampler } from "../../src/telemetry/sampler.js";
import type { SourceSpec } from "../../src/telemetry/sources.js";
import { energy, type LinearOptions } from "./fixtures/linear-source.js";
import { buildFakeNvml, hasCompiler } from "./helpers.js";

const linearUrl = new URL("./fixtures/linear-source.ts", import.meta.url).href;
const linear = (o: LinearOptions): SourceSpec => ({ kind: "module", url: linearUrl, options: o });

describe("Sampler (worker thread)", () => {
  it("charges a known power curve to phases; counter and integral agree with the closed form", async () => {
    const t0 = monotonicMs();
    const gpu: LinearOptions = { id: "gpu", component: "gpu", a: 90, b: 40, t0, counter: true, power: true };
    const wall: LinearOptions = {
      id: "wall",
      component: "system",
      a: 300,
      b: -20,
      t0,
      counter: false,
      power: true,
    };
    const hz = 50;
    const sampler = await Sampler.start({ hz, sources: [linear(gpu), linear(wall)] });
    expect(sampler.channels.map((c) => c.id)).toEqual(["gpu", "wall"]);
    await sampler.mark("idle-baseline");
    await sleep(250);
    await sampler.mark("epoch 1");
    await sleep(350);
    const report = await sampler.stop();
    const [m0, m1] = sampler.ledger.marks;
    const end = report.phases[1].endMs;
    expect(report.phases.map((p) => p.name)).toEqual(["idle-baseline", "epoch 1"]);

    const epoch = report.phases[1];
    const g = epoch.channels.find((c) => c.channel === "gpu");
    const w = epoch.channels.find((c) => c.channel === "wall");
    const exactGpu = energy(gpu, end) - energy(gpu, m1.t);
    const exactWall = energy(wall, end) - energy(wall, m1.t);
    // Power is linear in t, so the trapezoid is exact up to rounding.
    expect(g?.integrated?.joules).toBeCloseTo(exactGpu, 6);
    expect(w?.gross.joules).toBeCloseTo(exactWall, 6);
    // The counter E(t) is quadratic; linear interpolation at each end errs by at most
    // b/8·Δs² for a bracketing gap Δs ≤ 1/counterHz = 0.1 s: 2 × 40/8 × 0.01 = 0.1 J.
    expect(Math.abs((g?.gross.joules as number) - exactGpu)).toBeLessThan(0.1);
    expect(g?.gross.provenance).toBe("counter");
    expect(g?.powerSamples).toBeGreaterThan(10);

    // Net = gross − baseline mean power × duration, with the baseline's own closed form.
    const baseS = (m1.t - m0.t) / 1000;
    const baseW = (energy(wall, m1.t) - energy(wall, m0.t)) / baseS;
    expect(w?.net?.joules).toBeCloseTo(exactWall - baseW * epoch.durationS, 5);
    expect(report.warnings).toEqual([]);
  });

  it("awaits drain before every mark and stop", async () => {
    const t0 = monotonicMs();
    const drained: number[] = [];
    const sampler = await Sampler.start({
      hz: 20,
      sources: [linear({ id: "c", component: "cpu", a: 10, b: 0, t0, counter: true, power: false })],
      drain: async () => {
        await sleep(30);
        drained.push(monotonicMs());
      },
    });
    await sampler.mark("warmup");
    await sampler.mark("eval");
    await sampler.stop();
    const marks = sampler.ledger.marks.map((m) => m.t);
    expect(drained).toHaveLength(3);
    expect(marks[0]).toBeGreaterThanOrEqual(drained[0]);
    expect(marks[1]).toBeGreaterThanOrEqual(drained[1]);
  });

  it("reports sources that fail to start or fail mid-run, and keeps going", async () => {
    const t0 = monotonicMs();
    const sampler = await Sampler.start({
      hz: 20,
      sources: [
        { kind: "rapl", root: "/nonexistent-powercap" },
        linear({ id: "flaky", component: "gpu", a: 50, b: 0, t0, counter: false, power: true, failAfter: 3 }),
        linear({ id: "ok", component: "cpu", a: 20, b: 0, t0, counter: true, power: false }),
      ],
    });
    expect(sampler.failed).toEqual([
      { source: "rapl", reason: expect.stringMatching(/RAPL unavailable: no \/nonexistent-powercap/) },
    ]);
    await sampler.mark("epoch 1");
    await sleep(300);
    const r = await sampler.stop();
    expect(r.warnings.join("\n")).toMatch(/linear:flaky: fake sensor unplugged/);
    const ok = r.phases[0].channels.find((c) => c.channel === "ok");
    expect(ok?.gross.joules).toBeCloseTo(20 * r.phases[0].durationS, 6);
  });

  it("rejects rates above 100 Hz", async () => {
    await expect(Sampler.start({ hz: 500, sources: [] })).rejects.toThrow(/must be in \(0, 100\]/);
  });

  it.skipIf(!hasCompiler)("samples NVML (fake library) from the worker at 100 Hz", async () => {
    const lib = buildFakeNvml();
    process.env.HALFWATT_NVML_LIB = lib as string;
    try {
      const sampler = await Sampler.start({ hz: 100, sources: [{ kind: "nvml", devices: [0] }] });
      expect(sampler.channels[0]).toMatchObject({ id: "nvml:0", counter: "counter", power: "sampled" });
      await sampler.mark("epoch 1");
      await sleep(400);
      const r = await sampler.stop();
      const c = r.phases[0].channels[0];
      // Constant 123.456 W: the integral is exact; the fake counter steps 1.234 J per read.
      expect(c.integrated?.joules).toBeCloseTo(123.456 * r.phases[0].durationS, 6);
      expect(c.powerSamples).toBeGreaterThan(25);
      expect(c.counterSamples).toBeGreaterThan(2);
      expect(c.gross.joules).toBeGreaterThan(0);
    } finally {
      delete process.env.HALFWATT_NVML_LIB;
    }
  });
});
