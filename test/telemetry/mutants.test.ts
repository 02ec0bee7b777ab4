// Tests written to kill mutants that survived a mutation run (npm run mutate; docs/testing.md):
// each names the quantity a wrong edit would have changed unnoticed. Expected joules are worked
// out in the comments from the inputs, never from the code under test.
import { describe, expect, it } from "vitest";
import { TelemetryError } from "../../src/telemetry/errors.js";
import { componentTotals, EnergyLedger } from "../../src/telemetry/ledger.js";
import { DEFAULT_RAM_WATTS_PER_GB, resolveRamModel } from "../../src/telemetry/ram-model.js";
import { RingBuffer } from "../../src/telemetry/ring-buffer.js";
import type { ChannelInfo } from "../../src/telemetry/types.js";
import { manualWallEnergy } from "../../src/telemetry/wall-meter.js";

const plug: ChannelInfo = {
  id: "w",
  component: "system",
  source: "plug",
  power: "sampled",
  updatePeriodMs: 10,
};
const gpu: ChannelInfo = {
  id: "g",
  component: "gpu",
  source: "gpu",
  power: "sampled",
  counter: "counter",
  updatePeriodMs: 10,
};
const gpu2: ChannelInfo = {
  id: "g2",
  component: "gpu",
  source: "gpu2",
  power: "sampled",
  updatePeriodMs: 10,
};
const model: ChannelInfo = {
  id: "m",
  component: "gpu",
  source: "model",
  counter: "estimated",
  updatePeriodMs: 10,
};

describe("EnergyLedger: what it must ignore", () => {
  it("drops NaN/inf readings and unknown channels instead of poisoning the integral", () => {
    const l = new EnergyLedger([plug]);
    l.mark("run", 0);
    l.end(1000);
    // 100 W throughout → 100 J; the NaN and inf readings and the stray channel change nothing.
    l.add([
      { channel: "w", t: 0, powerW: 100 },
      { channel: "w", t: 250, powerW: Number.NaN },
      { channel: "x", t: 300, powerW: 1e9 },
      { channel: "w", t: 500, powerW: Number.POSITIVE_INFINITY },
      { channel: "w", t: 1000, powerW: 100 },
    ]);
    const [c] = l.report().phases[0].channels;
    expect(c.gross.joules).toBe(100);
    expect(c.powerSamples).toBe(1); // t = 0 only: t = 1000 is the phase's (exclusive) end
  });

  it("drops a power or counter reading older than the last one, with a warning", () => {
    const l = new EnergyLedger([gpu]);
    l.mark("run", 0);
    l.end(1000);
    l.add([
      { channel: "g", t: 0, powerW: 50, energyJ: 10 },
      { channel: "g", t: 600, powerW: 50, energyJ: 40 },
      { channel: "g", t: 400, powerW: 5000, energyJ: 12 }, // out of order: ignored
      { channel: "g", t: 1000, powerW: 50, energyJ: 60 },
    ]);
    const r = l.report();
    const [c] = r.phases[0].channels;
    expect(c.gross.joules).toBe(50); // 60 − 10
    expect(c.integrated?.joules).toBe(50); // 50 W × 1 s
    expect(r.warnings.join("\n")).toMatch(/g: power sample out of time order dropped/);
    expect(r.warnings.join("\n")).toMatch(/g: counter sample out of time order dropped/);
  });

  it("reports closed phases only, and refuses marks out of order", () => {
    const l = new EnergyLedger([plug]);
    l.mark("a", 0);
    l.mark("b", 1000); // b stays open
    l.add([0, 500, 1000, 1500].map((t) => ({ channel: "w", t, powerW: 10 })));
    expect(l.report().phases.map((p) => p.name)).toEqual(["a"]);
    expect(() => l.mark("c", 1400)).toThrow(TelemetryError);
    expect(() => l.mark("c", 1400)).toThrow(/comes after a sample at 1500 ms/);
    expect(() => l.end(900)).toThrow(/phase "b" cannot end before it starts/);
    l.end(1500); // at the last sample: allowed
    expect(l.marks.map((m) => [m.name, m.t])).toEqual([
      ["a", 0],
      ["b", 1000],
    ]);
  });
});

