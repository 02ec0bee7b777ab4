// Issue 12's ranges in the report: an estimated component's model bounds, summed per run, shown
// beside the total with estimates; measured-only figures are untouched.
import { describe, expect, it } from "vitest";
import { buildReport } from "../../src/report/report.js";
import { CONFIGS, makeResults } from "./fixture.js";

describe("report ranges", () => {
  it("sums each run's model bounds (net, train + test) into the total with estimates, and prints them", async () => {
    const results = makeResults([
      { config: CONFIGS[0], gpuTrainJ: 9000, gpuTestJ: 1000, cpuTrainJ: 2000 },
      { config: CONFIGS[0], gpuTrainJ: 9500, gpuTestJ: 1000, cpuTrainJ: 2000 },
    ]);
    const run = results.runs[0];
    // Give the cpu total rows of train and test bounds by hand: net low = 0.5·net, high = 2·net.
    let wantLow = 0;
    let wantHigh = 0;
    for (const e of run.energy)
      if (
        e.channel === null &&
        e.component === "cpu" &&
        (e.phase === "train" || e.phase === "test") &&
        e.netJ !== null
      ) {
        e.netLowJ = 0.5 * e.netJ;
        e.netHighJ = 2 * e.netJ;
        wantLow += 0.5 * e.netJ;
        wantHigh += 2 * e.netJ;
      }
    const { data, markdown } = await buildReport(results);
    const r = data.runs.find((x) => x.runId === run.id);
    const other = data.runs.find((x) => x.runId !== run.id);
    if (!r || !other) throw new Error("fixture");
    const gpu = r.components.gpu?.kJ ?? 0;
    const dram = r.components.dram?.kJ ?? 0;
    expect(r.totalLowKJ).toBeCloseTo(gpu + dram + wantLow / 1000, 9);
    expect(r.totalHighKJ).toBeCloseTo(gpu + dram + wantHigh / 1000, 9);
    expect(r.totalLowKJ).toBeLessThan(r.totalKJ);
    expect(r.totalHighKJ).toBeGreaterThan(r.totalKJ);
    // A run without bounds in the store: the range collapses to the value.
    expect(other.totalLowKJ).toBe(other.totalKJ);
    expect(other.totalHighKJ).toBe(other.totalKJ);
    expect(markdown).toMatch(/Total with estimates \(kJ\) \[models' range\]/);
    expect(markdown).toMatch(/\[\d[\d.e-]*, \d[\d.e-]*\] \(estimated\)/);
  });
});
