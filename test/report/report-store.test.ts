// `halfwatt report DB --out DIR --json` on a real results store (src/experiment/store.ts): the
// fixture's runs written through the store's API, the report's numbers compared with the store's
// own energy rows, the files written, and bad arguments refused with clear messages.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, describe, expect, it, vi } from "vitest";
import { pickSuite, register } from "../../src/cli/commands/report.js";
import { openStore } from "../../src/experiment/store.js";
import type { PlannedRun } from "../../src/experiment/types.js";
import type { ReportData } from "../../src/report/types.js";
import { mainFixture } from "./fixture.js";

const dir = mkdtempSync(join(tmpdir(), "halfwatt-report-store-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes the fixture into a new store at `path` through the runner's calls. */
function writeFixtureStore(path: string): void {
  const fixture = mainFixture();
  const plan: PlannedRun[] = fixture.runs.map((r) => ({
    index: r.index,
    block: r.block,
    configId: r.configId,
    replicate: r.replicate,
    seed: r.seed,
  }));
  const store = openStore(path);
  try {
    const suite = store.openSuite(fixture.suite.spec, plan);
    for (const [i, r] of fixture.runs.entries()) {
      const id = store.startRun(
        suite.id,
        plan[i],
        r.config,
        r.env ?? { adapter: "", driver: null, hostname: "", versions: {} },
        null,
      );
      if (r.status !== "completed") {
        store.failRun(id, "failed", r.error ?? "failed");
        continue;
      }
      for (const e of r.epochs) store.addEpoch(id, e);
      store.addSamples(id, fixture.samples(r.id));
      store.finishRun(id, {
        seconds: r.seconds ?? 0,
        test: r.test,
        lossScale: r.lossScale,
        kernels: r.kernels,
        phases: r.phases,
        energy: r.energy,
        carbon: r.carbon ?? { intensity: 0, pue: 1, source: "" },
      });
    }
  } finally {
    store.close();
  }
}

async function cli(args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  register(program);
  let out = "";
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(["node", "halfwatt", ...args]);
  } finally {
    spy.mockRestore();
  }
  return out;
}

describe("halfwatt report on a results store", () => {
  const db = join(dir, "results.db");
  writeFixtureStore(db);

  it("reports the store's numbers and writes report.html, report.md and the charts", async () => {
    const out = join(dir, "out");
    const json = JSON.parse(await cli(["report", db, "--out", out, "--json"])) as {
      files: string[];
      data: ReportData;
    };
    expect(existsSync(join(out, "report.html"))).toBe(true);
    expect(readFileSync(join(out, "report.md"), "utf8")).toContain("charts/energy.svg");
    expect(existsSync(join(out, "charts", "energy.svg"))).toBe(true);
    // The numbers against the store's own rows: Σ net J of the GPU totals in train and test.
    const store = openStore(db, { readonly: true });
    try {
      const results = store.results(store.suites()[0].id);
      const completed = results.runs.filter((r) => r.status === "completed");
      expect(json.data.runs).toHaveLength(completed.length);
      for (const r of completed) {
        const expected =
          r.energy
            .filter(
              (e) =>
                e.channel === null && e.component === "gpu" && (e.phase === "train" || e.phase === "test"),
            )
            .reduce((s, e) => s + (e.netJ ?? 0), 0) / 1000;
        const got = json.data.runs.find((x) => x.runId === r.id);
        expect(got?.metricKJ).toBeCloseTo(expected, 12);
      }
      expect(json.data.excluded.map((r) => r.status)).toEqual(["failed"]);
      expect(json.data.conclusion[0]).toMatch(/^mixed-b256-n1024 used the least energy/);
    } finally {
      store.close();
    }
  });

  it("picks a suite by name or id, the most recent by default, and names the choices when wrong", async () => {
    const store = {
      suites: () => [
        { id: 1, name: "a" },
        { id: 3, name: "b" },
      ],
    };
    expect(pickSuite(store, undefined, "x.db")).toBe(3);
    expect(pickSuite(store, "a", "x.db")).toBe(1);
    expect(pickSuite(store, "3", "x.db")).toBe(3);
    expect(() => pickSuite(store, "c", "x.db")).toThrow(
      /x\.db: no suite named "c"; the store holds "a" \(id 1\), "b" \(id 3\)/,
    );
    expect(() => pickSuite({ suites: () => [] }, undefined, "x.db")).toThrow(/holds no suite/);
    await expect(cli(["report", join(dir, "missing.db"), "--out", dir])).rejects.toThrow(
      /missing\.db: no such results store/,
    );
  });
});
