// The blocked (RCBD) ANOVA, y ~ configuration + block, against three independent references:
// statsmodels' anova_lm(ols("y ~ C(t) + C(b)"), typ=2) on fresh seeded data, balanced and
// unbalanced (test/stats/statsmodels_blocked.py; skipped without statsmodels except under CI);
// Montgomery's RCBD example with its printed table and exact sums of squares from the textbook's
// computing formulas in integer arithmetic; and hand-worked degenerate inputs.
import { describe, expect, it } from "vitest";
import {
  type BlockedObservation,
  blockedAnova,
  blockingEfficiency,
  StatsInputError,
} from "../../src/stats/index.js";
import { makeRng, normal, runSeed } from "../helpers/rng.js";
import { expectClose, expectDigits } from "./close.js";
import { findPython, runReference, toNumber } from "./python-reference.js";

const SCRIPT = "test/stats/statsmodels_blocked.py";
const found = findPython(["scipy", "numpy", "statsmodels", "pandas"]);
const python = "python" in found ? found.python : null;
const missing =
  "why" in found
    ? `no python with scipy, numpy, statsmodels and pandas (${found.why}); setup.sh apt-installs them (python3-statsmodels), or set HALFWATT_PYTHON`
    : null;
if (missing && !process.env.CI)
  console.log(`blocked-anova.test.ts: statsmodels comparison skipped: ${missing}`);

describe("the statsmodels reference", () => {
  it.runIf(!!process.env.CI)("is available in CI", () => {
    if (missing) expect.fail(`CI is set but ${missing}`);
  });
});

interface Row {
  ss: unknown;
  df: unknown;
  f: unknown;
  p: unknown;
}
interface Reference {
  typeII: { treatment: Row; block: Row; residual: Row };
  typeI: { treatment: Row; block: Row; residual: Row };
  totalSs: unknown;
}

const seed = runSeed();
const rng = makeRng(seed);
const randInt = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));

/**
 * A random blocked data set: a treatments × b blocks × r runs per cell, a block effect that is
 * often large against the noise (as between two GPUs), at a random location and scale. Unbalanced:
 * runs dropped at random (each block keeps its run of the first treatment, so every treatment stays
 * linked to every block through it) and a few cells given extra runs.
 */
function randomDesign(balanced: boolean): BlockedObservation[] {
  for (;;) {
    const a = randInt(2, 5);
    const b = randInt(2, 5);
    const r = randInt(1, 3);
    const loc = (rng() - 0.5) * 10 ** randInt(0, 4);
    const scale = 10 ** (rng() * 4 - 2);
    const tau = Array.from(normal(rng, a), (x) => x * rng() * 2);
    const beta = Array.from(normal(rng, b), (x) => x * 10 ** (rng() * 2));
    // Labels in an order statsmodels (which sorts levels) does not share.
    const tName = (i: number) => `cfg-${String.fromCharCode(122 - i)}`;
    const bName = (j: number) => `host-${(j * 7) % 11} · GPU ${j}`;
    const obs: BlockedObservation[] = [];
    const add = (i: number, j: number) =>
      obs.push({
        treatment: tName(i),
        block: bName(j),
        value: loc + scale * (tau[i] + beta[j] + normal(rng, 1)[0]),
      });
    for (let j = 0; j < b; j++) for (let i = 0; i < a; i++) for (let k = 0; k < r; k++) add(i, j);
    if (balanced) {
      if (obs.length - a - b + 1 >= 1) return obs;
      continue;
    }
    const kept = obs.filter((o) => o.treatment === tName(0) || rng() > 0.3);
    const extra = randInt(0, 3);
    for (let k = 0; k < extra; k++) {
      const i = randInt(0, a - 1);
      const j = randInt(0, b - 1);
      kept.push({
        treatment: tName(i),
        block: bName(j),
        value: loc + scale * (tau[i] + beta[j] + normal(rng, 1)[0]),
      });
    }
    const present = new Set(kept.map((o) => o.treatment));
    // Every treatment still there, and at least one residual degree of freedom.
    if (present.size === a && kept.length - a - b + 1 >= 1 && kept.length !== obs.length) return kept;
  }
}

