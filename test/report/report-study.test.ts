// What the study reports (issue 18 §2), against hand computations on the fixture's known energies
// and accuracies (fixture.ts): energy per sample, per epoch and to the accuracy target (apportioned
// by epoch time, runs that never reach it counted), the default target, the accuracy equivalence
// (TOST; its p-values from src/stats, checked against statsmodels in test/stats/tost.test.ts), the
// report's order, and zeros by construction printed as 0.
import { describe, expect, it } from "vitest";
import { buildReport } from "../../src/report/report.js";
import { meanCi } from "../../src/report/statistics.js";
import { tost } from "../../src/stats/index.js";
import { configuration, GPU_KJ, mainFixture, makeResults, TEST_ACCURACY } from "./fixture.js";

// Student t quantiles from the standard table (NIST/SEMATECH e-Handbook 1.3.6.7.2).
const T975 = { 2: 4.302652729749464, 4: 2.776445105197793 };
const T95 = { 4: 2.131846786326649 };
const close = (a: number | null | undefined, b: number, rel = 1e-10) =>
  expect(Math.abs((a ?? Number.NaN) - b)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(b)));
const meanOf = (x: number[]) => x.reduce((s, v) => s + v, 0) / x.length;
const sdOf = (x: number[]) => Math.sqrt(x.reduce((s, v) => s + (v - meanOf(x)) ** 2, 0) / (x.length - 1));
const generatedAt = new Date("2026-02-03T04:05:06Z");

