// Property tests (fast-check): identities the statistics must satisfy on any input.
// The fast-check seed is printed; HALFWATT_SEED=<n> replays a run.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  adjustPValues,
  anova,
  bootstrapMean,
  bootstrapMeanDifference,
  levene,
  pairwiseTTests,
  quantile,
  shapiroWilk,
  studentizedRangeSf,
  tSf,
  tTest,
  tukeyHsd,
  welchAnova,
} from "../../src/stats/index.js";
import { runSeed } from "../helpers/rng.js";
import { isClose } from "./close.js";

const seed = runSeed();
console.log(`properties.test.ts: fast-check seed ${seed} (HALFWATT_SEED=${seed} replays)`);
const settings = { seed, numRuns: 60 };

/** A sample of n in [min, max] values that is not constant. */
function sample(min = 2, max = 12) {
  return fc
    .array(fc.double({ min: -1e3, max: 1e3, noNaN: true, noDefaultInfinity: true }), {
      minLength: min,
      maxLength: max,
    })
    .filter((xs) => {
      const lo = Math.min(...xs);
      const hi = Math.max(...xs);
      return hi - lo > 1e-6 * Math.max(1, Math.abs(hi), Math.abs(lo));
    });
}

const named = (arrays: number[][]) => arrays.map((values, i) => ({ name: `g${i}`, values }));

describe("ANOVA", () => {
  it("with two groups, F = t² of the pooled t-test and the p-values agree", () => {
    fc.assert(
      fc.property(sample(), sample(), (a, b) => {
        const f = anova(named([a, b]));
        const t = tTest(a, b, { kind: "student" });
        expect(isClose(f.f, t.t * t.t, 1e-9, 1e-12)).toBe(true);
        expect(isClose(f.p, t.p, 1e-8, 1e-14)).toBe(true);
      }),
      settings,
    );
  });

  it("permuting the groups changes nothing; p in [0, 1]; SS add up", () => {
    fc.assert(
      fc.property(fc.array(sample(), { minLength: 2, maxLength: 5 }), (arrays) => {
        const forward = anova(named(arrays));
        const backward = anova(named([...arrays].reverse()));
        expect(isClose(forward.f, backward.f, 1e-9, 1e-12)).toBe(true);
        expect(isClose(forward.p, backward.p, 1e-9, 1e-14)).toBe(true);
        expect(forward.p).toBeGreaterThanOrEqual(0);
        expect(forward.p).toBeLessThanOrEqual(1);
        expect(isClose(forward.total.ss, forward.between.ss + forward.within.ss, 1e-12)).toBe(true);
        expect(forward.omegaSquared).toBeLessThanOrEqual(forward.etaSquared);
      }),
      settings,
    );
  });

  it("Welch's F is invariant to shifting and scaling all data", () => {
    fc.assert(
      fc.property(
        fc.array(sample(3), { minLength: 2, maxLength: 4 }),
        fc.double({ min: 0.5, max: 20, noNaN: true }),
        (arrays, c) => {
          const plain = welchAnova(named(arrays));
          const moved = welchAnova(named(arrays.map((xs) => xs.map((x) => c * x + 7))));
          expect(isClose(plain.f, moved.f, 1e-7, 1e-10)).toBe(true);
          expect(plain.p).toBeGreaterThanOrEqual(0);
          expect(plain.p).toBeLessThanOrEqual(1);
        },
      ),
      settings,
    );
  });
});

describe("t-tests", () => {
  it("swapping a and b negates t and the difference; two-sided p = 2·min(one-sided)", () => {
    fc.assert(
      fc.property(sample(), sample(), fc.constantFrom("student" as const, "welch" as const), (a, b, kind) => {
        const ab = tTest(a, b, { kind });
        const ba = tTest(b, a, { kind });
        expect(isClose(ab.t, -ba.t, 1e-12, 1e-15)).toBe(true);
        expect(isClose(ab.meanDifference, -ba.meanDifference, 1e-12, 1e-12)).toBe(true);
        const less = tTest(a, b, { kind, alternative: "less" }).p;
        const greater = tTest(a, b, { kind, alternative: "greater" }).p;
        expect(isClose(ab.p, Math.min(1, 2 * Math.min(less, greater)), 1e-10, 1e-15)).toBe(true);
        expect(isClose(less + greater, 1, 1e-12)).toBe(true);
      }),
      settings,
    );
  });

  it("the two-sided CI excludes 0 exactly when p < α", () => {
    fc.assert(
      fc.property(sample(3), sample(3), (a, b) => {
        const r = tTest(a, b, { kind: "welch", alpha: 0.05 });
        const excludes = r.ci[0] > 0 || r.ci[1] < 0;
        if (Math.abs(r.p - 0.05) > 1e-9) expect(excludes).toBe(r.p < 0.05);
      }),
      settings,
    );
  });
});

