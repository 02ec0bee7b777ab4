// Issue 7 §2: bad input as a new user met it, one block per report. Expectations come from SciPy
// (printed beside each number), from arithmetic on the inputs, or from the shell's conventions —
// never from the code under test. Commands run in process where possible; exit statuses, stdout
// versus stderr and stdin run the built binary (npm run build), skipped when it is not built.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { statsDescribe, statsPairwise, statsTTest, statsVariance } from "../../src/cli/commands/stats.js";
import { dawnWarningFilter } from "../../src/cli/dawn-stderr.js";
import { type AdapterEntry, matchAdapter } from "../../src/gpu/adapter.js";
import { findNaN, requireNoNaN } from "../../src/report/format.js";
import {
  anova,
  describe as describeSample,
  levene,
  pairByRow,
  parseGroupsCsv,
  StatsInputError,
  standardDeviation,
  tTest,
  tukeyHsd,
  variance,
  welchAnova,
} from "../../src/stats/index.js";

const BIN = "dist/src/cli/main.js";
const built = existsSync(BIN);
const dir = mkdtempSync(join(tmpdir(), "halfwatt-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function cli(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", input, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function thrown(f: () => unknown): StatsInputError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(StatsInputError);
    return e as StatsInputError;
  }
  throw new Error("expected a StatsInputError");
}

// Two columns with holes in different rows (lines 4 and 5 of the file). Complete pairs are the
// rows 1, 4, 5, 6, 7 of data. SciPy: ttest_rel(complete pairs) t = 27.67593624086662,
// p = 1.0138446662542636e-05; dropping each column's holes and pairing by position (the old bug)
// gives t = 33.49555276144171.
const HOLES = "A,B\n61.2,55.0\n63.5,\n,57.3\n60.1,54.2\n64.8,58.1\n62.0,56.6\n59.7,53.9\n";

describe("paired tests pair by row, drop incomplete pairs and name them", () => {
  const groups = parseGroupsCsv(HOLES, "holes.csv");

  it("ttest --paired", () => {
    const out = statsTTest(groups, { a: "A", b: "B", paired: true }, "holes.csv");
    const json = out.json as { t: number; p: number; n: number; droppedRows: number[] };
    expect(json.t).toBeCloseTo(27.67593624086662, 10);
    expect(json.p / 1.0138446662542636e-5).toBeCloseTo(1, 8);
    expect(json.n).toBe(5);
    expect(json.droppedRows).toEqual([3, 4]); // file lines (the header is line 1)
    expect(out.text).toMatch(/2 row\(s\) dropped.*line 3, 4.*5 complete pairs/);
  });

  it("pairwise --paired", () => {
    const r = statsPairwise(groups, { paired: true }).json as {
      comparisons: { t: number; droppedRows: number[] }[];
    };
    expect(r.comparisons[0].t).toBeCloseTo(27.67593624086662, 10);
    expect(r.comparisons[0].droppedRows).toEqual([3, 4]);
  });

  it("pairByRow without rows (long layout) pairs by position", () => {
    const p = pairByRow({ name: "a", values: [1, 2] }, { name: "b", values: [3, 4] });
    expect(p).toEqual({ a: [1, 2], b: [3, 4], droppedRows: [] });
  });
});

describe("CSV dialects and a missing header", () => {
  it("a numeric first row is refused: the header seems missing", () => {
    const e = thrown(() => parseGroupsCsv("1,2,3\n4,5,6\n", "noheader.csv"));
    expect(e.code).toBe("E_CSV");
    expect(e.message).toMatch(/noheader\.csv, row 1: the first row is all numbers.*header row seems missing/);
  });

  it("semicolons with decimal commas (Excel in many locales) and tabs are read", () => {
    const semi = parseGroupsCsv("fp32;amp\n1,5;2,25\n3,0;4\n", "excel.csv");
    expect(semi.map((g) => [g.name, Array.from(g.values)])).toEqual([
      ["fp32", [1.5, 3]],
      ["amp", [2.25, 4]],
    ]);
    const tab = parseGroupsCsv("fp32\tamp\n1.5\t2\n\t4\n", "tab.tsv");
    expect(tab.map((g) => Array.from(g.values))).toEqual([[1.5], [2, 4]]);
  });

  it("decimal commas in a comma-separated file: says what was found and what to do", () => {
    const e = thrown(() => parseGroupsCsv("a,b\n1,5,2,5\n", "garbled.csv"));
    expect(e.message).toMatch(
      /row 2: 4 fields but the header names 2 groups.*comma-separated.*decimal comma/,
    );
  });
});