describe.skipIf(!python)(
  `agreement with statsmodels anova_lm typ=2 (seed ${seed}, HALFWATT_SEED replays)`,
  () => {
    const cases = [
      ...Array.from({ length: 12 }, () => ({ balanced: true, obs: randomDesign(true) })),
      ...Array.from({ length: 20 }, () => ({ balanced: false, obs: randomDesign(false) })),
    ];
    const ref = python
      ? runReference<Reference[]>(
          python,
          SCRIPT,
          cases.map((c) => ({
            t: c.obs.map((o) => o.treatment),
            b: c.obs.map((o) => o.block),
            y: c.obs.map((o) => o.value),
          })),
        )
      : [];

    it("treatment, block and residual rows: SS, df, F, p (1e-6 relative)", () => {
      const failures: string[] = [];
      /** Worst plain relative error per quantity, over values ≥ 1e-6 (for docs/statistics.md). */
      const worst = new Map<string, number>();
      cases.forEach((c, k) => {
        const mine = blockedAnova(c.obs);
        const theirs = ref[k].typeII;
        const scale = Math.max(...c.obs.map((o) => Math.abs(o.value)));
        const check = (what: string, actual: number, expected: unknown, abs = 1e-12) => {
          const e = toNumber(expected);
          const plain = actual === e ? 0 : Math.abs(actual - e) / Math.max(Math.abs(actual), Math.abs(e));
          if (Math.max(Math.abs(actual), Math.abs(e)) >= 1e-6)
            worst.set(what, Math.max(worst.get(what) ?? 0, plain));
          const ok = Math.abs(actual - e) <= Math.max(abs, 1e-6 * Math.max(Math.abs(actual), Math.abs(e)));
          if (!ok)
            failures.push(`case ${k} (${c.balanced ? "balanced" : "unbalanced"}) ${what}: ${actual} vs ${e}`);
        };
        // Sums of squares: absolute floor from double precision at the data's magnitude.
        const ssFloor = 1e-12 * scale * scale * c.obs.length;
        for (const row of ["treatment", "block"] as const) {
          check(`${row}.ss`, mine[row].ss, theirs[row].ss, ssFloor);
          check(`${row}.df`, mine[row].df, theirs[row].df);
          check(`${row}.f`, mine[row].f, theirs[row].f);
          check(`${row}.p`, mine[row].p, theirs[row].p);
        }
        check("residual.ss", mine.residual.ss, theirs.residual.ss, ssFloor);
        check("residual.df", mine.residual.df, theirs.residual.df);
        check("total.ss", mine.total.ss, ref[k].totalSs, ssFloor);
        expect(mine.balanced).toBe(c.balanced);
        expect(mine.sumsOfSquares).toBe("type II");
      });
      const versions = "python" in found ? found.versions : "";
      const summary = [...worst].map(([q, v]) => `${q} ${v.toExponential(1)}`).join(", ");
      console.log(`blocked-anova.test.ts: seed ${seed}, ${versions}; worst relative error: ${summary}`);
      expect(failures, `seed ${seed}`).toEqual([]);
    });

    it("the unbalanced cases tell type II from type I (sequential), so the comparison above can fail", () => {
      const differs = cases.filter((c, k) => {
        if (c.balanced) return false;
        const i = toNumber(ref[k].typeI.treatment.ss);
        const ii = toNumber(ref[k].typeII.treatment.ss);
        return Math.abs(i - ii) > 1e-4 * Math.max(Math.abs(i), Math.abs(ii));
      });
      expect(differs.length).toBeGreaterThan(cases.length / 4);
    });

    it("balanced: type I = type II, and treatment + block + residual = total", () => {
      cases.forEach((c, k) => {
        if (!c.balanced) return;
        const t = blockedAnova(c.obs);
        expectClose(
          toNumber(ref[k].typeI.treatment.ss),
          t.treatment.ss,
          "type I = II",
          1e-6,
          1e-9 * t.total.ss,
        );
        expectClose(t.treatment.ss + t.block.ss + t.residual.ss, t.total.ss, "SS add up", 1e-10);
      });
    });
  },
);

