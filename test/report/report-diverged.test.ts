// Diverged runs (src/experiment/divergence.ts) in the report: kept in the store, listed as left
// out, never in a mean, an interval or a test. The oracle is the fixture's hand-set energies: a
// configuration whose runs all diverged (short, so cheap: 2 kJ against 11) would otherwise come out
// "a real difference at the 5 % level", which is what issue 17 saw from a suite of `--lr 1e30` runs.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/experiment/store.js";
import type { SuiteResults } from "../../src/experiment/types.js";
import { buildReport } from "../../src/report/report.js";
import { CONFIGS, makeResults, type RunSpec, writeStore } from "./fixture.js";

const dir = mkdtempSync(join(tmpdir(), "halfwatt-diverged-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const REASON = "epoch 1: training loss NaN (not finite)";
const run = (config: RunSpec["config"], kJ: number): RunSpec => ({
  config,
  gpuTrainJ: kJ * 1000 - 1000,
  gpuTestJ: 1000,
  cpuTrainJ: 2000,
});

/** f32 trained (11.0, 11.2, 10.8 kJ); mixed-b32's three runs diverged early (2.0, 2.1, 2.2 kJ). */
function fixture(allDiverged = false): SuiteResults {
  const results = makeResults([
    run(CONFIGS[0], 11.0),
    run(CONFIGS[1], 2.0),
    run(CONFIGS[0], 11.2),
    run(CONFIGS[1], 2.1),
    run(CONFIGS[0], 10.8),
    run(CONFIGS[1], 2.2),
  ]);
  for (const r of results.runs)
    if (allDiverged || r.configId === CONFIGS[1].id) Object.assign(r, { diverged: REASON });
  return results;
}

describe("diverged runs in the report", () => {
  it("are left out of every figure and test, listed with why, with a caveat stating the rule", async () => {
    const { data, html, markdown } = await buildReport(fixture());
    expect(data.configurations.map((c) => c.id)).toEqual([CONFIGS[0].id]);
    expect(data.runs.map((r) => r.configId)).toEqual([CONFIGS[0].id, CONFIGS[0].id, CONFIGS[0].id]);
    expect(data.completed).toBe(3);
    // Mean of the three f32 runs, by hand: (11.0 + 11.2 + 10.8) / 3 = 11.0 kJ.
    expect(data.configurations[0].energy.metric?.mean).toBeCloseTo(11.0, 9);
    expect(data.statistics?.pairwise ?? []).toEqual([]);
    const text = [...data.conclusion, ...data.caveats].join(" ");
    expect(text).not.toMatch(/real difference/);
    expect(data.conclusion[0]).toMatch(/Only one configuration completed \(f32-b32-n1024\)/);
    expect(data.caveats.join(" ")).toMatch(
      /3 run\(s\) diverged \(mixed-b32-n1024\).*non-finite training loss.*10× the first epoch's.*left out/,
    );
    expect(data.excluded.map((r) => [r.configId, r.status, r.error])).toEqual([
      [CONFIGS[1].id, "diverged", REASON],
      [CONFIGS[1].id, "diverged", REASON],
      [CONFIGS[1].id, "diverged", REASON],
    ]);
    // The suite ran its plan: not "unfinished".
    expect(data.finished).toBe(true);
    for (const doc of [html, markdown]) expect(doc).toContain(REASON);
  });

  it("a suite whose every run diverged compares nothing, however unlike their energies", async () => {
    const { data } = await buildReport(fixture(true));
    expect(data.configurations).toEqual([]);
    expect(data.statistics).toBeNull();
    expect(data.conclusion.join(" ")).not.toMatch(/real difference|least energy/);
    expect(data.conclusion[0]).toMatch(/No run trained to completion \(6 diverged\)/);
  });

  it("the store keeps the mark (migration runs.diverged) and the report read from it leaves them out", async () => {
    const path = join(dir, "diverged.sqlite");
    writeStore(fixture(), path);
    const store = openStore(path, { readonly: true });
    try {
      const id = store.suites()[0].id;
      const results = store.results(id);
      expect(results.runs.map((r) => r.diverged ?? null)).toEqual([null, REASON, null, REASON, null, REASON]);
      expect(results.runs.every((r) => r.status === "completed")).toBe(true);
      // Completed in the plan's sense: a resume does not redo them.
      expect(store.completedIndices(id).size).toBe(6);
      const { data } = await buildReport(results);
      expect(data.configurations.map((c) => c.id)).toEqual([CONFIGS[0].id]);
    } finally {
      store.close();
    }
  });
});