describe("magnitudes near the limits of double precision", () => {
  const x = [3.1, 4.7, 2.2, 5.9, 4.4];
  const y = [2.0, 3.3, 4.1, 1.7, 2.9, 3.8];
  // SciPy ttest_ind(x, y): t = 1.5066669178497663, p = 0.16616276161760724; mean(x) − mean(y) =
  // 1.0933333333333342; numpy.std(x, ddof=1) = 1.4397916515940772.

  it("t-test of values near 1e200 and 1e-300: the same t and p, the difference scaled", () => {
    for (const scale of [1e200, 1e-300]) {
      const r = tTest(
        x.map((v) => v * scale),
        y.map((v) => v * scale),
      );
      expect(r.t / 1.5066669178497663).toBeCloseTo(1, 12);
      expect(r.p / 0.16616276161760724).toBeCloseTo(1, 10);
      expect(r.meanDifference / (1.0933333333333342 * scale)).toBeCloseTo(1, 12);
      expect(findNaN(r)).toBeNull();
    }
  });

  it("SD of values near 1e-300 is not zero (NumPy gives 0 here); their variance is refused by describe", () => {
    const tiny = x.map((v) => v * 1e-300);
    expect(standardDeviation(tiny) / (1.4397916515940772 * 1e-300)).toBeCloseTo(1, 12);
    const e = thrown(() => describeSample("tiny", tiny));
    expect([e.code, e.message]).toEqual([
      "E_RANGE",
      expect.stringMatching(/tiny: the variance .* falls below/),
    ]);
  });

  it("describe of values near 1e200: E_RANGE naming the variance, never NaN", () => {
    expect(variance(x.map((v) => v * 1e200))).toBe(Number.POSITIVE_INFINITY);
    const e = thrown(() => statsDescribe([{ name: "big", values: x.map((v) => v * 1e200) }]));
    expect(e.code).toBe("E_RANGE");
    expect(e.message).toMatch(/big: the variance .* exceeds double precision's range; rescale/);
  });

  it("Levene, Welch's ANOVA and Tukey at 1e200: SciPy's values for the unscaled data", () => {
    // SciPy on a = [1, 3, 2, 2.2], b = [2, 1, 5, 3], c = [3, 2.5, 4, 1]: levene(center="mean")
    // F = 0.8933265925176943, p = 0.4426913876654567; f_oneway(equal_var=False) F =
    // 0.40935707568336815, p = 0.6826799136123098; tukey_hsd a−b p = 0.7382397726031751,
    // interval [-3.288153896735449, 1.8881538967354485].
    const big = (name: string, v: number[]) => ({ name, values: v.map((x) => x * 1e200) });
    const groups = [big("a", [1, 3, 2, 2.2]), big("b", [2, 1, 5, 3]), big("c", [3, 2.5, 4, 1])];
    const lev = levene(groups);
    expect(lev.f / 0.8933265925176943).toBeCloseTo(1, 10);
    expect(lev.p / 0.4426913876654567).toBeCloseTo(1, 9);
    const w = welchAnova(groups);
    expect(w.f / 0.40935707568336815).toBeCloseTo(1, 10);
    expect(w.p / 0.6826799136123098).toBeCloseTo(1, 9);
    const t = tukeyHsd(groups).comparisons[0];
    expect(t.p / 0.7382397726031751).toBeCloseTo(1, 8);
    expect(t.meanDifference / (-0.7 * 1e200)).toBeCloseTo(1, 12); // mean(a) 2.05 − mean(b) 2.75
    expect(t.ci[0] / (-3.288153896735449 * 1e200)).toBeCloseTo(1, 8);
    expect(t.ci[1] / (1.8881538967354485 * 1e200)).toBeCloseTo(1, 8);
    // The classic table's sums of squares (≈ 1e400) are not doubles: refused, not NaN.
    expect(thrown(() => anova(groups)).code).toBe("E_RANGE");
  });

  it("a NaN anywhere in a result is an error naming where", () => {
    expect(findNaN({ a: [1, { p: Number.NaN }] })).toBe("a[1].p");
    expect(() => requireNoNaN({ t: Number.NaN }, "ttest")).toThrow(/ttest: t is not a number/);
  });

  it("variance: a group with zero variance still gets Levene (SciPy: F = 6.1, p = 0.03582940426316828)", () => {
    const out = statsVariance([
      { name: "flat", values: [1, 1, 1] },
      { name: "b", values: [1, 2, 4] },
      { name: "c", values: [2, 3, 7] },
    ]);
    const json = out.json as {
      levene: { f: number; p: number };
      pairs: { f: number | null; note?: string }[];
    };
    expect(json.levene.f).toBeCloseTo(6.1, 12);
    expect(json.levene.p / 0.03582940426316828).toBeCloseTo(1, 9);
    expect(json.pairs[0]).toMatchObject({ f: null, note: expect.stringMatching(/"flat" has zero variance/) });
    expect(json.pairs[2].f).toBeGreaterThan(1);
  });
});

describe("--adapter matches the printed name or the index", () => {
  const entries: AdapterEntry[] = [
    { index: 0, backend: "vulkan", dawnName: "llvmpipe-llvm-15", label: "llvmpipe: Mesa 25.0.7" },
    { index: 1, backend: "vulkan", dawnName: "NVIDIA H200", label: "NVIDIA H200 (575.57)" },
  ];
  it("case-insensitive substring of the label, Dawn's name, or an index", () => {
    expect(matchAdapter(entries, "mesa").index).toBe(0);
    expect(matchAdapter(entries, "h200").index).toBe(1);
    expect(matchAdapter(entries, "1").index).toBe(1);
    expect(matchAdapter(entries, "LLVM-15").index).toBe(0);
    expect(() => matchAdapter(entries, "2")).toThrow(/No adapter matches "2".*\[0\] "llvmpipe: Mesa 25.0.7"/);
  });
});

describe("Dawn's limit warnings are filtered, nothing else", () => {
  it("drops exactly the two clamp notices, across chunk boundaries", () => {
    let out = "";
    const f = dawnWarningFilter((t) => {
      out += t;
    });
    const w = (kind: string) =>
      `Warning: maxDynamic${kind}BuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.\n`;
    const text = `${w("Uniform")}real error 1\n${w("Storage")}Warning: something else\nno newline`;
    for (let i = 0; i < text.length; i += 7) f.push(text.slice(i, i + 7));
    f.end();
    expect(out).toBe("real error 1\nWarning: something else\nno newline");
  });
});

describe.skipIf(!built)("the built binary", () => {
  const wide = file("holes.csv", HOLES);

  it("no Dawn warnings on a GPU command, and devices --adapter shows only that adapter", () => {
    const all = cli(["devices", "--json"]);
    expect(all.status).toBe(0);
    expect(all.stderr).not.toMatch(/artificially reduced/);
    const adapters = JSON.parse(all.stdout).adapters as { index: number; name: string }[];
    const last = adapters[adapters.length - 1];
    const one = cli(["devices", "--json", "--adapter", last.name.slice(-10).toLowerCase()]);
    expect(JSON.parse(one.stdout).adapters.map((a: { index: number }) => a.index)).toEqual([last.index]);
  });

  it("stdin (-) for every file argument, anova included (it used to read the file twice)", () => {
    const fromFile = cli(["stats", "anova", wide, "--json"]);
    const fromPipe = cli(["stats", "anova", "-", "--json"], HOLES);
    expect(fromPipe.status).toBe(0);
    expect(JSON.parse(fromPipe.stdout)).toEqual(JSON.parse(fromFile.stdout));
    const paired = cli(["stats", "ttest", "-", "--a", "A", "--b", "B", "--paired", "--json"], HOLES);
    expect(JSON.parse(paired.stdout).t).toBeCloseTo(27.67593624086662, 10);
  });

  it("--json errors: a JSON error object on stdout and a non-zero status", () => {
    const missing = cli(["stats", "describe", join(dir, "nope.csv"), "--json"]);
    expect(missing.status).toBe(2);
    expect(JSON.parse(missing.stdout)).toEqual({
      error: { code: "E_INPUT", message: expect.stringMatching(/nope\.csv: no such file/) },
    });
    const usage = cli(["stats", "describe", wide, "--json", "--bogus"]);
    expect(usage.status).toBe(2);
    expect(JSON.parse(usage.stdout).error.code).toBe("E_USAGE");
    const big = cli(["stats", "describe", "-", "--json"], "a,b\n1e200,2e200\n3e200,1e200\n2e200,5e200\n");
    expect(big.status).toBe(2);
    expect(JSON.parse(big.stdout).error.code).toBe("E_RANGE");
  });

  it("strict options: each error names the option and the value, status 2", () => {
    const cases: [string[], RegExp][] = [
      [["selfcheck", "--seed", "abc"], /--seed: expected an integer >= 0 and <= 4294967295, got "abc"/],
      [["stats", "power", "--test", "anova", "--effect", "0.25"], /--test anova needs --groups/],
      [
        ["stats", "power", "--test", "ttest", "--effect", "0.5", "--n", "1.5"],
        /--n: expected an integer >= 2, got "1.5"/,
      ],
      [
        ["carbon", "--watts", "0x10", "--hours", "1", "--intensity", "1"],
        /--watts: expected a decimal number >= 0, got "0x10"/,
      ],
      [
        ["stats", "ttest", wide, "--a", "A", "--b", "B", "--alpha", "0"],
        /--alpha: expected a decimal number > 0 and < 1, got "0"/,
      ],
      [["stats", "bootstrap", wide, "--a", "A", "--seed", "1e3"], /--seed: expected an integer/],
    ];
    for (const [args, message] of cases) {
      const r = cli(args);
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toMatch(message);
    }
  });

  it("--version prints package.json's version", () => {
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
    const r = cli(["--version"]);
    expect([r.status, r.stdout.trim()]).toEqual([0, pkg.version]);
  });

  describe("measure", () => {
    const base = ["measure", "--baseline-seconds", "0", "--hz", "20"];

    it("--json: the command's stdout goes to stderr, the report alone to stdout", () => {
      const r = cli([...base, "--json", "--", process.execPath, "-e", "console.log('child says hi')"]);
      expect(r.status).toBe(0);
      expect(r.stderr).toContain("child says hi");
      expect(JSON.parse(r.stdout).phases.map((p: { name: string }) => p.name)).toEqual(["command"]);
    });

    it("a command that cannot start exits 127; a signal N gives 128 + N", () => {
      expect(cli([...base, "--", join(dir, "no-such-program")]).status).toBe(127);
      expect(cli([...base, "--", "sh", "-c", "kill -TERM $$"]).status).toBe(128 + 15);
      expect(cli([...base, "--", "sh", "-c", "exit 3"]).status).toBe(3);
    });

    it("--wall-csv is checked before anything runs", () => {
      const marker = join(dir, "ran");
      const r = cli([...base, "--wall-csv", join(dir, "no-meter.csv"), "--", "touch", marker]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/--wall-csv .*no-meter\.csv: no such file; nothing was run/);
      expect(existsSync(marker)).toBe(false);
    });
  });
});
if (!built) console.log(`bad-input.test.ts: ${BIN} not built (npm run build); skipping the binary tests`);
