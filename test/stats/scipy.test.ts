// Cross-check against SciPy on fresh random data every run (seed printed; HALFWATT_SEED replays).
// test/stats/scipy_reference.py computes the reference values; agreement must be 1e-6 relative
// (absolute floor 1e-12 for values near 0). Skipped, with the reason printed, without SciPy and
// statsmodels — except in CI (env CI set), where their absence fails the run (findPython).
import { spawnSync } from "node:child_process";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import {
  type Alternative,
  adjustPValues,
  anova,
  anovaPower,
  anovaSampleSize,
  brownForsythe,
  describe as describeSample,
  fSf,
  kurtosis,
  levene,
  noncentralFSf,
  noncentralTCdf,
  populationKurtosis,
  populationSkewness,
  populationVariance,
  type QuantileType,
  quantile,
  shapiroWilk,
  skewness,
  studentizedRangeCdf,
  studentizedRangeSf,
  type TTestKind,
  tSf,
  tTest,
  tTestPower,
  tTestSampleSize,
  tukeyHsd,
  varianceRatio,
  welchAnova,
} from "../../src/stats/index.js";
import { makeRng, normal, runSeed, uniform } from "../helpers/rng.js";
import { ABS, REL, relativeError } from "./close.js";

/**
 * The python that computes the references: HALFWATT_PYTHON when set (and then only it), else
 * `python3` on PATH, else /usr/bin/python3 — the first that imports scipy, numpy and statsmodels.
 * /usr/bin/python3 is where setup.sh apt-installs them (python3-scipy, python3-statsmodels);
 * a pyenv or venv python3 earlier on PATH often lacks them.
 */
function findPython(): { python: string; versions: string } | { why: string } {
  const env = process.env.HALFWATT_PYTHON;
  const candidates = env ? [env] : ["python3", "/usr/bin/python3"];
  const why: string[] = [];
  for (const python of candidates) {
    const r = spawnSync(
      python,
      [
        "-c",
        "import scipy, numpy, statsmodels; print(f'SciPy {scipy.__version__}, statsmodels {statsmodels.__version__}')",
      ],
      { encoding: "utf8" },
    );
    if (r.status === 0) return { python, versions: r.stdout.trim() };
    const err = r.error?.message ?? r.stderr.trim().split("\n").at(-1) ?? `exit ${r.status}`;
    why.push(`${python}${python === env ? " (HALFWATT_PYTHON)" : ""}: ${err}`);
  }
  return { why: why.join("; ") };
}

const found = findPython();
const python = "python" in found ? found.python : null;
const scipyVersion = "python" in found ? `${found.versions} (${found.python})` : null;
const missing =
  "why" in found
    ? `no python with scipy, numpy and statsmodels (${found.why}). Install them (setup.sh: apt-get ` +
      "install python3-scipy python3-statsmodels) or point HALFWATT_PYTHON at a python that has them"
    : null;
if (missing && !process.env.CI) console.log(`scipy.test.ts skipped: ${missing}`);

describe("the SciPy reference", () => {
  // Skipping is for a developer's machine; in CI a skipped comparison is a silent hole.
  it.runIf(!!process.env.CI)("is available in CI", () => {
    if (missing) expect.fail(`CI is set but ${missing}`);
  });
});

type Json = Record<string, unknown>;