describe("multiple comparisons", () => {
  const pValues = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 20 });

  it("raw ≤ BH ≤ Holm ≤ Bonferroni ≤ 1", () => {
    fc.assert(
      fc.property(pValues, (p) => {
        const bh = adjustPValues(p, "bh");
        const holm = adjustPValues(p, "holm");
        const bonferroni = adjustPValues(p, "bonferroni");
        p.forEach((raw, i) => {
          expect(raw).toBeLessThanOrEqual(bh[i] + 1e-15);
          expect(bh[i]).toBeLessThanOrEqual(holm[i] + 1e-15);
          expect(holm[i]).toBeLessThanOrEqual(bonferroni[i] + 1e-15);
          expect(bonferroni[i]).toBeLessThanOrEqual(1);
        });
      }),
      settings,
    );
  });

  it("adjusted p-values keep the order of the raw ones", () => {
    fc.assert(
      fc.property(pValues, fc.constantFrom("holm" as const, "bh" as const), (p, method) => {
        const adj = adjustPValues(p, method);
        for (let i = 0; i < p.length; i++)
          for (let j = 0; j < p.length; j++) if (p[i] < p[j]) expect(adj[i]).toBeLessThanOrEqual(adj[j]);
      }),
      settings,
    );
  });

  it("pairwise comparisons cover every pair once, with reject = pAdjusted ≤ α", () => {
    fc.assert(
      fc.property(fc.array(sample(), { minLength: 2, maxLength: 5 }), (arrays) => {
        const r = pairwiseTTests(named(arrays), { correction: "holm" });
        const k = arrays.length;
        expect(r.comparisons.length).toBe((k * (k - 1)) / 2);
        for (const c of r.comparisons) expect(c.reject).toBe(c.pAdjusted <= 0.05);
      }),
      { ...settings, numRuns: 30 },
    );
  });

  it("Tukey p-values lie in [0, 1] and the intervals contain the difference", () => {
    fc.assert(
      fc.property(fc.array(sample(3, 8), { minLength: 2, maxLength: 4 }), (arrays) => {
        for (const c of tukeyHsd(named(arrays)).comparisons) {
          expect(c.p).toBeGreaterThanOrEqual(0);
          expect(c.p).toBeLessThanOrEqual(1);
          expect(c.ci[0]).toBeLessThanOrEqual(c.meanDifference);
          expect(c.ci[1]).toBeGreaterThanOrEqual(c.meanDifference);
        }
      }),
      { ...settings, numRuns: 10 },
    );
  });
});

describe("studentized range", () => {
  it("with k = 2, Q = √2·|T|: P(Q > q) = 2·P(T > q/√2)", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 80, noNaN: true }),
        fc.integer({ min: 1, max: 500 }),
        (q, df) => {
          expect(isClose(studentizedRangeSf(q, 2, df), 2 * tSf(q / Math.SQRT2, df), 1e-8, 1e-13)).toBe(true);
        },
      ),
      { ...settings, numRuns: 25 },
    );
  });
});

describe("other tests", () => {
  it("Shapiro–Wilk W in (0, 1] and p in [0, 1], unchanged by shifting and scaling", () => {
    fc.assert(
      fc.property(sample(3, 40), (xs) => {
        const r = shapiroWilk(xs);
        const moved = shapiroWilk(xs.map((x) => 3 * x - 11));
        expect(r.w).toBeGreaterThan(0);
        expect(r.w).toBeLessThanOrEqual(1);
        expect(r.p).toBeGreaterThanOrEqual(0);
        expect(r.p).toBeLessThanOrEqual(1);
        expect(isClose(r.w, moved.w, 1e-9)).toBe(true);
      }),
      settings,
    );
  });

  it("Levene p in [0, 1]", () => {
    fc.assert(
      fc.property(fc.array(sample(3), { minLength: 2, maxLength: 4 }), (arrays) => {
        const r = levene(named(arrays));
        expect(r.p).toBeGreaterThanOrEqual(0);
        expect(r.p).toBeLessThanOrEqual(1);
      }),
      settings,
    );
  });

  it("quantiles are monotone in p and stay within [min, max]", () => {
    fc.assert(
      fc.property(
        sample(1, 30),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (xs, p1, p2) => {
          const [lo, hi] = p1 <= p2 ? [p1, p2] : [p2, p1];
          for (const type of [4, 5, 6, 7, 8, 9] as const) {
            expect(quantile(xs, lo, type)).toBeLessThanOrEqual(quantile(xs, hi, type));
            expect(quantile(xs, lo, type)).toBeGreaterThanOrEqual(Math.min(...xs));
            expect(quantile(xs, hi, type)).toBeLessThanOrEqual(Math.max(...xs));
          }
        },
      ),
      settings,
    );
  });

  it("bootstrap: same seed, same interval; shifting the data shifts the interval", () => {
    fc.assert(
      fc.property(sample(3, 20), fc.integer({ min: 0, max: 2 ** 31 }), (xs, s) => {
        const a = bootstrapMean(xs, { seed: s, resamples: 500 });
        const b = bootstrapMean(xs, { seed: s, resamples: 500 });
        expect(a.ci).toEqual(b.ci);
        expect(a.ci[0]).toBeLessThanOrEqual(a.ci[1]);
        const shifted = bootstrapMean(
          xs.map((x) => x + 100),
          { seed: s, resamples: 500 },
        );
        expect(isClose(shifted.ci[0], a.ci[0] + 100, 1e-9, 1e-9)).toBe(true);
        const diff = bootstrapMeanDifference(xs, xs, { seed: s, resamples: 500 });
        expect(diff.estimate).toBe(0);
        expect(diff.ci[0]).toBeLessThanOrEqual(diff.ci[1]);
      }),
      { ...settings, numRuns: 20 },
    );
  });
});
