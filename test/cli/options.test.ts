// The strict option parsers: only plain decimal notation, ranges enforced, every error naming the
// option and the value. Expectations are the values as written, not what Number() makes of them.
import { describe, expect, it } from "vitest";
import {
  choiceOption,
  integerOption,
  listOption,
  nonNegativeOption,
  OptionError,
  positiveOption,
  probabilityOption,
  seedOption,
} from "../../src/cli/options.js";

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function rejects(parse: (v: string) => unknown, value: string, message: RegExp): void {
  let caught: unknown;
  try {
    parse(value);
  } catch (e) {
    caught = e;
  }
  expect(caught, value).toBeInstanceOf(OptionError);
  expect((caught as OptionError).code).toBe("E_INPUT");
  expect((caught as Error).message, value).toMatch(message);
}

describe("numbers", () => {
  it("accepts decimal notation with an optional exponent", () => {
    const p = nonNegativeOption("--watts");
    expect(["160", "157.5", ".5", "1e3", "+2", "0"].map(p)).toEqual([160, 157.5, 0.5, 1000, 2, 0]);
  });

  it("refuses hex, octal, binary, partial numbers, blanks, Infinity and NaN", () => {
    const p = nonNegativeOption("--watts");
    for (const v of [
      "0x10",
      "0o7",
      "0b1",
      "1.5abc",
      "",
      " ",
      " 1",
      "1 ",
      "Infinity",
      "NaN",
      "1e",
      "--1",
      "1,5",
    ])
      rejects(
        p,
        v,
        new RegExp(`^--watts: expected a decimal number >= 0, got ${escapeRe(JSON.stringify(v))}$`),
      );
    rejects(p, "-1", /--watts: expected a decimal number >= 0, got "-1"/);
    rejects(positiveOption("--seconds"), "0", /--seconds: expected a decimal number > 0, got "0"/);
  });

  it("probabilities lie strictly inside (0, 1)", () => {
    const p = probabilityOption("--alpha");
    expect(p("0.05")).toBe(0.05);
    for (const v of ["0", "1", "-0.1", "1.5"])
      rejects(p, v, /--alpha: expected a decimal number > 0 and < 1/);
  });
});

describe("integers and seeds", () => {
  it("integers: plain digits within the range", () => {
    const n = integerOption("--n", { min: 2 });
    expect(n("64")).toBe(64);
    for (const v of ["1.5", "1e3", "2.0", "0x10", "1", "", "9007199254740993"])
      rejects(n, v, /--n: expected an integer >= 2/);
  });

  it("seeds: integers in [0, 2^32 − 1]", () => {
    const s = seedOption("--seed");
    expect([s("0"), s("4294967295")]).toEqual([0, 4294967295]);
    for (const v of ["abc", "-1", "4294967296", "1.5"])
      rejects(s, v, /--seed: expected an integer >= 0 and <= 4294967295/);
  });
});

describe("choices and lists", () => {
  it("choices name the allowed words", () => {
    const c = choiceOption("--test", ["ttest", "anova"] as const);
    expect(c("anova")).toBe("anova");
    rejects(c, "ANOVA", /--test: expected one of ttest, anova, got "ANOVA"/);
  });

  it("lists: comma-separated or repeated, each item parsed strictly", () => {
    const l = listOption("--watts", nonNegativeOption("--watts"));
    expect(l("160,157", l("167"))).toEqual([167, 160, 157]);
    rejects((v) => l(v), "160,,157", /--watts: expected a comma-separated list/);
    rejects((v) => l(v), "160,0x10", /--watts: expected a decimal number >= 0, got "0x10"/);
  });
});