function reference(requests: Json[]): Json[] {
  if (!python) throw new Error(`scipy.test.ts: ${missing}`);
  const r = spawnSync(python, ["test/stats/scipy_reference.py"], {
    input: JSON.stringify(requests),
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`scipy_reference.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function toNumber(x: unknown): number {
  if (x === "inf") return Number.POSITIVE_INFINITY;
  if (x === "-inf") return Number.NEGATIVE_INFINITY;
  if (x === "nan") return Number.NaN;
  return x as number;
}

const seed = runSeed();
const rng = makeRng(seed);
const randInt = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];

/** A random sample: normal or uniform, random location and scale, n values. */
function randomSample(n: number): number[] {
  const scale = 10 ** (rng() * 4 - 2);
  const loc = (rng() - 0.5) * 10 ** randInt(0, 4);
  const raw = rng() < 0.7 ? normal(rng, n) : uniform(rng, n);
  return Array.from(raw, (x) => loc + scale * x);
}

function randomGroups(k: number, nLo: number, nHi: number): number[][] {
  return Array.from({ length: k }, () => {
    const xs = randomSample(randInt(nLo, nHi));
    const shift = (rng() - 0.5) * 2 * (Math.max(...xs) - Math.min(...xs));
    return xs.map((x) => x + shift);
  });
}

const named = (gs: number[][]) => gs.map((values, i) => ({ name: `g${i}`, values }));

/** Worst relative error per quantity, reported after the run (for docs/statistics.md). */
const worst = new Map<string, number>();
const failures: string[] = [];
function compare(what: string, actual: number, expected: unknown, rel = REL, abs = ABS): void {
  const e = toNumber(expected);
  const err = relativeError(actual, e, abs);
  // Worst plain relative error, over values large enough (>= 1e-6) for it to mean something.
  const key = what.replace(/\[.*\]/, "");
  const plain = actual === e ? 0 : Math.abs(actual - e) / Math.max(Math.abs(actual), Math.abs(e));
  if (Math.max(Math.abs(actual), Math.abs(e)) >= 1e-6 || Number.isNaN(plain))
    worst.set(key, Math.max(worst.get(key) ?? 0, Number.isNaN(plain) ? Number.POSITIVE_INFINITY : plain));
  if (!(err <= rel))
    failures.push(`${what}: halfwatt ${actual} vs scipy ${e} (relative error ${err.toExponential(2)})`);
}

beforeEach(() => {
  failures.length = 0;
});

afterAll(() => {
  if (!scipyVersion) return;
  const rows = [...worst].map(([k, v]) => `  ${k.padEnd(34)} ${v.toExponential(1)}`);
  console.log(
    `scipy.test.ts: seed ${seed} (HALFWATT_SEED=${seed} replays), ${scipyVersion}; worst relative error:\n${rows.join("\n")}`,
  );
});

describe.skipIf(!scipyVersion)(`agreement with SciPy (seed ${seed})`, () => {
  it("describe: moments, shape statistics, quantiles types 4–9, t interval", () => {
    const probabilities = [0, 0.01, 0.1, 0.25, 0.5, 0.77, 0.9, 1];
    const samples = Array.from({ length: 12 }, () => randomSample(randInt(4, 80)));
    const ref = reference(samples.map((x) => ({ op: "describe", x, probabilities })));
    samples.forEach((x, i) => {
      const r = ref[i] as Json;
      const d = describeSample("x", x);
      for (const key of ["sum", "mean", "variance", "sd", "sem", "min", "max"] as const)
        compare(`describe.${key}`, d[key], r[key], REL, 1e-12 * Math.max(1, Math.abs(d.mean)));
      compare("describe.skewness", skewness(x), r.skewness);
      compare("describe.kurtosis", kurtosis(x), r.kurtosis);
      compare("describe.populationSkewness", populationSkewness(x), r.populationSkewness);
      compare("describe.populationKurtosis", populationKurtosis(x), r.populationKurtosis);
      compare("describe.populationVariance", populationVariance(x), r.populationVariance);
      compare("describe.ci95", d.ci95[0], (r.ci95 as number[])[0], REL, 1e-12 * Math.abs(d.mean));
      compare("describe.ci95", d.ci95[1], (r.ci95 as number[])[1], REL, 1e-12 * Math.abs(d.mean));
      const q = r.quantiles as Record<string, number[]>;
      for (const type of [4, 5, 6, 7, 8, 9] as QuantileType[])
        for (const [j, p] of probabilities.entries())
          compare(`quantile type ${type}`, quantile(x, p, type), q[type][j]);
    });
    expect(failures).toEqual([]);
  });

  it("Shapiro–Wilk W and p, n = 3 … 5000", () => {
    const sizes = [3, 4, 5, 6, 7, 9, 11, 12, 15, 25, 50, 120, 500, 2000, 5000, randInt(3, 300)];
    const samples = sizes.map((n) => {
      const x = randomSample(n);
      const lo = Math.min(...x);
      const range = Math.max(...x) - lo;
      return rng() < 0.3 ? x.map((v) => Math.exp((2 * (v - lo)) / range)) : x; // some skewed
    });
    const ref = reference(samples.map((x) => ({ op: "shapiro", x })));
    samples.forEach((x, i) => {
      const r = shapiroWilk(x);
      const s = ref[i] as Json;
      // s.w and s.p are null under SciPy < 1.11 (single-precision swilk); the full-precision
      // values below are always there.
      if (s.w !== null) compare(`shapiro.w vs scipy[n=${x.length}]`, r.w, s.w);
      // SciPy's swilk uses the 7-digit normal approximations AS 111 and AS 66 (R and halfwatt use
      // full-precision quantiles), which moves p by up to ~2e-6 relative at n = 5000: compare p with
      // SciPy at 1e-5, and with the full-precision algorithm (R's arithmetic) at 1e-6.
      if (s.p !== null) compare(`shapiro.p vs scipy[n=${x.length}]`, r.p, s.p, 1e-5);
      compare(`shapiro.w full precision[n=${x.length}]`, r.w, s.wFull);
      compare(`shapiro.p full precision[n=${x.length}]`, r.p, s.pFull);
    });
    expect(failures).toEqual([]);
  });

  it("Levene, Brown–Forsythe, F ratio, one-way and Welch ANOVA", () => {
    const cases = Array.from({ length: 15 }, () => randomGroups(randInt(2, 6), 3, 30));
    const ref = reference(
      cases.flatMap((gs) => [
        { op: "levene", groups: gs },
        { op: "anova", groups: gs, alpha: 0.05 },
        { op: "fRatio", a: gs[0], b: gs[1] },
      ]),
    );
    cases.forEach((gs, i) => {
      const [lev, an, fr] = ref.slice(3 * i, 3 * i + 3) as Json[];
      const groups = named(gs);
      const l = levene(groups);
      const bf = brownForsythe(groups);
      compare("levene.f", l.f, (lev.levene as Json).f);
      compare("levene.p", l.p, (lev.levene as Json).p);
      compare("brownForsythe.f", bf.f, (lev.brownForsythe as Json).f);
      compare("brownForsythe.p", bf.p, (lev.brownForsythe as Json).p);
      const a = anova(groups);
      compare("anova.f", a.f, an.fStable);
      // f_oneway forms SS_within as SS_total − SS_between in SciPy < 1.11 or so: relative error
      // ~ε·(1 + F) from the cancellation, which passes 1e-6 once F ≳ 1e9 (groups far apart).
      // anova.f above holds to the stable formula at 1e-6 regardless.
      compare(
        "anova.f vs f_oneway (absolute 1e-9)",
        a.f,
        an.f,
        Math.max(REL, 2 ** -52 * 16 * (1 + a.f)),
        1e-9,
      );
      compare("anova.p", a.p, an.p);
      compare("anova.ssBetween", a.between.ss, an.ssBetween);
      compare("anova.ssWithin", a.within.ss, an.ssWithin);
      compare("anova.fCritical", a.fCritical, an.fCritical);
      const w = welchAnova(groups);
      const wr = an.welch as Json;
      compare("welch.f", w.f, wr.f);
      compare("welch.f (formula)", w.f, wr.fFormula);
      compare("welch.df2", w.df2, wr.df2);
      compare("welch.p", w.p, wr.p);
      const v = varianceRatio(groups[0], groups[1]);
      compare("fRatio.f", v.f, fr.f);
      compare("fRatio.p", v.p, fr.p);
    });
    expect(failures).toEqual([]);
  });

  it("t-tests: paired, Student, Welch × two-sided, less, greater (t, df, p, CI)", () => {
    const kinds: TTestKind[] = ["paired", "student", "welch"];
    const alternatives: Alternative[] = ["two-sided", "less", "greater"];
    const cases = Array.from({ length: 24 }, () => {
      const kind = pick(kinds);
      const [a, b] = randomGroups(2, 2, 40);
      const n = Math.min(a.length, b.length);
      return {
        kind,
        alternative: pick(alternatives),
        alpha: pick([0.05, 0.01, 0.1]),
        ...(kind === "paired" ? { a: a.slice(0, n), b: b.slice(0, n) } : { a, b }),
      };
    });
    const ref = reference(cases.map((c) => ({ op: "ttest", ...c })));
    cases.forEach((c, i) => {
      const r = tTest(c.a, c.b, { kind: c.kind, alternative: c.alternative, alpha: c.alpha });
      const s = ref[i] as Json;
      const tag = `${c.kind} ${c.alternative}`;
      compare(`ttest.t (${tag})`, r.t, s.t);
      compare(`ttest.df (${tag})`, r.df, s.df);
      compare(`ttest.p (${tag})`, r.p, s.p);
      const scale = 1e-12 * Math.max(...c.a.map(Math.abs), ...c.b.map(Math.abs));
      compare(`ttest.ci (${tag})`, r.ci[0], (s.ci as unknown[])[0], REL, scale);
      compare(`ttest.ci (${tag})`, r.ci[1], (s.ci as unknown[])[1], REL, scale);
    });
    expect(failures).toEqual([]);
  });

  it("Tukey HSD (p and simultaneous intervals) and the studentized range distribution", () => {
    const cases = Array.from({ length: 6 }, () => randomGroups(randInt(2, 6), 2, 15));
    const ranges = Array.from({ length: 12 }, () => ({
      q: rng() * 7,
      k: randInt(2, 12),
      df: pick([1, 2, 3, 5, 10, 30, 120, 1000, randInt(2, 200)]),
    }));
    const ref = reference([
      ...cases.map((gs) => ({ op: "tukey", groups: gs, alpha: 0.05 })),
      ...ranges.map((r) => ({ op: "studentizedRange", ...r })),
    ]);
    cases.forEach((gs, i) => {
      const mine = tukeyHsd(named(gs)).comparisons;
      const theirs = ref[i] as unknown as Json[];
      mine.forEach((c, j) => {
        const s = theirs[j];
        const scale = 1e-12 * Math.max(...gs.flat().map(Math.abs));
        compare("tukey.meanDifference", c.meanDifference, s.meanDifference, REL, scale);
        // Absolute floor 1e-9: Debian 12's SciPy 1.10 integrates the studentized range's far tail
        // loosely (k = 2, df = 5, where Q = √2·|t| makes the exact p 2·t.sf: at t = 190 it gives
        // 6.39e-11 for the exact 7.66e-11), while ours integrates the upper tail directly.
        compare(
          `tukey.p[${c.a}−${c.b}, k=${gs.length}, df=${gs.flat().length - gs.length}]`,
          c.p,
          s.p,
          REL,
          1e-9,
        );
        compare("tukey.ci", c.ci[0], (s.ci as number[])[0], REL, scale);
        compare("tukey.ci", c.ci[1], (s.ci as number[])[1], REL, scale);
      });
    });
    ranges.forEach((r, i) => {
      const s = ref[cases.length + i] as Json;
      compare(`studentizedRange.sf[${JSON.stringify(r)}]`, studentizedRangeSf(r.q, r.k, r.df), s.sf);
      compare(`studentizedRange.cdf[${JSON.stringify(r)}]`, studentizedRangeCdf(r.q, r.k, r.df), s.cdf);
    });
    expect(failures).toEqual([]);
  });

  it("noncentral t / F and power and sample size (scipy nct/ncf in statsmodels' conventions, and statsmodels)", () => {
    const dists = Array.from({ length: 16 }, () => ({
      t: (rng() - 0.3) * 8,
      df: pick([2, 5, 10, 30, 100, 1000]) + rng(),
      nc: (rng() - 0.2) * 8,
      f: rng() * 6,
      d1: randInt(1, 10),
      d2: pick([3, 10, 50, 300]) + rng(),
      lambda: rng() * 40,
    }));
    const powers = Array.from({ length: 12 }, () => {
      const test = pick(["ttest", "anova"] as const);
      return {
        test,
        effect: test === "ttest" ? 0.2 + rng() * 1.2 : 0.1 + rng() * 0.5,
        groups: randInt(2, 6),
        alternative: pick(["two-sided", "less", "greater"] as const),
        n: randInt(3, 200),
        alpha: pick([0.05, 0.01, 0.1]),
        target: pick([0.8, 0.9, 0.95]),
      };
    }).map((p) => (p.test === "ttest" && p.alternative === "less" ? { ...p, effect: -p.effect } : p));
    const ref = reference([
      ...dists.map((d) => ({ op: "distributions", ...d })),
      ...powers.map((p) => ({ op: "power", ...p })),
    ]);
    dists.forEach((d, i) => {
      const s = ref[i] as Json;
      compare("nct.cdf", noncentralTCdf(d.t, d.df, d.nc), s.nctCdf, REL, 1e-13);
      compare("ncf.sf", noncentralFSf(d.f, d.d1, d.d2, d.lambda), s.ncfSf, REL, 1e-13);
      compare("t.sf", tSf(d.t, d.df), s.tSf);
      compare("f.sf", fSf(d.f, d.d1, d.d2), s.fSf);
    });
    powers.forEach((p, i) => {
      const s = ref[dists.length + i] as Json;
      const base = { effect: p.effect, alpha: p.alpha };
      if (p.test === "ttest") {
        const power = tTestPower({ ...base, n: p.n, alternative: p.alternative });
        compare("power (t-test)", power, s.power);
        compare("power (t-test) vs statsmodels", power, s.statsmodelsPower);
        const n = tTestSampleSize({ ...base, power: p.target, alternative: p.alternative });
        compare("nExact (t-test)", n.nExact, s.nExact);
        compare("nTotalExact (t-test)", n.nTotalExact, s.nTotalExact);
      } else {
        const power = anovaPower({ ...base, groups: p.groups, n: p.n });
        compare("power (ANOVA)", power, s.power);
        compare("power (ANOVA) vs statsmodels", power, s.statsmodelsPower);
        const n = anovaSampleSize({ ...base, groups: p.groups, power: p.target });
        compare("nExact (ANOVA)", n.nExact, s.nExact);
        compare("nTotalExact (ANOVA)", n.nTotalExact, s.nTotalExact);
      }
    });
    expect(failures).toEqual([]);
  });

  it("Bonferroni, Holm and Benjamini–Hochberg adjustments (scipy and statsmodels)", () => {
    const lists = Array.from({ length: 8 }, () => Array.from({ length: randInt(1, 30) }, () => rng() ** 3));
    const ref = reference(lists.map((p) => ({ op: "adjust", p })));
    lists.forEach((p, i) => {
      const s = ref[i] as Record<string, number[]> & { statsmodels: Record<string, number[]> };
      for (const method of ["bonferroni", "holm", "bh"] as const)
        for (const [j, v] of adjustPValues(p, method).entries()) {
          compare(`adjust.${method}`, v, s[method][j]);
          compare(`adjust.${method} vs statsmodels`, v, s.statsmodels[method][j]);
        }
    });
    expect(failures).toEqual([]);
  });
});