// Montgomery, Design and Analysis of Experiments (8th ed., 2013), Example 4.1 (Table 4.3):
// vascular-graft flicks by extrusion pressure (treatment, PSI) and batch of resin (block).
// Treatment totals 556.9, 550.1, 533.5, 514.6; block totals 350.8, 359.0, 364.0, 362.2, 341.3,
// 377.8; grand total 2155.1. Table 4.4 prints: pressure SS 178.17, df 3, MS 59.39, F 8.11,
// P 0.0019; batches SS 192.25, df 5, MS 38.45; error SS 109.89, df 15, MS 7.33; total 480.31, 23.
const PRESSURES = ["8500", "8700", "8900", "9100"];
const GRAFT = [
  [90.3, 89.2, 98.2, 93.9, 87.4, 97.9],
  [92.5, 89.5, 90.6, 94.7, 87.0, 95.8],
  [85.5, 90.8, 89.6, 86.2, 88.0, 93.4],
  [82.5, 89.5, 85.6, 87.4, 78.9, 90.7],
];
const graftObservations = (): BlockedObservation[] =>
  GRAFT.flatMap((row, i) =>
    row.map((value, j) => ({ treatment: PRESSURES[i], block: `batch ${j + 1}`, value })),
  );

/**
 * The textbook's computing formulas (Montgomery eqs. 4.9–4.11) in exact integer arithmetic on the
 * data in tenths: SS_T = Σ y_i.²/b − y..²/N, SS_B = Σ y_.j²/a − y..²/N, SS_total = Σ y² − y..²/N,
 * SS_E = SS_total − SS_T − SS_B. Each is an exact rational numerator over N·100.
 */
function exactGraft() {
  const a = 4n;
  const b = 6n;
  const tenths = GRAFT.map((row) => row.map((v) => BigInt(Math.round(v * 10))));
  const rowTotals = tenths.map((row) => row.reduce((s, v) => s + v, 0n));
  const colTotals = tenths[0].map((_, j) => tenths.reduce((s, row) => s + row[j], 0n));
  const grand = rowTotals.reduce((s, v) => s + v, 0n);
  const sq = (xs: bigint[]) => xs.reduce((s, v) => s + v * v, 0n);
  // Over the common denominator a·b·100: SS_T = (a·Σ y_i.² − y..²)/(ab·100), and so on.
  const t = a * sq(rowTotals) - grand * grand;
  const bl = b * sq(colTotals) - grand * grand;
  const total = a * b * sq(tenths.flat()) - grand * grand;
  const error = total - t - bl;
  const den = Number(a * b * 100n);
  return {
    grand,
    t: Number(t) / den,
    b: Number(bl) / den,
    total: Number(total) / den,
    e: Number(error) / den,
  };
}

