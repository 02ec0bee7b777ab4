// report.html in headless Chromium (Debian's chromium, driven by playwright-core): every chart is
// there with visible marks, nothing is fetched, no script runs; a screenshot goes to docs/.
// Without chromium the test is skipped (and says why) — except under CI, where it fails.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { writeReport } from "../../src/report/report.js";
import { mainFixture } from "./fixture.js";

const CHROMIUM = "/usr/bin/chromium";
const present = existsSync(CHROMIUM);
if (!present && !process.env.CI)
  console.warn(`report-render: skipped, ${CHROMIUM} is not installed (CI would fail)`);

describe.skipIf(!present && !process.env.CI)("report.html in headless Chromium", () => {
  const dir = mkdtempSync(join(tmpdir(), "halfwatt-report-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("shows every chart with non-empty marks, fetches nothing, and is screenshotted", async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is required under CI`).toBe(true);
    const report = await writeReport(mainFixture(), dir, { generatedAt: new Date("2026-02-03T04:05:06Z") });
    const expected = [...report.charts.keys()];
    expect(expected).toEqual([
      "energy-per-sample",
      "energy",
      "mean-power",
      "timeline-f32-b32-n1024",
      "timeline-mixed-b32-n1024",
      "timeline-mixed-b256-n1024",
      "train-loss",
      "valid-accuracy",
    ]);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
    try {
      const page = await browser.newPage({
        viewport: { width: 1200, height: 900 },
        javaScriptEnabled: false,
      });
      const fetched: string[] = [];
      page.on("request", (r) => {
        if (!r.url().startsWith("file:")) fetched.push(r.url());
      });
      await page.goto(`file://${join(dir, "report.html")}`);
      const charts = await page.$$eval("figure.chart", (figures) =>
        figures.map((f) => {
          const svg = f.querySelector("svg");
          const box = svg?.getBoundingClientRect();
          // Marks: the shapes vega draws for data (bars, lines, rules, points, shaded phases).
          const marks = svg
            ? [...svg.querySelectorAll("g.role-mark path, g.role-mark line, g.role-mark rect")]
            : [];
          const sized = marks.filter((m) => {
            const b = (m as SVGGraphicsElement).getBBox();
            return b.width > 0 || b.height > 0;
          });
          return {
            name: f.getAttribute("data-chart"),
            width: box?.width ?? 0,
            height: box?.height ?? 0,
            marks: marks.length,
            sized: sized.length,
          };
        }),
      );
      expect(charts.map((c) => c.name)).toEqual(expected);
      for (const c of charts) {
        expect(c.width, c.name ?? "").toBeGreaterThan(100);
        expect(c.height, c.name ?? "").toBeGreaterThan(100);
        expect(c.sized, `${c.name}: marks with a size`).toBeGreaterThan(0);
      }
      // The energy chart: 3 configurations × 5 bars (gpu, cpu, dram, two totals) with a size.
      const energy = charts.find((c) => c.name === "energy");
      expect(energy?.sized).toBeGreaterThanOrEqual(15);
      expect(fetched).toEqual([]);
      expect(await page.$$("script")).toHaveLength(0);
      expect(await page.textContent("h1")).toContain("fixture-suite");
      // The README's screenshot is refreshed on request only: a test run leaves the tree clean.
      if (process.env.HALFWATT_UPDATE_SCREENSHOT)
        await page.screenshot({ path: join(process.cwd(), "docs", "report-screenshot.png"), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
