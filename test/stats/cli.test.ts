// `halfwatt stats …` and `halfwatt carbon …`: the command functions, the commander wiring (in
// process, stdout captured), and — when the package has been built — the real binary.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { Command } from "commander";
import { afterEach, describe, expect, it, vi } from "vitest";
import { register as registerCarbon } from "../../src/cli/commands/carbon.js";
import {
  register as registerStats,
  statsAnova,
  statsDescribe,
  statsPower,
  statsTTest,
} from "../../src/cli/commands/stats.js";
import { toJson } from "../../src/report/format.js";
import { readGroupsCsv, tTest } from "../../src/stats/index.js";
import { expectDigits } from "./close.js";

const WIDE = "test/data/dissertation-table4-wide.csv";
const LONG = "test/data/dissertation-table4-long.csv";
const SUMMARY = "test/data/dissertation-table8-summary.csv";

/** Run the commands in process; returns what they wrote to stdout. */
async function run(...args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  registerStats(program);
  registerCarbon(program);
  let out = "";
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
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

afterEach(() => vi.restoreAllMocks());

describe("stats command functions", () => {
  it("wide and long layouts give the same groups", () => {
    const values = (file: string) => readGroupsCsv(file).map((g) => ({ name: g.name, values: g.values }));
    expect(values(LONG)).toEqual(values(WIDE));
  });

  it("anova --summary reproduces Table 7 and prints it like Excel", () => {
    const out = statsAnova(SUMMARY, { summary: true });
    const json = out.json as { f: number; p: number; fCritical: number; between: { ss: number } };
    expectDigits(json.f, 0.00302786, 8, "F");
    expectDigits(json.p, 0.999756527, 9, "p");
    for (const label of [
      "Source of Variation",
      "Between Groups",
      "Within Groups",
      "Total",
      "F crit",
      "P-value",
    ])
      expect(out.text).toContain(label);
    expect(out.text).toContain("41.99546875");
    expect(out.text).toContain("3.490294819");
  });

  it("describe JSON has the documented keys", () => {
    const json = statsDescribe(readGroupsCsv(WIDE)).json as { groups: Record<string, unknown>[] };
    expect(Object.keys(json.groups[0]).sort()).toEqual(
      [
        "name",
        "count",
        "sum",
        "mean",
        "variance",
        "sd",
        "sem",
        "skewness",
        "kurtosis",
        "min",
        "max",
        "ci95",
      ].sort(),
    );
  });

  it("one-sided t-test: the open CI bound is null in JSON", () => {
    const out = statsTTest(readGroupsCsv(WIDE), {
      a: "Benchmarking",
      b: "3rd Experiment",
      paired: true,
      alternative: "greater",
    });
    const json = JSON.parse(toJson(out.json));
    expect(json.ci[1]).toBeNull();
    expect(Object.keys(json).sort()).toEqual([
      "ci",
      "cohensD",
      "df",
      "droppedRows",
      "hedgesG",
      "meanDifference",
      "n",
      "p",
      "t",
    ]);
  });

  it("power reports n per group (and totals) or the power of a given n", () => {
    expect((statsPower({ test: "ttest", effect: 0.5 }).json as { n: number }).n).toBe(64);
    const anovaN = statsPower({ test: "anova", effect: 0.25, groups: 4 }).json as {
      n: number;
      nTotal: number;
    };
    expect([anovaN.n, anovaN.nTotal]).toEqual([45, 180]);
    const p = (statsPower({ test: "ttest", effect: 0.5, n: 64 }).json as { power: number }).power;
    expect(p).toBeGreaterThan(0.8);
    expect(p).toBeLessThan(0.81);
  });
});

describe("commander wiring (in process)", () => {
  it("stats variance --json: Levene, Brown–Forsythe and pairs", async () => {
    const json = JSON.parse(await run("stats", "variance", WIDE, "--json"));
    expect(Object.keys(json).sort()).toEqual(["brownForsythe", "levene", "pairs"]);
    expect(json.pairs).toHaveLength(6);
    expect(json.pairs[0]).toMatchObject({ a: "Benchmarking", b: "1st Experiment" });
  });

  it("stats pairwise with Bonferroni, like the dissertation's six one-sided paired tests", async () => {
    const json = JSON.parse(
      await run(
        "stats",
        "pairwise",
        WIDE,
        "--paired",
        "--alternative",
        "greater",
        "--correction",
        "bonferroni",
        "--json",
      ),
    );
    expect(json.correction).toBe("bonferroni");
    expect(json.comparisons).toHaveLength(6);
    for (const c of json.comparisons) {
      expectDigits(c.pAdjusted, Math.min(1, 6 * c.p), 14, "bonferroni");
      expect(c.reject).toBe(false);
    }
  });

  it("stats tukey, normality, describe and anova print tables", async () => {
    expect(await run("stats", "tukey", WIDE)).toContain("Tukey HSD");
    expect(await run("stats", "normality", WIDE)).toContain("Shapiro–Wilk");
    expect(await run("stats", "describe", LONG)).toContain("Standard Error");
    expect(await run("stats", "anova", WIDE, "--welch")).toContain("Welch");
  });

  it("carbon: several --watts values, kWh and gCO2e, and the unit note", async () => {
    const text = await run(
      "carbon",
      "--watts",
      "167",
      "160",
      "160",
      "157",
      "--hours",
      "2",
      "--intensity",
      "268",
    );
    expect(text).toContain("89.512");
    expect(text).toContain("84.152");
    expect(text).toMatch(/labels the footprint "gCO2e\/kWh"/);
    const json = JSON.parse(
      await run("carbon", "--watts", "167", "--hours", "2", "--intensity", "268", "--json"),
    );
    expectDigits(json.rows[0].kwh, 0.334, 12, "kWh");
    expectDigits(json.rows[0].gco2e, 89.512, 10, "gCO2e");
  });

  it("stats tost: the dissertation's GPU/CPU/RAM/wall watts, Welch, against the one-sided t-tests by hand", async () => {
    const groups = readGroupsCsv(WIDE);
    const a = Array.from(groups[0].values);
    const b = Array.from(groups[1].values);
    const json = JSON.parse(
      await run(
        "stats",
        "tost",
        WIDE,
        "--a",
        "Benchmarking",
        "--b",
        "1st Experiment",
        "--margin",
        "5",
        "--json",
      ),
    );
    // TOST = the t-test of A − low against B (greater) and of A − high against B (less).
    const lower = tTest(
      a.map((x) => x + 5),
      b,
      { kind: "welch", alternative: "greater" },
    );
    const upper = tTest(
      a.map((x) => x - 5),
      b,
      { kind: "welch", alternative: "less" },
    );
    expectDigits(json.lower.p, lower.p, 12, "p low");
    expectDigits(json.upper.p, upper.p, 12, "p high");
    expectDigits(json.p, Math.max(lower.p, upper.p), 12, "p");
    expect(json.low).toBe(-5);
    const text = await run(
      "stats",
      "tost",
      WIDE,
      "--a",
      "Benchmarking",
      "--b",
      "1st Experiment",
      "--low",
      "-2",
      "--high",
      "3",
      "--pooled",
    );
    expect(text).toMatch(/two one-sided Student t-tests\): Benchmarking − 1st Experiment within \(-2, 3\)/);
    expect(text).toContain("90% CI");
    await expect(
      run(
        "stats",
        "tost",
        WIDE,
        "--a",
        "Benchmarking",
        "--b",
        "1st Experiment",
        "--margin",
        "1",
        "--low",
        "-1",
      ),
    ).rejects.toThrow(/--margin M .* or both --low and --high/);
    await expect(
      run("stats", "tost", WIDE, "--a", "Benchmarking", "--b", "1st Experiment", "--low", "-1"),
    ).rejects.toThrow(/go together/);
    await expect(
      run("stats", "tost", WIDE, "--a", "Benchmarking", "--b", "1st Experiment", "--margin", "-1"),
    ).rejects.toThrow(/--margin/);
  });

  it("unknown group and missing file are clear errors", async () => {
    await expect(run("stats", "ttest", WIDE, "--a", "Benchmarking", "--b", "4th")).rejects.toThrow(
      /dissertation-table4-wide\.csv: no group named "4th"/,
    );
    await expect(run("stats", "describe", "nope.csv")).rejects.toThrow(/nope\.csv: no such file/);
  });
});

const BIN = "dist/src/cli/main.js";
describe.skipIf(!existsSync(BIN))("built binary (node dist/src/cli/main.js)", () => {
  it("stats anova --summary --json and an error with exit code 1", () => {
    const ok = spawnSync(process.execPath, [BIN, "stats", "anova", "--summary", SUMMARY, "--json"], {
      encoding: "utf8",
    });
    expect(ok.status).toBe(0);
    expectDigits(JSON.parse(ok.stdout).fCritical, 3.490294819, 9, "F crit");
    const bad = spawnSync(process.execPath, [BIN, "stats", "describe", "test/data/missing.csv"], {
      encoding: "utf8",
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("test/data/missing.csv: no such file");
  });
});
if (!existsSync(BIN)) console.log(`cli.test.ts: ${BIN} not built (npm run build); skipping the binary test`);
