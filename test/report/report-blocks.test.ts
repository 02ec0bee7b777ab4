// A suite whose runs ran on two GPUs of one host (fixture twoBlockFixture): the device is a blocking
// factor. The blocked ANOVA's sums of squares against the balanced RCBD's textbook formulas worked
// here by hand, the blocked F larger than the one-way F when the device offset is large, the tables
// in report.md and report.html, the conclusion's choice of p, the per-device idle power and the
// shared-energy note — and, with one device, none of it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/experiment/store.js";
import { buildReport } from "../../src/report/report.js";
import { fSf } from "../../src/stats/index.js";
import {
  CONFIGS,
  mainFixture,
  TWO_BLOCK_IDLE_W,
  TWO_BLOCK_KJ,
  twoBlockFixture,
  writeStore,
} from "./fixture.js";

const close = (a: number | undefined, b: number, rel = 1e-10) =>
  expect(Math.abs((a ?? Number.NaN) - b)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(b)));
const meanOf = (x: number[]) => x.reduce((s, v) => s + v, 0) / x.length;
const GPU0 = "node-a · GPU 0";
const GPU1 = "node-a · GPU 1";

/**
 * The balanced RCBD by hand (Montgomery ch. 4, several runs per cell): with a configurations,
 * b blocks, r runs per cell, N = abr: SS_T = br Σ (ȳ_i − ȳ)², SS_B = ar Σ (ȳ_j − ȳ)²,
 * SS_E = SS_total − SS_T − SS_B, df_E = N − a − b + 1; the one-way ANOVA's error is SS_total − SS_T
 * on N − a df.
 */
function byHand(offset: number) {
  const ids = CONFIGS.map((c) => c.id);
  const y = ids.map((id) => TWO_BLOCK_KJ[id].map((v, rep) => v + (rep % 2) * offset));
  const all = y.flat();
  const grand = meanOf(all);
  const ssTotal = all.reduce((s, v) => s + (v - grand) ** 2, 0);
  const ssT = 4 * y.reduce((s, row) => s + (meanOf(row) - grand) ** 2, 0);
  const blockMean = (gpu: number) => meanOf(y.flatMap((row) => row.filter((_, rep) => rep % 2 === gpu)));
  const ssB = 6 * ((blockMean(0) - grand) ** 2 + (blockMean(1) - grand) ** 2);
  const ssE = ssTotal - ssT - ssB;
  const msE = ssE / 8;
  return {
    ssT,
    ssB,
    ssE,
    ssTotal,
    f: ssT / 2 / msE,
    fBlock: ssB / 1 / msE,
    oneWayF: ssT / 2 / ((ssTotal - ssT) / 9),
    // Relative efficiency: σ̂²_CRD = (SS_B + (df_T + df_E)·MS_E)/(N − 1), df_RCBD = 8, df_CRD = 9.
    re: (((8 + 1) * (9 + 3)) / ((8 + 3) * (9 + 1))) * ((ssB + 10 * msE) / 11 / msE),
  };
}

