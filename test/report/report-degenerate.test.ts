// Degenerate suites: one replicate, one configuration, zero variance, nothing completed, no
// baseline, short runs, only estimates, a NaN from the store. The report must say what it cannot
// compute — never print NaN or undefined — and refuse corrupt figures with a clear message.
import { describe, expect, it } from "vitest";
import { buildReport } from "../../src/report/report.js";
import { CONFIGS, makeResults, type RunSpec } from "./fixture.js";

// "undefined" as a printed value, not in a sentence such as "t is undefined" (a test's note).
const clean = (doc: string) =>
  expect(doc.match(/.{0,60}(NaN|(?<!(is|are) )undefined|Infinity|\bnull\b).{0,20}/)?.[0]).toBeUndefined();
const spec = (config: RunSpec["config"], kJ: number, extra: Partial<RunSpec> = {}): RunSpec => ({
  config,
  gpuTrainJ: kJ * 1000 - 1000,
  gpuTestJ: 1000,
  cpuTrainJ: 2000,
  ...extra,
});

describe("degenerate suites", () => {
  it("one replicate per configuration: no interval, no tests, and says so", async () => {
    const { data, html, markdown } = await buildReport(
      makeResults([spec(CONFIGS[0], 10), spec(CONFIGS[1], 8)]),
    );
    for (const c of data.configurations) {
      expect(c.energy.metric?.n).toBe(1);
      expect(c.energy.metric?.ci95).toBeNull();
      expect(c.energy.metric?.sd).toBeNull();
    }
    expect(data.statistics?.anova.result).toBeNull();
    expect(data.statistics?.anova.note).toMatch(/at least 2 configurations with 2 or more/);
    expect(data.statistics?.pairwise[0].pHolm).toBeNull();
    expect(data.statistics?.power.result).toBeNull();
    expect(data.statistics?.shapiro.every((s) => s.w === null && /at least 3/.test(s.note ?? ""))).toBe(true);
    expect(data.conclusion[0]).toMatch(/used the least energy: 8 kJ per run \(no CI: a single run/);
    expect(data.caveats.join(" ")).toMatch(/Fewer than 3 completed runs/);
    expect(markdown).toContain("— (1 run)");
    clean(html);
    clean(markdown);
  });

  it("a single configuration: nothing to compare, power from its own SD", async () => {
    const { data, html, markdown } = await buildReport(
      makeResults([spec(CONFIGS[0], 10), spec(CONFIGS[0], 10.4), spec(CONFIGS[0], 9.6)]),
    );
    expect(data.configurations).toHaveLength(1);
    expect(data.statistics?.pairwise).toEqual([]);
    expect(data.statistics?.anova.result).toBeNull();
    expect(data.statistics?.tukey.result).toBeNull();
    expect(data.conclusion[0]).toMatch(/^Only one configuration completed \(f32-b32-n1024\)/);
    // SD 0.4 kJ, a 5 % difference of 10 kJ is 0.5 kJ: d = 1.25.
    expect(data.statistics?.power.result?.effect).toBeCloseTo(1.25, 12);
    clean(html);
    clean(markdown);
  });

  it("zero variance everywhere: the F and t tests are undefined, intervals collapse, no NaN", async () => {
    const { data, html, markdown } = await buildReport(
      makeResults([spec(CONFIGS[0], 10), spec(CONFIGS[0], 10), spec(CONFIGS[1], 9), spec(CONFIGS[1], 9)]),
    );
    const m = data.configurations[0].energy.metric;
    expect(m?.sd).toBe(0);
    expect(m?.ci95).toEqual([10, 10]);
    expect(data.statistics?.anova.result).toBeNull();
    expect(data.statistics?.anova.note).toMatch(/zero variance/);
    expect(data.statistics?.welch.result).toBeNull();
    expect(data.statistics?.pairwise[0].t).toBeNull();
    expect(data.statistics?.pairwise[0].note).toMatch(/zero variance/);
    expect(data.statistics?.power.note).toMatch(/identical energies/);
    expect(data.conclusion.join(" ")).toMatch(/not testable/);
    clean(html);
    clean(markdown);
  });

  it("nothing completed: a report that says so, listing the runs", async () => {
    const { data, html, markdown } = await buildReport(
      makeResults([
        spec(CONFIGS[0], 10, { status: "failed" }),
        spec(CONFIGS[1], 10, { status: "interrupted" }),
      ]),
    );
    expect(data.completed).toBe(0);
    expect(data.metric).toBeNull();
    expect(data.statistics).toBeNull();
    expect(data.conclusion).toEqual(["No run completed, so there is nothing to compare yet."]);
    expect(data.excluded.map((r) => r.status)).toEqual(["failed", "interrupted"]);
    clean(html);
    clean(markdown);
  });

  it("no idle baseline: gross energy, said in a caveat", async () => {
    const { data } = await buildReport(
      makeResults([spec(CONFIGS[0], 10, { noBaseline: true }), spec(CONFIGS[0], 11, { noBaseline: true })]),
    );
    expect(data.metric?.basis).toBe("gross");
    // Gross = net + 20 W × 110 s = +2.2 kJ.
    expect(data.runs.map((r) => r.metricKJ)).toEqual([12.2, 13.2].map((x) => expect.closeTo(x, 12)));
    expect(data.caveats.join(" ")).toMatch(/no idle baseline/);
  });

  it("short runs are flagged", async () => {
    const { data } = await buildReport(makeResults([spec(CONFIGS[0], 1, { trainS: 40, testS: 5 })]));
    expect(data.runs[0].seconds).toBe(45);
    expect(data.caveats.join(" ")).toMatch(/1 of 1 runs lasted under 60 s/);
  });

  it("only estimates: compared as total with estimates, labelled and flagged", async () => {
    const results = makeResults([spec(CONFIGS[0], 10), spec(CONFIGS[0], 11)]);
    for (const r of results.runs) for (const e of r.energy) e.provenance = "estimated";
    const { data, html } = await buildReport(results);
    expect(data.metric).toMatchObject({ kind: "total", components: ["gpu", "cpu"], provenance: "estimated" });
    // GPU + CPU's 2 kJ.
    expect(data.runs.map((r) => r.metricKJ)).toEqual([12, 13].map((x) => expect.closeTo(x, 12)));
    expect(data.runs[0].measuredKJ).toBeNull();
    expect(data.caveats.join(" ")).toMatch(/includes estimated components/);
    clean(html);
  });

  it("a NaN energy from the store is refused, naming the run and field", async () => {
    const results = makeResults([spec(CONFIGS[0], 10)]);
    results.runs[0].energy[2].netJ = Number.NaN;
    await expect(buildReport(results)).rejects.toThrow(
      /run 1 \(f32-b32-n1024 #1\): energy\[2\] \(train\/gpu\) field netJ is not a finite number/,
    );
  });
});
