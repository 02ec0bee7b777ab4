// Tests written to kill mutants that survived a mutation run over a sample of src/stats
// (npm run mutate; docs/testing.md). Expected values are worked out by hand in the comments.
import { describe, expect, it } from "vitest";
import { carbonFootprint } from "../../src/stats/carbon.js";
import { commonExponent, ldexp } from "../../src/stats/descriptive.js";
import { adjustPValues } from "../../src/stats/multiple.js";

describe("carbonFootprint", () => {
  it("kWh = W·h/1000, gCO2e = kWh × intensity; zero watts allowed", () => {
    // 100 W for 2 h = 0.2 kWh; × 400 g/kWh = 80 g. 0 W: nothing.
    const r = carbonFootprint([100, 0], 2, 400);
    expect(r.rows.map((x) => [x.kwh, x.gco2e])).toEqual([
      [0.2, 80],
      [0, 0],
    ]);
  });

  it("refuses negative, NaN and infinite inputs, and no watts at all, by name", () => {
    expect(() => carbonFootprint([], 1, 1)).toThrow(/needs at least one --watts value/);
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => carbonFootprint([bad], 1, 1)).toThrow(/watts must be a finite number >= 0/);
      expect(() => carbonFootprint([1], bad, 1)).toThrow(/hours must be a finite number >= 0/);
      expect(() => carbonFootprint([1], 1, bad)).toThrow(/carbon intensity must be a finite number >= 0/);
    }
  });
});

describe("adjustPValues by hand", () => {
  const p = [0.01, 0.04, 0.03];
  it("bonferroni m·p; holm step-down; BH step-up; none unchanged", () => {
    const close = (got: number[], want: number[]) => {
      for (const [i, g] of got.entries()) expect(g).toBeCloseTo(want[i], 15);
    };
    close(adjustPValues(p, "bonferroni"), [0.03, 0.12, 0.09]);
    // Holm, ascending 0.01, 0.03, 0.04: 3·0.01 = 0.03, 2·0.03 = 0.06, max(0.06, 1·0.04) = 0.06.
    close(adjustPValues(p, "holm"), [0.03, 0.06, 0.06]);
    // BH from the top: 3/3·0.04 = 0.04; min(0.04, 3/2·0.03 = 0.045) = 0.04; min(0.04, 3·0.01) = 0.03.
    close(adjustPValues(p, "bh"), [0.03, 0.04, 0.04]);
    expect(adjustPValues(p, "none")).toEqual(p);
  });

  it("p = 0 and p = 1 are valid; outside [0, 1] or NaN is refused", () => {
    expect(adjustPValues([0, 1], "holm")).toEqual([0, 1]);
    for (const bad of [-0.1, 1.1, Number.NaN])
      expect(() => adjustPValues([0.5, bad], "none")).toThrow(/p-values must lie in \[0, 1\]/);
  });
});

describe("commonExponent and ldexp", () => {
  it("2^e ≤ max|x| < 2^(e+1), exactly at powers of two and at the ends of the range", () => {
    expect(commonExponent([3])).toBe(1);
    expect(commonExponent([4])).toBe(2);
    expect(commonExponent([4 - 2 ** -50])).toBe(1);
    expect(commonExponent([0.75], [-0.1])).toBe(-1);
    expect(commonExponent([-8, 5])).toBe(3);
    expect(commonExponent([1e-300])).toBe(-997);
    expect(commonExponent([Number.MIN_VALUE])).toBe(-1074);
    expect(commonExponent([Number.MAX_VALUE])).toBe(1023);
    expect(commonExponent([0, -0])).toBe(0);
    expect(commonExponent([Number.POSITIVE_INFINITY])).toBe(0);
  });

  it("x·2^e in steps that neither overflow nor underflow on the way", () => {
    expect(ldexp(1, 1023)).toBe(2 ** 1023);
    expect(ldexp(1, -1074)).toBe(Number.MIN_VALUE);
    expect(ldexp(2 ** 1000, -2000)).toBe(2 ** -1000);
    expect(ldexp(2 ** -1000, 1500)).toBe(2 ** 500);
    expect(ldexp(3, 2000)).toBe(Number.POSITIVE_INFINITY);
    expect(ldexp(-3, 0)).toBe(-3);
  });
});