describe("textbook: Montgomery's vascular-graft RCBD (Example 4.1, Table 4.4)", () => {
  // Computed in each test (not at collection) so that a throwing edit fails tests, not the file.
  let cached: ReturnType<typeof blockedAnova> | undefined;
  const table = () => {
    cached ??= blockedAnova(graftObservations());
    return cached;
  };
  const exact = exactGraft();

  it("the data match the printed totals", () => {
    expect(Number(exact.grand) / 10).toBe(2155.1);
  });

  it("sums of squares equal the exact computing formulas to 1e-10", () => {
    const r = table();
    expectClose(r.treatment.ss, exact.t, "SS pressure", 1e-10);
    expectClose(r.block.ss, exact.b, "SS batches", 1e-10);
    expectClose(r.residual.ss, exact.e, "SS error", 1e-10);
    expectClose(r.total.ss, exact.total, "SS total", 1e-10);
    expectClose(r.treatment.f, exact.t / 3 / (exact.e / 15), "F pressure", 1e-10);
    expectClose(r.block.f, exact.b / 5 / (exact.e / 15), "F batches", 1e-10);
  });

  it("matches the printed table to its digits", () => {
    const r = table();
    expect([r.treatment.df, r.block.df, r.residual.df, r.total.df]).toEqual([3, 5, 15, 23]);
    expectDigits(r.treatment.ss, 178.17, 2, "SS pressure");
    expectDigits(r.block.ss, 192.25, 2, "SS batches");
    expectDigits(r.residual.ss, 109.89, 2, "SS error");
    expectDigits(r.total.ss, 480.31, 2, "SS total");
    expectDigits(r.treatment.ms, 59.39, 2, "MS pressure");
    expectDigits(r.block.ms, 38.45, 2, "MS batches");
    expectDigits(r.residual.ms, 7.33, 2, "MS error");
    expectDigits(r.treatment.f, 8.11, 2, "F");
    expectDigits(r.treatment.p, 0.0019, 4, "P");
    expect(r.balanced).toBe(true);
    expect(r.treatments).toEqual(PRESSURES);
    expect(r.blocks).toHaveLength(6);
    expect(r.counts.flat().every((c) => c === 1)).toBe(true);
  });

  it("partial η² and the relative efficiency of blocking, from the exact sums of squares", () => {
    const r = table();
    expectClose(r.partialEtaSquared, exact.t / (exact.t + exact.e), "partial η²", 1e-10);
    // Montgomery's relative efficiency with a = 4, b = 6: df_b = 15 (RCBD error), df_r = a(b − 1)
    // = 20 (CRD error); σ̂²_r = [(b − 1)·MS_blocks + b(a − 1)·MS_E]/(ab − 1)
    // = [192.2521 + 18·7.32575]/23 = 14.09198; R = (16·23)/(18·21) · 14.09198/7.32575
    // = 0.973545 · 1.923623 = 1.87273: a CRD would need about 1.87 times the runs.
    const msE = exact.e / 15;
    const crd = (5 * (exact.b / 5) + 18 * msE) / 23;
    const want = ((16 * 23) / (18 * 21)) * (crd / msE);
    expectClose(r.relativeEfficiency, want, "relative efficiency", 1e-10);
    expectDigits(r.relativeEfficiency, 1.87273, 5, "relative efficiency (worked above)");
  });
});

describe("relative efficiency of blocking", () => {
  it("is < 1 when the blocks remove nothing (MS_blocks < MS_E) and > 1 when they remove much", () => {
    // a = 3, b = 4, one run per cell: df_t 2, df_b 3, df_e 6; df_r = 9.
    const base = { treatment: { df: 2 }, residual: { df: 6, ms: 1 } };
    // σ̂²_r = (SS_b + 8·1)/11; factor (7·12)/(9·10) = 0.93333.
    expectClose(
      blockingEfficiency({ ...base, block: { ss: 0, df: 3 } }),
      (84 / 90) * (8 / 11),
      "no block effect",
    );
    expectClose(
      blockingEfficiency({ ...base, block: { ss: 30, df: 3 } }),
      (84 / 90) * (38 / 11),
      "large block effect",
    );
  });
});