describe("EnergyLedger: flags instead of wrong numbers", () => {
  it("power that covers only part of a window: the integral of what is covered, flagged", () => {
    const l = new EnergyLedger([plug]);
    l.mark("run", 0);
    l.end(1000);
    // Samples from 400 ms on: 600 ms covered at 20 W = 12 J, a 400 ms gap (> the 10 ms period).
    l.add([400, 700, 1000].map((t) => ({ channel: "w", t, powerW: 20 })));
    const [c] = l.report().phases[0].channels;
    expect(c.gross.joules).toBeCloseTo(12, 12);
    expect(c.gross.flag).toBe("power samples cover 600 of 1000 ms");
  });

  it("no power sample in the window: null joules and mean power, not 0", () => {
    const l = new EnergyLedger([plug]);
    l.mark("run", 0);
    l.end(1000);
    const [c] = l.report().phases[0].channels;
    expect(c.gross).toMatchObject({ joules: null, flag: "no power samples in this window" });
    expect(c.meanPowerW).toBeNull();
  });

  it("a window exactly one update period long is long enough", () => {
    const l = new EnergyLedger([plug]);
    l.mark("run", 0);
    l.end(10);
    l.add([0, 10].map((t) => ({ channel: "w", t, powerW: 30 })));
    const [c] = l.report().phases[0].channels;
    expect(c.gross.joules).toBeCloseTo(0.3, 12); // 30 W × 10 ms
    expect(c.gross.flag).toBeUndefined();
  });

  it("no cross-check ratio when the counter delta is 0 or missing", () => {
    const l = new EnergyLedger([gpu]);
    l.mark("run", 0);
    l.end(1000);
    l.add([0, 1000].map((t) => ({ channel: "g", t, powerW: 40, energyJ: 7 })));
    const r = l.report();
    const [c] = r.phases[0].channels;
    expect(c.gross.joules).toBe(0);
    expect(c.integrated?.joules).toBe(40);
    expect(c.disagreement).toBeUndefined();
    expect(r.warnings).toEqual([]);
  });

  it("a disagreement exactly at the tolerance is no warning; the message names both figures", () => {
    const at = new EnergyLedger([gpu], { agreementTolerance: 0.25 });
    at.mark("run", 0);
    at.end(1000);
    // Counter 100 J, power 125 W → 125 J: 25 % apart, equal to the tolerance.
    at.add([0, 1000].map((t) => ({ channel: "g", t, powerW: 125, energyJ: t / 10 })));
    expect(at.report().phases[0].channels[0].disagreement).toBe(0.25);
    expect(at.report().warnings).toEqual([]);
    const past = new EnergyLedger([gpu], { agreementTolerance: 0.2 });
    past.mark("run", 0);
    past.end(1000);
    past.add([0, 1000].map((t) => ({ channel: "g", t, powerW: 125, energyJ: t / 10 })));
    expect(past.report().warnings).toEqual([
      'gpu, phase "run": counter 100.00 J and integrated power 125.00 J differ by 25.0 % (> 20 %)',
    ]);
  });

  it("a counter reset voids only the phases it falls in", () => {
    const l = new EnergyLedger([model]);
    l.mark("a", 0);
    l.mark("b", 1000);
    l.mark("c", 2000);
    l.end(3000);
    l.add([
      { channel: "m", t: 0, energyJ: 100 },
      { channel: "m", t: 1000, energyJ: 110 },
      { channel: "m", t: 1500, energyJ: 5 }, // reset inside b
      { channel: "m", t: 2000, energyJ: 6 },
      { channel: "m", t: 3000, energyJ: 16 },
    ]);
    const [a, b, c] = l.report().phases.map((p) => p.channels[0].gross);
    expect(a.joules).toBe(10);
    expect(b.joules).toBeNull();
    expect(c.joules).toBe(10);
  });

  it("counter boundaries between readings are interpolated, readings exactly at them taken", () => {
    const l = new EnergyLedger([model]);
    l.mark("a", 250);
    l.end(1000);
    // Readings 0 → 0 J, 500 → 10 J (20 W), 1000 → 30 J (40 W): start 5 J (interpolated), end 30 J.
    l.add([
      { channel: "m", t: 0, energyJ: 0 },
      { channel: "m", t: 500, energyJ: 10 },
      { channel: "m", t: 1000, energyJ: 30 },
    ]);
    const [c] = l.report().phases[0].channels;
    expect(c.gross.joules).toBe(25);
    expect(c.counterSamples).toBe(1); // t = 500; 0 is before the phase, 1000 its exclusive end
  });
});