describe("energy per sample, per epoch and to the accuracy target (main fixture)", async () => {
  const { data, markdown } = await buildReport(mainFixture(), { generatedAt });
  const cfg = (id: string) => data.configurations.find((c) => c.id === id);

  it("per sample: the train phase's GPU net energy over 3 epochs × 100 samples, with a t interval", () => {
    for (const id of Object.keys(GPU_KJ)) {
      // Train phase = per-run total − the 1 kJ test pass; J per sample = kJ × 1000 / 300.
      const perSample = GPU_KJ[id].map((kj) => ((kj - 1) * 1000) / 300);
      const e = cfg(id)?.perSampleJ;
      close(e?.mean, meanOf(perSample));
      close(e?.ci95?.[0], meanOf(perSample) - (T975[2] * sdOf(perSample)) / Math.sqrt(3));
      close(e?.ci95?.[1], meanOf(perSample) + (T975[2] * sdOf(perSample)) / Math.sqrt(3));
      expect(e?.provenance).toBe("counter");
      const perEpoch = GPU_KJ[id].map((kj) => (kj - 1) / 3);
      close(cfg(id)?.perEpochKJ?.mean, meanOf(perEpoch));
    }
    // f32 by hand: (10 + 10.2 + 9.8)/3 kJ = 10 kJ over 300 samples = 33.33 J per sample.
    close(cfg("f32-b32-n1024")?.perSampleJ?.mean, 100 / 3);
  });

  it("to accuracy: f32 reaches 0.81 at its 3rd epoch (all its train energy), mixed at its 2nd (2/3)", () => {
    close(data.accuracyTarget, 0.81);
    expect(data.accuracyTargetSource).toMatch(/90 % of the f32 runs' mean final validation accuracy/);
    const f32 = cfg("f32-b32-n1024")?.energyToAccuracy;
    expect([f32?.reached, f32?.notReached]).toEqual([3, 0]);
    close(f32?.kJ?.mean, 10);
    const mixed = cfg("mixed-b32-n1024")?.energyToAccuracy;
    close(mixed?.kJ?.mean, (meanOf(GPU_KJ["mixed-b32-n1024"]) - 1) * (2 / 3));
    expect(markdown).toContain("Energy per sample, per epoch and to the accuracy target");
    expect(markdown).toContain("33.33 [");
  });
});

describe("energy to accuracy with uneven epochs, a run that never reaches it, and the spec's target", async () => {
  const c = configuration("f32-b64-n32", "f32", 64, 32);
  const base = { config: c, gpuTestJ: 1000, epochSeconds: [40, 30, 20] };
  const results = makeResults(
    [
      { ...base, gpuTrainJ: 9000, validAccuracy: [0.5, 0.7, 0.75] },
      { ...base, gpuTrainJ: 6000, validAccuracy: [0.5, 0.72, 0.6] },
      { ...base, gpuTrainJ: 7000, validAccuracy: [0.5, 0.6, 0.65] },
    ],
    { spec: { accuracyTarget: 0.7 } },
  );
  const { data, markdown } = await buildReport(results, { generatedAt });

  it("apportions the train energy by epoch time up to the first epoch reaching the target", () => {
    expect(data.accuracyTarget).toBe(0.7);
    expect(data.accuracyTargetSource).toBe("the suite spec's accuracyTarget");
    const e = data.configurations[0].energyToAccuracy;
    // Epoch 2 reaches 0.7 in runs 1 and 2: (40 + 30)/90 of 9 kJ and of 6 kJ; run 3 never does.
    expect(e.perRun[2]).toBeNull();
    close(e.perRun[0], 7);
    close(e.perRun[1], (6 * 70) / 90);
    expect([e.reached, e.notReached]).toEqual([2, 1]);
    close(e.kJ?.mean, (7 + 6 * (70 / 90)) / 2);
    expect(markdown).toMatch(/\| 2 of 3 \(1 never\) \|/);
  });
});

describe("the default accuracy target", async () => {
  const f32 = configuration("f32-b32-n8", "f32", 32, 8);
  const mixed = configuration("mixed-b32-n8", "mixed", 32, 8);
  const run = (config: typeof f32, last: number) => ({
    config,
    gpuTrainJ: 5000,
    gpuTestJ: 100,
    validAccuracy: [0.3, last],
  });
  const { data } = await buildReport(makeResults([run(f32, 0.8), run(f32, 0.9), run(mixed, 0.95)]), {
    generatedAt,
  });
  it("is 90 % of the f32 runs' mean final validation accuracy, not of the best run", () => {
    close(data.accuracyTarget, 0.9 * 0.85);
  });
});

describe("does mixed precision keep the accuracy? (TOST against the f32 twin)", async () => {
  const { data, markdown } = await buildReport(mainFixture(), { generatedAt });
  const a = TEST_ACCURACY["mixed-b32-n1024"];
  const b = TEST_ACCURACY["f32-b32-n1024"];
  // By hand: d = 0.851 − 0.850 = 0.001, both SDs 0.002, se = √(2 × 0.002²/3), Welch ν = 4.
  const d = meanOf(a) - meanOf(b);
  const se = Math.sqrt(sdOf(a) ** 2 / 3 + sdOf(b) ** 2 / 3);

  it("gives the difference, its 95 % and 90 % intervals, the two one-sided p and the verdict at ±1 point", () => {
    expect(data.equivalence?.margin).toBe(0.01);
    expect(data.equivalence?.marginSource).toBe("default");
    const rows = data.equivalence?.rows ?? [];
    expect(rows.map((r) => [r.mixed, r.f32])).toEqual([
      ["mixed-b32-n1024", "f32-b32-n1024"],
      ["mixed-b256-n1024", null],
    ]);
    const r = rows[0];
    close(d, 0.001, 1e-9);
    close(se, Math.sqrt((2 * 0.002 ** 2) / 3), 1e-9);
    close(r.difference, d);
    close(r.ci95?.[0], d - T975[4] * se, 1e-9);
    close(r.ci95?.[1], d + T975[4] * se, 1e-9);
    close(r.ci90?.[0], d - T95[4] * se, 1e-9);
    close(r.ci90?.[1], d + T95[4] * se, 1e-9);
    // The 90 % interval [−0.0025, 0.0045] lies inside ±0.01: equivalent.
    expect(r.equivalent).toBe(true);
    const ref = tost(a, b, -0.01, 0.01, { kind: "welch" });
    close(r.pLower, ref.lower.p);
    close(r.pUpper, ref.upper.p);
    close(r.p, Math.max(ref.lower.p, ref.upper.p));
    expect(rows[1].equivalent).toBeNull();
    expect(rows[1].note).toMatch(/no f32 configuration/);
    expect(data.conclusion.join(" ")).toMatch(
      /mixed-b32-n1024 keeps f32-b32-n1024's accuracy: test accuracy 0\.1 points against f32-b32-n1024, equivalent within ±1 percentage point \(90 % CI \[-0\.248, 0\.448\] points, TOST p = /,
    );
    expect(markdown).toContain("Accuracy equivalence (TOST) of mixed against f32");
  });

  it("a narrower margin from the suite spec is not met by the same runs", async () => {
    const fixture = mainFixture();
    fixture.suite.spec = { ...fixture.suite.spec, equivalenceMargin: 0.002 };
    const narrow = await buildReport(fixture, { generatedAt });
    const r = narrow.data.equivalence?.rows[0];
    expect(narrow.data.equivalence?.marginSource).toBe("suite spec");
    expect(r?.equivalent).toBe(false);
    expect(narrow.data.conclusion.join(" ")).toMatch(
      /mixed-b32-n1024 is not shown to keep f32-b32-n1024's accuracy within ±0\.2 percentage points/,
    );
  });
});

describe("the report's order and its zeros", async () => {
  it("opens with the picture, then the conclusion, then the tables", async () => {
    const { markdown, html } = await buildReport(mainFixture(), { generatedAt });
    const titles = [...markdown.matchAll(/^## (.*)$/gm)].map((m) => m[1]);
    expect(titles.slice(0, 3)).toEqual(["Energy per sample and accuracy", "Conclusion", "Configurations"]);
    expect(markdown.indexOf("charts/energy-per-sample.svg")).toBeLessThan(markdown.indexOf("## Conclusion"));
    expect(html.indexOf('data-chart="energy-per-sample"')).toBeLessThan(html.indexOf("<h2>Conclusion</h2>"));
  });

  it("a constant RAM model's net energy (gross − baseline, 0 by construction) prints as 0", async () => {
    // As the ledger computes it: 3.3 W for 17.9 s minus the 3 s baseline's mean power × 17.9 s,
    // which leaves 7.1e-15 J of rounding in double precision.
    const P = 3.3;
    const gross = P * 17.9;
    const net = gross - ((P * 3) / 3) * 17.9;
    expect(net).not.toBe(0);
    const fixture = mainFixture();
    for (const run of fixture.runs)
      for (const e of run.energy)
        if (e.component === "dram") Object.assign(e, { grossJ: gross, netJ: net, seconds: 17.9 });
    const { data, markdown } = await buildReport(fixture, { generatedAt });
    for (const r of data.runs) expect(r.components.dram?.kJ).toBe(0);
    const dram = data.configurations[0].energy.dram;
    expect([dram?.mean, dram?.sd]).toEqual([0, 0]);
    expect(markdown).not.toMatch(/\de-1\d/);
    expect(markdown).toMatch(/\| f32-b32-n1024 \| 3 \| dram \| 0 \| \[0, 0\] \| 0 \| estimated \|/);
  });

  it("an SD of values equal but for rounding is 0, a real one is kept", () => {
    const m = meanCi([0.1 + 0.2, 0.3, 0.3]);
    expect(m.sd).toBe(0);
    expect(m.ci95?.[0]).toBe(m.ci95?.[1]);
    expect(meanCi([1, 1 + 1e-9, 1]).sd).toBeGreaterThan(0);
  });
});
