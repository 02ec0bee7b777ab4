// Degenerate input must raise StatsInputError with a message that says what and where — never NaN.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  anova,
  anovaFromSummary,
  describe as describeSample,
  findGroup,
  kurtosis,
  levene,
  mean,
  parseGroupsCsv,
  parseSummaryCsv,
  readGroupsCsv,
  StatsInputError,
  shapiroWilk,
  skewness,
  tTest,
  tTestSampleSize,
  tukeyHsd,
  variance,
  varianceRatio,
  welchAnova,
} from "../../src/stats/index.js";

function expectInputError(f: () => unknown, message: RegExp): void {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(StatsInputError);
  expect((caught as Error).message).toMatch(message);
}

const g = (name: string, values: number[]) => ({ name, values });

describe("fewer than 2 values in a group", () => {
  it("variance, describe, t-tests, ANOVA, Tukey", () => {
    expectInputError(() => variance([1], "x"), /x: needs at least 2 values, got 1/);
    expectInputError(() => mean([]), /needs at least 1 values, got 0/);
    expectInputError(() => describeSample("solo", [3]), /solo: needs at least 2/);
    expectInputError(() => tTest([1], [1, 2], { labelA: "A" }), /A: needs at least 2/);
    expectInputError(() => anova([g("a", [1, 2]), g("b", [3])]), /group "b": needs at least 2/);
    expectInputError(() => welchAnova([g("a", [1, 2]), g("b", [3])]), /group "b"/);
    expectInputError(() => tukeyHsd([g("a", [1]), g("b", [3, 4])]), /group "a"/);
    expectInputError(() => shapiroWilk([1, 2], "s"), /s: needs at least 3/);
    expectInputError(() => skewness([1, 2]), /needs at least 3/);
    expectInputError(() => kurtosis([1, 2, 3]), /needs at least 4/);
    expectInputError(() => anova([g("a", [1, 2])]), /at least 2 groups, got 1/);
  });
});

describe("zero variance", () => {
  it("everywhere: ANOVA, Levene, t-tests, F ratio, Shapiro–Wilk, shape statistics", () => {
    expectInputError(() => anova([g("a", [1, 1, 1]), g("b", [2, 2])]), /every group has zero variance/);
    expectInputError(() => levene([g("a", [1, 1, 1]), g("b", [2, 2])]), /no spread/);
    expectInputError(() => tTest([3, 3], [4, 4]), /both have zero variance/);
    expectInputError(() => tTest([1, 2, 3], [2, 3, 4], { kind: "paired" }), /all equal/);
    expectInputError(() => varianceRatio(g("a", [1, 1]), g("b", [1, 2])), /"a" has zero variance/);
    expectInputError(() => shapiroWilk([5, 5, 5, 5]), /all values are equal/);
    expectInputError(() => skewness([2, 2, 2]), /all values are equal/);
    expectInputError(() => welchAnova([g("a", [1, 1, 1]), g("b", [2, 3])]), /"a" has zero variance/);
    expectInputError(
      () =>
        anovaFromSummary([
          { name: "a", count: 3, mean: 1, variance: 0 },
          { name: "b", count: 3, mean: 2, variance: 0 },
        ]),
      /zero variance/,
    );
  });

  it("describe reports null shape statistics instead of NaN", () => {
    const d = describeSample("flat", [4, 4, 4, 4]);
    expect(d.skewness).toBeNull();
    expect(d.kurtosis).toBeNull();
    expect(d.variance).toBe(0);
  });
});

describe("paired test with groups of unequal length", () => {
  it("names both groups and their sizes", () => {
    expectInputError(
      () => tTest([1, 2, 3], [1, 2], { kind: "paired", labelA: "fp32", labelB: "amp" }),
      /"fp32" has 3 values, "amp" has 2/,
    );
  });
});

describe("non-finite values and bad parameters", () => {
  it("NaN / Infinity in a sample, alpha out of range, zero effect", () => {
    expectInputError(() => mean([1, Number.NaN]), /value 2 is not a finite number/);
    expectInputError(() => tTest([1, 2], [1, Number.POSITIVE_INFINITY], { labelB: "B" }), /B: value 2/);
    expectInputError(() => anova([g("a", [1, 2]), g("b", [3, 4])], 1.5), /alpha must be between 0 and 1/);
    expectInputError(() => tTestSampleSize({ effect: 0 }), /effect size/);
  });
});

describe("CSV input", () => {
  it("non-numeric cell: names file, row and column", () => {
    expectInputError(
      () => parseGroupsCsv("fp32,amp\n1,2\n3,abc\n", "runs.csv"),
      /runs\.csv, row 3, column "amp": not a number: "abc"/,
    );
    expectInputError(
      () => parseGroupsCsv("group,value\nfp32,1\nfp32,1e\n", "long.csv"),
      /long\.csv, row 3, column "value"/,
    );
    expectInputError(
      () => parseSummaryCsv("group,count,mean,variance\na,four,1,2\n", "s.csv"),
      /s\.csv, row 2, column "count"/,
    );
  });

  it("file problems carry code E_CSV, value problems E_INPUT", () => {
    const codeOf = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as StatsInputError).code;
      }
      return null;
    };
    expect(codeOf(() => parseGroupsCsv("a,b\n1,x\n", "f.csv"))).toBe("E_CSV");
    expect(codeOf(() => parseGroupsCsv('a,b\n1,"2\n', "f.csv"))).toBe("E_CSV");
    expect(codeOf(() => readGroupsCsv("/nonexistent/halfwatt.csv"))).toBe("E_INPUT");
    expect(codeOf(() => mean([]))).toBe("E_INPUT");
  });

  it("an unterminated quote names the line it starts on", () => {
    expectInputError(
      () => parseGroupsCsv('a,b\n1,2\n3,"4\n5,6\n', "q.csv"),
      /q\.csv, row 3: unterminated quoted field/,
    );
  });

  it("ragged rows, duplicate or empty names, empty file", () => {
    expectInputError(
      () => parseGroupsCsv("a,b\n1,2,3\n", "f.csv"),
      /f\.csv, row 2: 3 fields but the header names 2/,
    );
    expectInputError(() => parseGroupsCsv("a,a\n1,2\n", "f.csv"), /duplicate group name "a"/);
    expectInputError(() => parseGroupsCsv("a,\n1,2\n", "f.csv"), /empty group name/);
    expectInputError(() => parseGroupsCsv("\n# only a comment\n", "f.csv"), /no header row/);
  });

  it("missing file and unknown group name", () => {
    expectInputError(
      () => readGroupsCsv("/nonexistent/halfwatt.csv"),
      /\/nonexistent\/halfwatt\.csv: no such file/,
    );
    const dir = mkdtempSync(join(tmpdir(), "halfwatt-stats-"));
    try {
      const file = join(dir, "runs.csv");
      writeFileSync(file, "fp32,amp\n1,2\n3,4\n");
      expectInputError(
        () => findGroup(readGroupsCsv(file), "bf16", file),
        /no group named "bf16" \(groups: "fp32", "amp"\)/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
