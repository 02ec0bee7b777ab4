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
import type { ReportData } from "../../src/report/types.js";
import { mainFixture, writeStore } from "./fixture.js";

const dir = mkdtempSync(join(tmpdir(), "halfwatt-report-store-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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
  writeStore(mainFixture(), db);

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