describe("runs on two GPUs with a large device offset", async () => {
  const offset = 2;
  const { data, markdown, html } = await buildReport(twoBlockFixture(offset), {
    generatedAt: new Date("2026-02-03T04:05:06Z"),
  });
  const hand = byHand(offset);

  it("labels every run with its device and lists the blocks with their runs", () => {
    for (const r of data.runs) expect(r.block).toBe(r.replicate % 2 === 1 ? GPU0 : GPU1);
    expect(data.blocks.map((b) => b.label)).toEqual([GPU0, GPU1]);
    for (const b of data.blocks) expect(b.runs).toEqual(Object.fromEntries(CONFIGS.map((c) => [c.id, 2])));
  });

  it("blocked ANOVA: the balanced RCBD's sums of squares, F and p, worked by hand", () => {
    const b = data.statistics?.blocked?.result;
    expect(b).toBeTruthy();
    close(b?.configuration.ss, hand.ssT);
    close(b?.block.ss, hand.ssB);
    close(b?.residual.ss, hand.ssE);
    close(b?.total.ss, hand.ssTotal);
    expect([b?.configuration.df, b?.block.df, b?.residual.df]).toEqual([2, 1, 8]);
    close(b?.configuration.f, hand.f);
    close(b?.block.f, hand.fBlock);
    close(b?.configuration.p, fSf(hand.f, 2, 8), 1e-9);
    close(b?.partialEtaSquared, hand.ssT / (hand.ssT + hand.ssE));
    close(b?.relativeEfficiency, hand.re);
    expect(b?.balanced).toBe(true);
  });

  it("the blocked F for configuration is larger than the one-way F (the offset left the error)", () => {
    const oneWay = data.statistics?.anova.result;
    close(oneWay?.f, hand.oneWayF);
    expect(data.statistics?.blocked?.result?.configuration.f).toBeGreaterThan((oneWay?.f ?? 0) * 5);
    expect(data.statistics?.blocked?.result?.relativeEfficiency).toBeGreaterThan(1);
  });

  it("the conclusion uses the blocked test's p and says so", () => {
    const b = data.statistics?.blocked?.result;
    const text = data.conclusion.join(" ");
    expect(text).toMatch(/with the device as a blocking factor \(2 devices\)/);
    expect(text).toContain(`F(2, 8) = `);
    expect(text).toMatch(/this p, not the one-way ANOVA's/);
    expect(text).not.toMatch(/Across all configurations, one-way ANOVA gives/);
    expect(b?.configuration.p).toBeLessThan(data.statistics?.anova.result?.p ?? 0);
  });

  it("per-device idle GPU power from the idle-baseline phase, and the shared-energy note", () => {
    expect(data.blocks.map((b) => b.idleGpuW?.mean)).toEqual(TWO_BLOCK_IDLE_W);
    expect(data.blocks.map((b) => b.idleGpuW?.n)).toEqual([6, 6]);
    expect(data.blocks.map((b) => b.overlapped)).toEqual([6, 6]);
    expect(
      data.runs.every((r) => r.overlapped && r.components.cpu?.shared && !r.components.gpu?.shared),
    ).toBe(true);
    expect(data.caveats.join(" ")).toMatch(/12 runs overlapped .* \(estimated, shared\)/);
  });

  for (const [name, doc] of [
    ["report.md", () => markdown],
    ["report.html", () => html],
  ] as const)
    it(`${name} shows the blocked table beside the one-way one, runs per device and idle power`, () => {
      const text = doc();
      expect(text).toContain("One-way ANOVA");
      expect(text).toMatch(/Blocked ANOVA: randomised complete block design/);
      expect(text).toContain("Device (block)");
      expect(text).toMatch(/Relative efficiency of the blocked design against a completely randomised one: /);
      expect(text).toContain("Completed runs per device (block) and configuration");
      expect(text).toContain("Idle GPU power per device");
      expect(text).toContain("estimated, shared");
      // The per-configuration table marks CPU (shared) but not the GPU (its own counter).
      const cpuRow =
        name === "report.md"
          ? /f32-b32-n1024 \| 4 \| cpu \| 2 \| .* \| estimated, shared \|/
          : /<td>cpu<\/td>.*?<td>estimated, shared<\/td>/;
      const gpuRow =
        name === "report.md"
          ? /f32-b32-n1024 \| 4 \| gpu \| [^\n]* \| counter \|/
          : /<td>gpu<\/td>(?:<td>[^<]*<\/td>){3}<td>counter<\/td>/;
      expect(text).toMatch(cpuRow);
      expect(text).toMatch(gpuRow);
      expect(text).toContain(GPU1);
      // The blocked table precedes the pairwise tests: it sits with the one-way ANOVA.
      expect(text.indexOf("Blocked ANOVA")).toBeGreaterThan(text.indexOf("One-way ANOVA"));
      expect(text.indexOf("Blocked ANOVA")).toBeLessThan(text.indexOf("Pairwise Welch"));
    });
});

describe("no device offset: blocking does not help", async () => {
  const { data } = await buildReport(twoBlockFixture(0));
  it("the block row is small and the relative efficiency is below 1", () => {
    const hand = byHand(0);
    const b = data.statistics?.blocked?.result;
    close(b?.block.ss, hand.ssB);
    close(b?.relativeEfficiency, hand.re);
    expect(hand.re).toBeLessThan(1);
  });
});

describe("unbalanced: a run missing on GPU 1", async () => {
  // mixed-b256's replicate 2 (on GPU 1) failed and is not in the store's completed runs.
  const { data, markdown } = await buildReport(twoBlockFixture(2, { drop: [["mixed-b256-n1024", 2]] }));
  it("type II sums of squares, and the table says the design is unbalanced", () => {
    const b = data.statistics?.blocked?.result;
    expect(b?.balanced).toBe(false);
    expect(b?.residual.df).toBe(11 - 3 - 2 + 1);
    expect(b?.note).toMatch(/unbalanced .*type II/);
    expect(markdown).toMatch(/unbalanced .*type II/);
    expect(data.blocks.find((x) => x.label === GPU1)?.runs["mixed-b256-n1024"]).toBe(1);
  });
});

describe("devices linked only through one configuration", async () => {
  // f32 only on GPU 0, mixed-b256 only on GPU 1, mixed-b32 on both: connected through mixed-b32.
  const results = twoBlockFixture(2);
  results.runs = results.runs.filter(
    (r) => r.configId === "mixed-b32-n1024" || (r.configId === "f32-b32-n1024") === (r.env?.gpu?.index === 0),
  );
  const { data } = await buildReport(results);
  it("is still computed (type II, unbalanced)", () => {
    expect(data.statistics?.blocked?.result?.balanced).toBe(false);
    expect(data.statistics?.blocked?.result?.note).toMatch(/missing: f32-b32-n1024 in node-a · GPU 1/);
  });
});

describe("devices that share no configuration: confounded", async () => {
  // f32 only on GPU 0, both mixed configurations only on GPU 1: device and precision cannot be told apart.
  const results = twoBlockFixture(2);
  results.runs = results.runs.filter((r) => (r.configId === "f32-b32-n1024") === (r.env?.gpu?.index === 0));
  const { data, markdown } = await buildReport(results);
  it("the blocked ANOVA is not computed, with the reason, and a caveat", () => {
    expect(data.statistics?.blocked?.result).toBeNull();
    expect(data.statistics?.blocked?.note).toMatch(/share no block/);
    expect(markdown).toMatch(/Blocked ANOVA \(configuration \+ device\) not computed: .*share no block/);
    expect(data.caveats.join(" ")).toMatch(/ran on 2 devices but the blocked ANOVA could not be computed/);
    expect(data.statistics?.anova.result).toBeTruthy();
  });
});

describe("one device: nothing new appears", async () => {
  const { data, markdown, html } = await buildReport(mainFixture());
  it("no blocked ANOVA, no device column or tables, the one-way sentence in the conclusion", () => {
    expect(data.statistics?.blocked).toBeNull();
    expect(data.blocks).toHaveLength(1);
    expect(data.blocks[0].label).toBe("test-host · GPU 0");
    for (const text of [markdown, html]) {
      expect(text).not.toContain("Blocked ANOVA");
      expect(text).not.toContain("Completed runs per device");
      expect(text).not.toContain("Idle GPU power per device");
      expect(text).not.toContain("shared");
      expect(text).not.toContain("Device");
    }
    expect(data.conclusion.join(" ")).toMatch(/Across all configurations, one-way ANOVA gives/);
  });
});

describe("through a real results store", () => {
  const dir = mkdtempSync(join(tmpdir(), "halfwatt-report-blocks-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it("the device, overlap and shared rows survive the store, and the report blocks on them", async () => {
    const path = join(dir, "suite.db");
    writeStore(twoBlockFixture(2), path);
    const store = openStore(path);
    try {
      const results = store.results(store.suites()[0].id);
      const { data } = await buildReport(results);
      expect(data.blocks.map((b) => b.label)).toEqual([GPU0, GPU1]);
      expect(data.blocks.map((b) => b.idleGpuW?.mean)).toEqual(TWO_BLOCK_IDLE_W);
      expect(data.runs.every((r) => r.components.cpu?.shared)).toBe(true);
      close(data.statistics?.blocked?.result?.configuration.f, byHand(2).f);
    } finally {
      store.close();
    }
  });
});