describe("EnergyLedger: idle baseline and component totals", () => {
  it("net energy needs a baseline figure for the channel, else null with the reason", () => {
    const l = new EnergyLedger([plug, gpu2]);
    l.mark("idle-baseline", 0);
    l.mark("run", 1000);
    l.end(3000);
    // plug: 20 W idle, 50 W in the run → gross 100 J, net 100 − 20 × 2 = 60 J.
    // gpu2 has no sample in the baseline → its net is null, flagged.
    l.add([
      { channel: "w", t: 0, powerW: 20 },
      { channel: "w", t: 1000, powerW: 20 },
      { channel: "w", t: 1000, powerW: 50 },
      { channel: "w", t: 3000, powerW: 50 },
      { channel: "g2", t: 1000, powerW: 70 },
      { channel: "g2", t: 3000, powerW: 70 },
    ]);
    const run = l.report().phases[1];
    const [w, g] = run.channels;
    expect(w.net?.joules).toBeCloseTo(60, 12);
    expect(w.net?.flag).toBeUndefined();
    expect(g.gross.joules).toBeCloseTo(140, 12);
    expect(g.net).toMatchObject({
      joules: null,
      flag: "no idle-baseline power (no power samples in this window)",
    });
    // The gpu total has a gross figure but no net one (a channel lacks it).
    expect(run.totals.find((t) => t.component === "gpu")).toMatchObject({ gross: 140, net: null });
    expect(run.totals.find((t) => t.component === "system")).toMatchObject({ gross: 100 });
  });

  it("without a baseline phase there is no net figure at all", () => {
    const l = new EnergyLedger([plug]);
    l.mark("run", 0);
    l.end(1000);
    l.add([0, 1000].map((t) => ({ channel: "w", t, powerW: 10 })));
    const r = l.report();
    expect(r.baselinePhase).toBeNull();
    expect(r.phases[0].channels[0].net).toBeUndefined();
  });

  it("totals: summed per component, as weak as the weakest part, null and flagged when one is missing", () => {
    const fig = (joules: number | null, provenance: "counter" | "sampled" | "estimated", source: string) => ({
      channel: source,
      component: "gpu" as const,
      source,
      gross: { joules, provenance, source, method: "counter delta" as const },
      meanPowerW: null,
      powerSamples: 0,
      counterSamples: 0,
    });
    const [ok] = componentTotals([fig(10, "counter", "a"), fig(5, "sampled", "b"), fig(1, "counter", "c")]);
    expect(ok).toMatchObject({
      component: "gpu",
      gross: 16,
      provenance: "sampled",
      sources: ["a", "b", "c"],
    });
    expect(ok.flag).toBeUndefined();
    expect(ok.net).toBeNull(); // no channel has a net figure
    const [weak] = componentTotals([
      fig(10, "counter", "a"),
      fig(2, "estimated", "b"),
      fig(5, "sampled", "c"),
    ]);
    expect(weak.provenance).toBe("estimated");
    const [missing] = componentTotals([
      fig(10, "counter", "a"),
      fig(null, "counter", "b"),
      fig(null, "counter", "c"),
    ]);
    expect(missing).toMatchObject({ gross: null, flag: "no figure from b, c" });
    // A cross-check channel is left out of the total.
    const [withCheck] = componentTotals([
      fig(10, "counter", "a"),
      { ...fig(99, "sampled", "smi"), crossCheck: true },
    ]);
    expect(withCheck).toMatchObject({ gross: 10, sources: ["a"] });
  });
});

describe("telemetry inputs refused by name", () => {
  it("RAM model: W/GB must be ≥ 0; the default is 3 W per 8 GB", () => {
    const meminfo = "MemTotal:       16777216 kB\n"; // 16 GiB
    expect(DEFAULT_RAM_WATTS_PER_GB).toBe(0.375);
    expect(resolveRamModel({ meminfo })).toMatchObject({ gigabytes: 16, wattsPerGb: 0.375, powerW: 6 });
    expect(resolveRamModel({ meminfo, wattsPerGb: 0 }).powerW).toBe(0);
    expect(() => resolveRamModel({ meminfo, wattsPerGb: -1 })).toThrow(/RAM W\/GB -1 must be >= 0/);
    expect(() => resolveRamModel({ meminfo, wattsPerGb: Number.NaN })).toThrow(/must be >= 0/);
  });

  it("manual wall power: W × duration, 0 allowed, negative or NaN refused", () => {
    expect(manualWallEnergy(0, [{ name: "run", durationS: 5 }])[0].joules).toBe(0);
    expect(manualWallEnergy(120, [{ name: "run", durationS: 2.5 }])[0]).toMatchObject({
      joules: 300,
      provenance: "estimated",
    });
    expect(() => manualWallEnergy(-1, [])).toThrow(/manual wall power -1 W must be >= 0/);
    expect(() => manualWallEnergy(Number.NaN, [])).toThrow(/must be >= 0/);
  });

  it("ring buffer: capacity an integer ≥ 1; capacity 1 keeps the newest", () => {
    for (const bad of [0, -1, 1.5, Number.NaN])
      expect(() => new RingBuffer(bad)).toThrow(/ring buffer capacity .* must be an integer >= 1/);
    const one = new RingBuffer<number>(1);
    one.push(1);
    one.push(2);
    expect([one.drain(), one.dropped]).toEqual([[2], 1]);
  });
});
