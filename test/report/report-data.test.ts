// ReportData against figures computed by hand from the fixture's known energies (fixture.ts):
// means, t intervals with tabulated t quantiles, carbon steps, time to accuracy, ANOVA sums of
// squares, Welch t and Holm's step-down by hand; p-values from src/stats (checked against SciPy).
import { describe, expect, it } from "vitest";
import { buildReport } from "../../src/report/report.js";
import { anova, shapiroWilk, tTest, tTestSampleSize } from "../../src/stats/index.js";
import { CONFIGS, GPU_KJ, INTENSITY, mainFixture, makeResults, PUE, TEST_S, TRAIN_S } from "./fixture.js";

// Student t quantiles t₀.₉₇₅,ν from the standard table (e.g. NIST/SEMATECH e-Handbook 1.3.6.7.2).
const T975 = { 2: 4.302652729749464 };
const close = (a: number, b: number, rel = 1e-12) =>
  expect(Math.abs(a - b)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(b)));
const meanOf = (x: number[]) => x.reduce((s, v) => s + v, 0) / x.length;
const sdOf = (x: number[]) => Math.sqrt(x.reduce((s, v) => s + (v - meanOf(x)) ** 2, 0) / (x.length - 1));

describe("report data from the fixture", async () => {
  const { data, html, markdown } = await buildReport(mainFixture(), {
    generatedAt: new Date("2026-02-03T04:05:06Z"),
  });
  const cfg = (id: string) => {
    const c = data.configurations.find((x) => x.id === id);
    if (!c) throw new Error(`no ${id}`);
    return c;
  };

  it("uses completed runs only and lists the failed one", () => {
    expect(data.completed).toBe(9);
    expect(data.runs.map((r) => r.runId)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(data.excluded).toEqual([
      {
        runId: 10,
        configId: "mixed-b256-n1024",
        replicate: 4,
        status: "failed",
        error: "device lost",
        redoneBy: null,
      },
    ]);
    expect(data.finished).toBe(false);
    expect(data.planned).toBe(10);
    expect(data.configurations.map((c) => c.id)).toEqual(CONFIGS.map((c) => c.id));
    expect(data.configurations.map((c) => c.completed)).toEqual([3, 3, 3]);
  });

  it("compares the measured GPU energy, net of the baseline, of train + test (not the baseline or channel rows)", () => {
    expect(data.metric).toMatchObject({
      kind: "measured",
      components: ["gpu"],
      basis: "net",
      provenance: "counter",
    });
    for (const r of data.runs) {
      const expected = GPU_KJ[r.configId][r.replicate - 1];
      close(r.metricKJ, expected);
      close(r.components.gpu?.kJ ?? -1, expected);
      close(r.measuredKJ ?? -1, expected);
      expect(r.measuredProvenance).toBe("counter");
      // With estimates: + CPU 2 kJ + DRAM 0.5 kJ, and labelled estimated.
      close(r.totalKJ, expected + 2.5);
      expect(r.totalProvenance).toBe("estimated");
      expect(r.seconds).toBe(TRAIN_S + TEST_S);
      // Gross GPU power: (net + 20 W × 110 s) / 110 s.
      close(r.components.gpu?.meanPowerW ?? -1, (expected * 1000 + 20 * 110) / 110);
    }
  });

  it("gives means and 95 % t intervals per configuration (n − 1 degrees of freedom)", () => {
    for (const id of Object.keys(GPU_KJ)) {
      const x = GPU_KJ[id];
      const m = meanOf(x);
      const half = (T975[2] * sdOf(x)) / Math.sqrt(3);
      const e = cfg(id).energy.metric;
      close(e?.mean ?? -1, m);
      close(e?.sd ?? -1, sdOf(x));
      close(e?.ci95?.[0] ?? -1, m - half, 1e-10);
      close(e?.ci95?.[1] ?? -1, m + half, 1e-10);
      const total = cfg(id).energy.total;
      close(total?.mean ?? -1, m + 2.5);
      expect(total?.provenance).toBe("estimated");
      close(cfg(id).energy.cpu?.mean ?? -1, 2);
      close(cfg(id).energy.dram?.mean ?? -1, 0.5);
    }
    // Hand values for f32: 11 ± 4.302652729749464 × 0.2/√3.
    close(cfg("f32-b32-n1024").energy.metric?.ci95?.[1] ?? -1, 11.496827, 1e-7);
  });

  it("picks the median-energy run as representative", () => {
    // f32: 11.0 (run 1), 11.2 (4), 10.8 (7) → run 1; mixed-b32: 9.5 (2), 9.9 (5), 9.7 (8) → 8; b256: 8.0, 8.6, 8.3 → 9.
    expect(data.configurations.map((c) => c.representativeRunId)).toEqual([1, 8, 9]);
  });

  it("computes time to the target: 90 % of the f32 runs' mean final valid accuracy (0.9 here)", () => {
    close(data.accuracyTarget ?? -1, 0.81);
    // f32 reaches 0.81 at epoch 3 (90 s), mixed at epoch 2 (60 s).
    expect(cfg("f32-b32-n1024").timeToAccuracy).toEqual({
      reached: 3,
      meanSeconds: 90,
      perRun: [90, 90, 90],
    });
    expect(cfg("mixed-b32-n1024").timeToAccuracy.meanSeconds).toBe(60);
  });

  it("follows the dissertation's four carbon steps, and converts the measured energy", () => {
    for (const row of data.carbon) {
      const x = GPU_KJ[row.configId];
      const watts = meanOf(x.map((kj) => (kj * 1000 + 20 * 110) / 110));
      const hours = TRAIN_S / 3600;
      close(row.watts, watts);
      close(row.kW, watts / 1000);
      close(row.hours, hours);
      close(row.kWh, (watts / 1000) * hours);
      expect(row.intensity).toBe(INTENSITY);
      expect(row.pue).toBe(PUE);
      close(row.gCO2e ?? -1, (watts / 1000) * hours * PUE * INTENSITY);
      close(row.measuredGrossKWh, meanOf(x.map((kj) => kj * 1000 + 2200)) / 3.6e6);
      close(row.measuredNetKWh, (meanOf(x) * 1000) / 3.6e6);
      close(row.measuredNetGCO2e ?? -1, ((meanOf(x) * 1000) / 3.6e6) * PUE * INTENSITY);
    }
    // f32 by hand: 120 W → 0.12 kW × (100/3600) h = 0.00333… kWh → × 1.2 × 268 = 1.072 gCO2e.
    const f32 = data.carbon[0];
    close(f32.watts, 120);
    close(f32.gCO2e ?? -1, 1.072);
  });

  it("runs the ANOVA on the per-run energies (sums of squares by hand)", () => {
    const groups = Object.values(GPU_KJ);
    const grand = meanOf(groups.flat());
    const ssb = groups.reduce((s, g) => s + g.length * (meanOf(g) - grand) ** 2, 0);
    const ssw = groups.reduce((s, g) => s + g.reduce((a, v) => a + (v - meanOf(g)) ** 2, 0), 0);
    close(ssw, 0.34, 1e-12);
    const a = data.statistics?.anova.result;
    expect(a).toBeTruthy();
    close(a?.ssBetween ?? -1, ssb, 1e-10);
    close(a?.ssWithin ?? -1, ssw, 1e-10);
    close(a?.f ?? -1, ssb / 2 / (ssw / 6), 1e-10);
    expect(a?.dfBetween).toBe(2);
    expect(a?.dfWithin).toBe(6);
    close(a?.etaSquared ?? -1, ssb / (ssb + ssw), 1e-10);
    close(a?.p ?? -1, anova(groups.map((values, i) => ({ name: String(i), values }))).p, 1e-12);
    expect(data.statistics?.welch.result).toBeTruthy();
    expect(data.statistics?.levene.result).toBeTruthy();
    expect(data.statistics?.tukey.result?.length).toBe(3);
  });

  it("runs Welch t-tests on every pair and adjusts by Holm's step-down (by hand)", () => {
    const ids = Object.keys(GPU_KJ);
    const pairs: [string, string][] = [
      [ids[0], ids[1]],
      [ids[0], ids[2]],
      [ids[1], ids[2]],
    ];
    const p = pairs.map(([a, b]) => tTest(GPU_KJ[a], GPU_KJ[b], { kind: "welch" }).p);
    // Holm: sort ascending, multiply the i-th smallest (0-based) by (m − i), running maximum, cap 1.
    const order = [0, 1, 2].sort((i, j) => p[i] - p[j]);
    const holm = [0, 0, 0];
    let running = 0;
    order.forEach((idx, rank) => {
      running = Math.max(running, Math.min(1, (3 - rank) * p[idx]));
      holm[idx] = running;
    });
    const got = data.statistics?.pairwise ?? [];
    expect(got.map((c) => [c.a, c.b])).toEqual(pairs);
    got.forEach((c, i) => {
      const [a, b] = pairs[i];
      const va = sdOf(GPU_KJ[a]) ** 2 / 3;
      const vb = sdOf(GPU_KJ[b]) ** 2 / 3;
      close(c.t ?? -1, (meanOf(GPU_KJ[a]) - meanOf(GPU_KJ[b])) / Math.sqrt(va + vb), 1e-10);
      close(c.df ?? -1, (va + vb) ** 2 / (va ** 2 / 2 + vb ** 2 / 2), 1e-10);
      close(c.p ?? -1, p[i], 1e-12);
      close(c.pHolm ?? -1, holm[i], 1e-12);
      const pooled = Math.sqrt((sdOf(GPU_KJ[a]) ** 2 + sdOf(GPU_KJ[b]) ** 2) / 2);
      close(c.cohensD ?? -1, (meanOf(GPU_KJ[a]) - meanOf(GPU_KJ[b])) / pooled, 1e-10);
      close(c.relative, (meanOf(GPU_KJ[a]) - meanOf(GPU_KJ[b])) / meanOf(GPU_KJ[b]), 1e-12);
    });
    // The adjusted p-values differ from the raw ones (so Holm really was applied).
    expect(got.some((c) => (c.pHolm ?? 0) > (c.p ?? 0))).toBe(true);
  });

  it("runs Shapiro–Wilk per configuration and sizes the experiment for a 5 % difference", () => {
    for (const s of data.statistics?.shapiro ?? []) {
      const ref = shapiroWilk(GPU_KJ[s.configId]);
      close(s.w ?? -1, ref.w, 1e-12);
      close(s.p ?? -1, ref.p, 1e-12);
    }
    const pooledSd = Math.sqrt(0.34 / 6);
    const delta = 0.05 * meanOf(Object.values(GPU_KJ).flat());
    const power = data.statistics?.power.result;
    close(power?.pooledSd ?? -1, pooledSd, 1e-12);
    close(power?.delta ?? -1, delta, 1e-12);
    close(power?.effect ?? -1, delta / pooledSd, 1e-10);
    expect(power?.n).toBe(tTestSampleSize({ effect: delta / pooledSd, power: 0.8 }).n);
  });

  it("concludes which configuration used least energy, by how much, with caveats", () => {
    const text = data.conclusion.join(" ");
    expect(data.conclusion[0]).toMatch(/^mixed-b256-n1024 used the least energy: 8\.3 kJ/);
    // 8.3 vs 11: (11 − 8.3)/11 = 24.55 %.
    expect(text).toContain("Against f32-b32-n1024 (11 kJ): 24.5 % less energy");
    const caveats = data.caveats.join(" ");
    expect(caveats).toMatch(/Estimated components \(cpu, dram\)/);
    expect(caveats).toMatch(/not finished: 9 of 10/);
    expect(caveats).not.toMatch(/under 60 s/);
  });

  it("prints neither NaN nor undefined, and shows the figures in both documents", () => {
    for (const doc of [html, markdown]) {
      expect(doc).not.toMatch(/NaN|undefined|Infinity/);
      expect(doc).toContain("11.5"); // f32's upper CI bound 11.4968 → 11.5 at 4 digits
      expect(doc).toContain("1.072"); // f32's gCO2e, the dissertation's way
      expect(doc).toContain("mixed-b256-n1024");
      expect(doc).toContain("device lost");
    }
    expect(markdown).toContain(
      "![Energy per run by configuration and component (mean, 95 % CI)](charts/energy.svg)",
    );
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
  });
});

describe("an interrupted attempt that a resumed suite redid", async () => {
  // 3 configurations × 3 replicates = 9 plan slots; the last slot's first attempt (run 9) was
  // interrupted and run 10 redid it to completion: nothing is missing.
  const specs = mainFixture()
    .runs.slice(0, 9)
    .map((r, i) => ({
      config: CONFIGS.find((c) => c.id === r.configId) ?? CONFIGS[0],
      gpuTrainJ: GPU_KJ[r.configId][Math.floor(i / 3)] * 1000 - 1000,
      gpuTestJ: 1000,
    }));
  const last = specs[8];
  const { data, markdown } = await buildReport(
    makeResults(
      [
        ...specs.slice(0, 8),
        { ...last, status: "interrupted" as const, planIndex: 8, replicate: 3 },
        { ...last, planIndex: 8, replicate: 3 },
      ],
      { planned: 9 },
    ),
    { generatedAt: new Date("2026-02-03T04:05:06Z") },
  );

  it("counts plan slots, not attempts: 9 of 9, finished, the attempt listed with its redo", () => {
    expect(data.planned).toBe(9);
    expect(data.completed).toBe(9);
    expect(data.finished).toBe(true);
    expect(data.excluded).toEqual([
      expect.objectContaining({ runId: 9, status: "interrupted", redoneBy: 10 }),
    ]);
    expect(data.caveats.join(" ")).not.toMatch(/not finished/);
    expect(markdown).toMatch(/9 of 9 runs completed/);
    expect(markdown).toMatch(/\| 9 \| mixed-b256-n1024 \| 3 \| interrupted \| .* \| run 10 \|/);
  });
});
