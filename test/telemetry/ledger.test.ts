// Phase and baseline arithmetic on known curves: every expected joule is computed in closed form.
import { describe, expect, it } from "vitest";
import { TelemetryError } from "../../src/telemetry/errors.js";
import { EnergyLedger } from "../../src/telemetry/ledger.js";
import { RingBuffer } from "../../src/telemetry/ring-buffer.js";
import type { ChannelInfo, Sample } from "../../src/telemetry/types.js";

const gpu: ChannelInfo = {
  id: "g",
  component: "gpu",
  source: "fake GPU",
  power: "sampled",
  counter: "counter",
  updatePeriodMs: 10,
};
const cpu: ChannelInfo = {
  id: "c",
  component: "cpu",
  source: "fake CPU model",
  counter: "estimated",
  updatePeriodMs: 10,
};
const wall: ChannelInfo = {
  id: "w",
  component: "system",
  source: "fake plug",
  power: "sampled",
  updatePeriodMs: 10,
};

// P(t) = a + b·s, s in seconds; E(t) = a·s + b·s²/2.
const a = 80;
const b = 12;
const P = (ms: number) => a + (b * ms) / 1000;
const E = (ms: number) => a * (ms / 1000) + (b * (ms / 1000) ** 2) / 2;
const exact = (from: number, to: number) => E(to) - E(from);

/** Samples every `step` ms on an irregular grid (jittered deterministically) from 0 to `end`. */
function grid(end: number, step: number): number[] {
  const ts: number[] = [];
  for (let t = 0, k = 0; t <= end; k++, t = k * step + ((k * 7919) % 5)) ts.push(t);
  return ts;
}