describe("properties", () => {
  it("adding a constant to every run of one block changes only the block row", () => {
    const obs = randomDesign(false);
    const before = blockedAnova(obs);
    // Far larger than the data's spread, so the block row must grow whatever the block's own effect.
    const values = obs.map((o) => o.value);
    const shift = 100 * (1 + rng()) * (Math.max(...values) - Math.min(...values));
    const shifted = obs.map((o) => (o.block === before.blocks[1] ? { ...o, value: o.value + shift } : o));
    const after = blockedAnova(shifted);
    const scale = before.total.ss;
    expectClose(after.treatment.ss, before.treatment.ss, "SS treatment", 1e-6, 1e-9 * scale);
    expectClose(after.residual.ss, before.residual.ss, "SS residual", 1e-6, 1e-9 * scale);
    expect(after.block.ss).toBeGreaterThan(before.block.ss);
  });

  it("order of the observations does not matter", () => {
    const obs = randomDesign(false);
    const a = blockedAnova(obs);
    const b = blockedAnova([...obs].reverse());
    expectClose(b.treatment.f, a.treatment.f, "F", 1e-10);
    expectClose(b.residual.ss, a.residual.ss, "SS residual", 1e-10);
  });

  it("values near 1e150 give the same F as the same data near 1 (power-of-two scaling)", () => {
    const obs = graftObservations();
    const big = blockedAnova(obs.map((o) => ({ ...o, value: o.value * 2 ** 500 })));
    const r = blockedAnova(obs);
    expect(big.treatment.f).toBe(r.treatment.f);
    expect(big.residual.ss).toBe(r.residual.ss * 2 ** 1000);
    expect(() => blockedAnova(obs.map((o) => ({ ...o, value: o.value * 1e200 })))).toThrow(
      expect.objectContaining({ code: "E_RANGE" }),
    );
  });
});

describe("degenerate input is refused with StatsInputError, by name", () => {
  const cell = (treatment: string, block: string, value: number) => ({ treatment, block, value });
  const refuses = (obs: BlockedObservation[], message: RegExp) => {
    expect(() => blockedAnova(obs)).toThrow(StatsInputError);
    expect(() => blockedAnova(obs)).toThrow(message);
  };

  it("one block", () => {
    refuses(
      [cell("a", "gpu0", 1), cell("b", "gpu0", 2), cell("a", "gpu0", 1.5), cell("b", "gpu0", 2.5)],
      /at least 2 blocks, got 1 \("gpu0"\): with one block use the one-way ANOVA/,
    );
  });

  it("one treatment, or none", () => {
    refuses(
      [cell("a", "g0", 1), cell("a", "g1", 2), cell("a", "g0", 3)],
      /at least 2 treatments, got 1 \("a"\)/,
    );
    refuses([], /at least 2 treatments, got 0/);
  });

  it("no residual degrees of freedom: 2 × 2 with one run missing", () => {
    refuses(
      [cell("a", "g0", 1), cell("b", "g0", 2), cell("a", "g1", 3)],
      /no residual degrees of freedom: 3 observations in 2 treatments × 2 blocks leave n − a − b \+ 1 = 0/,
    );
  });

  it("treatments that share no block (confounded)", () => {
    refuses(
      [
        cell("a", "g0", 1),
        cell("a", "g0", 1.2),
        cell("b", "g0", 2),
        cell("b", "g0", 2.3),
        cell("c", "g1", 3),
        cell("c", "g1", 3.1),
        cell("d", "g1", 4),
        cell("d", "g1", 4.4),
      ],
      /share no block \(\{a, b\} vs \{c, d\}\)/,
    );
  });

  it("an exact additive fit (zero residual)", () => {
    // y = treatment effect + block effect exactly: residual SS 0, F undefined.
    const obs = [0, 1, 2].flatMap((i) => [0, 10].map((j) => cell(`t${i}`, `g${j}`, i + j)));
    refuses(obs, /residual sum of squares is zero/);
  });

  it("NaN, infinite and non-number values, and empty labels, naming the observation", () => {
    const good = graftObservations();
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, "3" as unknown as number]) {
      const obs = good.map((o, i) => (i === 7 ? { ...o, value: bad } : o));
      refuses(obs, /observation 8 \(treatment "8700", block "batch 2"\): value is not a finite number/);
    }
    refuses(
      good.map((o, i) => (i === 2 ? { ...o, block: "" } : o)),
      /observation 3 .*the block label is empty/,
    );
    refuses(
      good.map((o, i) => (i === 0 ? { ...o, treatment: "" } : o)),
      /observation 1 .*the treatment label is empty/,
    );
  });
});
