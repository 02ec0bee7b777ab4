// The report's outlier rule for baseline watts: modified z-scores worked by hand.
import { describe, expect, it } from "vitest";
import { outliers } from "../../src/report/baseline-power.js";

describe("baseline watts outliers (modified z-score > 3.5)", () => {
  it("one cold baseline among warm ones is flagged", () => {
    // median 126.5; |dev| 0.5 0.5 0 1 47.5 0.5 → MAD 0.5; z(79) = 0.6745 · 47.5 / 0.5 = 64.1;
    // z(127.5) = 0.6745 · 1 / 0.5 = 1.35.
    expect(outliers([126, 127, 126.5, 127.5, 79, 126], 3.5)).toEqual([
      false,
      false,
      false,
      false,
      true,
      false,
    ]);
  });
  it("z just either side of 3.5", () => {
    // median 100, |dev| 0 1 1 2 2 0 d → MAD 1; z = 0.6745 · d: d = 5.2 → 3.507 (flagged),
    // d = 5.1 → 3.440 (not).
    expect(outliers([100, 101, 99, 102, 98, 100, 105.2], 3.5)[6]).toBe(true);
    expect(outliers([100, 101, 99, 102, 98, 100, 105.1], 3.5)[6]).toBe(false);
  });
  it("MAD 0: the mean absolute deviation stands in (z = dev / (1.253314 · meanAD))", () => {
    // 9 × 126 and 131: meanAD 0.5, z(131) = 5 / 0.6267 = 7.98.
    expect(outliers([...Array(9).fill(126), 131], 3.5).at(-1)).toBe(true);
    // 3 × 126 and 131: meanAD 1.25, z = 5 / 1.5666 = 3.19: not flagged.
    expect(outliers([126, 126, 126, 131], 3.5)).toEqual([false, false, false, false]);
  });
  it("a value past z but within the minimum deviation of the median is not flagged", () => {
    // The fashion study's 18 baselines (H200): median 80.06, MAD 0.10; 80.89 is 0.83 W off,
    // z = 0.6745 · 0.83 / 0.10 = 5.6: flagged by z alone, not with a 2 W floor; 85 W is flagged
    // either way.
    const w = [
      80.09, 80.04, 79.95, 80.36, 80.89, 79.67, 79.78, 79.7, 80.58, 80.74, 80.08, 80.15, 80.15, 80.02, 79.99,
      79.9, 80.01, 80.13,
    ];
    expect(outliers(w, 3.5)[4]).toBe(true);
    expect(outliers(w, 3.5, 2)[4]).toBe(false);
    expect(outliers([...w, 85], 3.5, 2).at(-1)).toBe(true);
  });
  it("all equal, or fewer than 3 values: nothing flagged", () => {
    expect(outliers([80, 80, 80], 3.5)).toEqual([false, false, false]);
    expect(outliers([80, 200], 3.5)).toEqual([false, false]);
  });
});