describe("EnergyLedger", () => {
  it("integrates a linear power curve exactly by trapezoid, split at marks between samples", () => {
    const l = new EnergyLedger([wall]);
    l.mark("idle-baseline", 13.3);
    l.mark("epoch 1", 517.7);
    l.end(1999.1);
    l.add(grid(2100, 50).map((t) => ({ channel: "w", t, powerW: P(t) })));
    const [base, epoch] = l.report().phases;
    expect(base.channels[0].gross.joules).toBeCloseTo(exact(13.3, 517.7), 9);
    expect(epoch.channels[0].gross.joules).toBeCloseTo(exact(517.7, 1999.1), 9);
    expect(base.channels[0].gross.provenance).toBe("sampled");
    expect(epoch.channels[0].gross.method).toBe("trapezoid integral of power");
  });

  it("takes counter deltas, interpolating the counter at the marks", () => {
    // A counter that rises linearly between readings is interpolated exactly: use constant power.
    const l = new EnergyLedger([cpu]);
    const W = 37.5;
    l.mark("warmup", 120);
    l.mark("eval", 740);
    l.end(1500);
    l.add([0, 333, 1000, 1600].map((t) => ({ channel: "c", t, energyJ: 1000 + (W * t) / 1000 })));
    const [warmup, evalPhase] = l.report().phases;
    expect(warmup.channels[0].gross.joules).toBeCloseTo((W * 620) / 1000, 10);
    expect(evalPhase.channels[0].gross.joules).toBeCloseTo((W * 760) / 1000, 10);
    expect(evalPhase.channels[0].gross.provenance).toBe("estimated");
    expect(evalPhase.channels[0].meanPowerW).toBeCloseTo(W, 10);
  });

  it("subtracts idle-baseline power × duration for net energy", () => {
    const l = new EnergyLedger([wall]);
    l.mark("idle-baseline", 0);
    l.mark("epoch 1", 1000);
    l.end(3000);
    // 50 W idle, then 200 W.
    l.add([
      { channel: "w", t: 0, powerW: 50 },
      { channel: "w", t: 1000, powerW: 50 },
      { channel: "w", t: 1000, powerW: 200 },
      { channel: "w", t: 3000, powerW: 200 },
    ]);
    const r = l.report();
    expect(r.baselinePhase).toBe("idle-baseline");
    const epoch = r.phases[1].channels[0];
    expect(epoch.gross.joules).toBeCloseTo(400, 10);
    expect(epoch.net?.joules).toBeCloseTo(400 - 50 * 2, 10);
    expect(r.phases[1].totals[0]).toMatchObject({
      component: "system",
      gross: 400,
      net: 300,
      provenance: "sampled",
    });
  });

  it("flags windows shorter than the sensor's update period instead of reporting 0 J", () => {
    const l = new EnergyLedger([gpu]);
    l.mark("eval", 100);
    l.end(104); // 4 ms < 10 ms
    l.add([0, 50, 200].map((t) => ({ channel: "g", t, powerW: 300, energyJ: 0.3 * t })));
    const ce = l.report().phases[0].channels[0];
    expect(ce.gross.joules).toBeNull();
    expect(ce.gross.flag).toMatch(/shorter than the sensor's update period \(10 ms\)/);
  });

  it("cross-checks counter against integrated power and warns past 5 %", () => {
    const l = new EnergyLedger([gpu]);
    l.mark("epoch 1", 0);
    l.end(1000);
    // Counter says 100 W; power readings say 110 W: 10 % apart.
    l.add([0, 500, 1000].map((t) => ({ channel: "g", t, powerW: 110, energyJ: t / 10 })));
    const r = l.report();
    const ce = r.phases[0].channels[0];
    expect(ce.gross).toMatchObject({ joules: 100, provenance: "counter" });
    expect(ce.integrated?.joules).toBeCloseTo(110, 10);
    expect(ce.disagreement).toBeCloseTo(0.1, 10);
    expect(r.warnings.join("\n")).toMatch(/differ by 10\.0 %/);

    const close = new EnergyLedger([gpu]);
    close.mark("epoch 1", 0);
    close.end(1000);
    close.add([0, 1000].map((t) => ({ channel: "g", t, powerW: 102, energyJ: t / 10 })));
    expect(close.report().warnings).toEqual([]);
  });

  it("flags a counter reset and windows without bracketing readings", () => {
    const l = new EnergyLedger([cpu]);
    l.mark("epoch 1", 0);
    l.mark("epoch 2", 1000);
    l.end(2000);
    l.add([
      { channel: "c", t: -10, energyJ: 500 },
      { channel: "c", t: 900, energyJ: 590 },
      { channel: "c", t: 1500, energyJ: 3 }, // driver reload
      { channel: "c", t: 2100, energyJ: 60 },
    ]);
    const r = l.report();
    expect(r.phases[0].channels[0].gross.joules).toBeNull();
    expect(r.phases[1].channels[0].gross.flag).toMatch(/reset/);
    expect(r.warnings.join()).toMatch(/went backwards/);

    const late = new EnergyLedger([cpu]);
    late.mark("epoch 1", 0);
    late.end(1000);
    late.add([500, 1500].map((t) => ({ channel: "c", t, energyJ: t })));
    expect(late.report().phases[0].channels[0].gross.flag).toMatch(/no counter readings bracket/);
  });

  it("flags power samples that do not cover the window", () => {
    const l = new EnergyLedger([wall]);
    l.mark("epoch 1", 0);
    l.end(1000);
    l.add([400, 600].map((t) => ({ channel: "w", t, powerW: 90 })));
    const g = l.report().phases[0].channels[0].gross;
    expect(g.joules).toBeCloseTo(18, 10);
    expect(g.flag).toMatch(/cover 200 of 1000 ms/);
  });

  it("totals carry the weakest provenance and leave cross-check channels out", () => {
    const smi: ChannelInfo = { ...gpu, id: "s", source: "nvidia-smi", counter: undefined, crossCheck: true };
    const model: ChannelInfo = { ...cpu, id: "m", component: "gpu", source: "model GPU" };
    const l = new EnergyLedger([gpu, smi, model]);
    l.mark("run", 0);
    l.end(1000);
    const s: Sample[] = [];
    for (const t of [0, 1000]) {
      s.push({ channel: "g", t, powerW: 100, energyJ: t / 10 });
      s.push({ channel: "s", t, powerW: 400 });
      s.push({ channel: "m", t, energyJ: t / 100 });
    }
    l.add(s);
    const total = l.report().phases[0].totals[0];
    expect(total).toMatchObject({ component: "gpu", gross: 110, provenance: "estimated" });
    expect(total.sources).not.toContain("nvidia-smi");
  });

  it("refuses a mark earlier than samples already added", () => {
    const l = new EnergyLedger([wall]);
    l.mark("a", 0);
    l.add([{ channel: "w", t: 50, powerW: 1 }]);
    expect(() => l.mark("b", 40)).toThrow(/comes after a sample/);
    expect(() => l.mark("b", 40)).toThrow(TelemetryError);
  });
});

describe("RingBuffer", () => {
  it("keeps the newest entries up to capacity and counts the dropped ones", () => {
    const r = new RingBuffer<number>(3);
    for (let i = 1; i <= 5; i++) r.push(i);
    expect(r.length).toBe(3);
    expect(r.dropped).toBe(2);
    expect(r.drain()).toEqual([3, 4, 5]);
    r.push(9);
    expect(r.drain()).toEqual([9]);
  });
});
